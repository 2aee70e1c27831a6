package soak

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// process is a server the soak starts, kills and starts again on the
// same address: a presence node or Redis.
type process struct {
	name string
	addr string // host:port
	args []string
	bin  string
	log  string // the file its output goes to
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *process) start() error {
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		out.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	return nil
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *process) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// stop asks the process to stop, and kills it after grace.
func (p *process) stop(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
	p.cmd = nil
}

// waitTCP waits until the process accepts connections.
func (p *process) waitTCP(ctx context.Context) error {
	for ctx.Err() == nil {
		if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited at start; see %s", p.name, p.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return ctx.Err()
}

// node is a presence node of the soak.
type node struct {
	process
}

func (n *node) base() string  { return "http://" + n.addr }
func (n *node) wsURL() string { return "ws://" + n.addr + "/ws" }

// waitReady waits until the node answers /readyz: it reaches its store.
func (n *node) waitReady(ctx context.Context) error {
	for ctx.Err() == nil {
		resp, err := http.Get(n.base() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("%s exited; see %s", n.name, n.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return ctx.Err()
}

// freeAddr returns a loopback address with a port free now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// newRedis describes a private redis-server that keeps its data in an
// append-only file, written to disk every second as in production, and
// on shutdown: one stopped and started again has lost nothing.
func newRedis(bin, dir string) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	data := filepath.Join(dir, "redis")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	return &process{name: "redis", addr: addr, bin: bin, log: filepath.Join(dir, "redis.log"), args: []string{
		"--port", port, "--bind", "127.0.0.1", "--dir", data, "--save", "",
		"--appendonly", "yes", "--appendfsync", "everysec",
	}}, nil
}

// newNode describes presence node i of the soak.
func newNode(cfg Config, i int, redisAddr, webhookURL, dir string) (*node, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &node{process{name: "node " + strconv.Itoa(i+1), addr: addr, bin: cfg.ServerBin,
		log: filepath.Join(dir, fmt.Sprintf("node%d.log", i+1)), args: []string{
			"-addr", addr,
			"-secret", string(soakSecret),
			"-api-key", soakAPIKey,
			"-store", "redis://" + redisAddr + "/0",
			"-webhook-url", webhookURL,
			"-warn-after", cfg.WarnAfter.String(),
			"-expire-after", cfg.ExpireAfter.String(),
			"-recovery-grace", cfg.RecoveryGrace.String(),
			"-log-level", "warn",
		}}}, nil
}
