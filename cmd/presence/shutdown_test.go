package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// startProcess runs presence as a process on a free loopback port with
// env, waits until it serves, and returns its address. Its logs go on
// being collected in logs.
func startProcess(t *testing.T, env ...string) (addr string, cmd *exec.Cmd, logs *syncBuffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	cmd = presenceProcess(t, append([]string{"PRESENCE_SECRET=" + goodSecret, "PRESENCE_ADDR=" + addr}, env...))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	logs = &syncBuffer{}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		logs.Write([]byte(lines.Text() + "\n"))
		if strings.Contains(lines.Text(), "presence serving") {
			break
		}
	}
	go io.Copy(logs, stderr)
	return addr, cmd, logs
}

// stopWithin sends SIGTERM to cmd and fails unless it exits with status 0
// within limit.
func stopWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration, logs *syncBuffer) {
	t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("presence exited with %v, want status 0; logs:\n%s", err, logs.String())
		}
	case <-time.After(limit + 2*time.Second):
		t.Fatalf("presence still running %s after SIGTERM; logs:\n%s", limit+2*time.Second, logs.String())
	}
	if took := time.Since(start); took > limit {
		t.Errorf("exit took %s after SIGTERM, want under %s", took, limit)
	}
}

func TestSIGTERMStopsGracefully(t *testing.T) {
	addr, cmd, logs := startProcess(t)
	conn := dialTab(t, "http://"+addr)
	readErr := make(chan error, 1)
	go func() {
		_, _, err := conn.Read(context.Background())
		readErr <- err
	}()
	stopWithin(t, cmd, 10*time.Second, logs)
	if status := websocket.CloseStatus(<-readErr); status != websocket.StatusCode(protocol.CloseServiceRestart) {
		t.Errorf("tab closed with %d, want 1012", status)
	}
}

// blackHole accepts connections and never answers them: a store that
// hangs, as a Redis behind a dead network path does.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				io.Copy(io.Discard, conn) // until presence goes away
			}()
		}
	}()
	return ln.Addr().String()
}

// With a store that hangs, tabs waiting on it at hello and pings waiting
// on it, SIGTERM still ends the process within 10 s.
func TestSIGTERMWithAHangingStore(t *testing.T) {
	addr, cmd, logs := startProcess(t, "PRESENCE_STORE=redis://"+blackHole(t)+"/0")
	base := "http://" + addr
	tok, err := session.Mint([]byte(goodSecret), session.Claims{SID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 3 {
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{Subprotocols: []string{protocol.Subprotocol}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		if err := conn.Write(ctx, websocket.MessageText, protocol.ClientFrame{Type: protocol.TypeHello, Token: tok}.AppendJSON(nil)); err != nil {
			t.Fatal(err)
		}
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/ping", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond) // the hellos and pings are waiting on the store
	stopWithin(t, cmd, 10*time.Second, logs)
}
