package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// pool is the coordinator's side of the worker processes.
type pool struct {
	workers []*workerProc
	sources []string // the tabs' local addresses
	nextID  int
}

// workerProc is one worker process and the pipes to it.
type workerProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// roleEnv tells a copy of presence-bench what it is: "worker" or "ref".
const roleEnv = "PRESENCE_BENCH_ROLE"

// startPool starts n workers, copies of this executable.
func startPool(n int, sources []string) (*pool, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start workers: %w", err)
	}
	p := &pool{sources: sources}
	for range n {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), roleEnv+"=worker")
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		in, err := cmd.StdinPipe()
		if err != nil {
			p.close()
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			p.close()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			p.close()
			return nil, fmt.Errorf("start a worker: %w", err)
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		p.workers = append(p.workers, &workerProc{cmd: cmd, in: in, out: sc})
	}
	return p, nil
}

// cpu returns the CPU time the workers have used so far.
func (p *pool) cpu() (time.Duration, error) {
	var sum time.Duration
	for _, w := range p.workers {
		d, err := cpuTime(w.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// close ends the workers: they drop their tabs and exit once their stdin
// closes.
func (p *pool) close() {
	for _, w := range p.workers {
		w.in.Close()
	}
	for _, w := range p.workers {
		w.cmd.Wait()
	}
}

// do runs op on every worker at once, with spec(k) as worker k's spec,
// and decodes worker k's result into results[k], a slice of the result
// type. progress, if not nil, is called with the sum of the workers'
// latest progress counts.
func do[R any](ctx context.Context, p *pool, op string, spec func(k int) any, progress func(int)) ([]R, error) {
	p.nextID++
	id := p.nextID
	results := make([]R, len(p.workers))
	errs := make([]error, len(p.workers))
	counts := make([]int, len(p.workers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for k, w := range p.workers {
		raw, err := json.Marshal(spec(k))
		if err != nil {
			return nil, err
		}
		line, _ := json.Marshal(request{ID: id, Op: op, Spec: raw})
		if _, err := w.in.Write(append(line, '\n')); err != nil {
			return nil, fmt.Errorf("worker %d: %w", k, err)
		}
		wg.Go(func() {
			for w.out.Scan() {
				var rep reply
				if err := json.Unmarshal(w.out.Bytes(), &rep); err != nil {
					errs[k] = fmt.Errorf("worker %d: bad reply %q: %w", k, w.out.Text(), err)
					return
				}
				if rep.ID != id {
					continue
				}
				if rep.Progress != nil && progress != nil {
					mu.Lock()
					counts[k] = *rep.Progress
					sum := 0
					for _, c := range counts {
						sum += c
					}
					progress(sum)
					mu.Unlock()
				}
				if !rep.Done {
					continue
				}
				if rep.Error != "" {
					errs[k] = fmt.Errorf("worker %d: %s", k, rep.Error)
				} else if err := json.Unmarshal(rep.Result, &results[k]); err != nil {
					errs[k] = fmt.Errorf("worker %d: %s result: %w", k, op, err)
				}
				return
			}
			errs[k] = fmt.Errorf("worker %d exited during %s: %v", k, op, w.out.Err())
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, ctx.Err()
}
