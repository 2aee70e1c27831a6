package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a server under test, presence or the reference, run as a
// child process so that its memory and CPU time are its own. It serves
// /healthz and a metric counting activity frames on addr, and Go's
// profiles on debugAddr.
type server struct {
	name      string // for messages
	bin       string
	args      []string
	env       []string
	addr      string
	debugAddr string
	logPath   string
	// frames is the series that counts the activity frames it read.
	frames string

	cmd    *exec.Cmd
	exited chan struct{}
}

// The Go runtime's series, in presence's /metrics and the reference's:
// the live heap, and the goroutines' stacks.
const (
	heapMetric  = "go_memstats_heap_alloc_bytes"
	stackMetric = "go_memstats_stack_inuse_bytes"
)

// startTimeout bounds a server's start, until /healthz answers.
const startTimeout = 20 * time.Second

// httpClient talks to the servers' HTTP and debug endpoints.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// newPresence returns presence, not started, with store, signing with
// secret, logging into dir. Limits come with the tokens; presence ends
// no session early after it starts (-recovery-grace 0), so that warn
// lateness is the wheel's and not the grace's.
func newPresence(bin, store, dir string, secret []byte) (*server, error) {
	addr, debugAddr, err := twoFreeAddrs()
	if err != nil {
		return nil, err
	}
	return &server{
		name: "presence",
		bin:  bin,
		args: []string{"-addr", addr, "-store", store, "-debug-addr", debugAddr,
			"-max-tabs", "100000", "-recovery-grace", "0", "-log-level", "warn"},
		env:       append(os.Environ(), "PRESENCE_SECRET="+string(secret)),
		addr:      addr,
		debugAddr: debugAddr,
		logPath:   filepath.Join(dir, "presence.log"),
		frames:    `presence_frames_in_total{type="activity"}`,
	}, nil
}

// newReference returns the reference server, this program's ref
// subcommand, not started.
func newReference(dir string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to start the reference server: %w", err)
	}
	addr, debugAddr, err := twoFreeAddrs()
	if err != nil {
		return nil, err
	}
	return &server{
		name:      "reference",
		bin:       self,
		args:      []string{"-addr", addr, "-debug-addr", debugAddr},
		env:       append(os.Environ(), roleEnv+"=ref"),
		addr:      addr,
		debugAddr: debugAddr,
		logPath:   filepath.Join(dir, "reference.log"),
		frames:    refFramesMetric,
	}, nil
}

// freeAddr returns a loopback address with a port nothing listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the server and waits until it serves.
func (s *server) start(ctx context.Context) error {
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(s.cmd, s.exited)
	by := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited at start (%s); its log %s ends:\n%s", s.name, s.cmd.ProcessState, s.logPath, tail(s.logPath, 10))
		case <-ctx.Done():
			s.kill()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if resp, err := httpClient.Get("http://" + s.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(by) {
			s.kill()
			return fmt.Errorf("%s did not serve /healthz within %s; its log %s ends:\n%s", s.name, startTimeout, s.logPath, tail(s.logPath, 10))
		}
	}
}

// kill stops the server at once, as a crash would, and waits for it.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) cpu() (time.Duration, error) { return cpuTime(s.pid()) }

func (s *server) rss() (int64, error) { return rss(s.pid()) }

// get returns the body of url, or an error naming what failed.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

// metric returns the value of one series of the server's /metrics, as
// written there: name{labels}.
func (s *server) metric(ctx context.Context, series string) (float64, error) {
	body, err := get(ctx, "http://"+s.addr+"/metrics")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s's /metrics has no series %s", s.name, series)
}

// goroutines returns the server's count of goroutines.
func (s *server) goroutines(ctx context.Context) (int, error) {
	body, err := get(ctx, "http://"+s.debugAddr+"/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(body), "\n")
	n, ok := strings.CutPrefix(first, "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("%s's goroutine profile starts %q", s.name, first)
	}
	return strconv.Atoi(n)
}

// collect runs a garbage collection in the server, through its heap
// profile.
func (s *server) collect(ctx context.Context) error {
	_, err := get(ctx, "http://"+s.debugAddr+"/debug/pprof/heap?gc=1")
	return err
}

// saveProfile writes the server's profile at path (under /debug/pprof/)
// to file.
func (s *server) saveProfile(ctx context.Context, path, file string) error {
	body, err := get(ctx, "http://"+s.debugAddr+"/debug/pprof/"+path)
	if err != nil {
		return fmt.Errorf("profile %s: %w", path, err)
	}
	return os.WriteFile(file, body, 0o644)
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// twoFreeAddrs returns two loopback addresses with ports free now: a
// server's own and its debug listener's.
func twoFreeAddrs() (addr, debugAddr string, err error) {
	if addr, err = freeAddr(); err != nil {
		return "", "", err
	}
	debugAddr, err = freeAddr()
	return addr, debugAddr, err
}
