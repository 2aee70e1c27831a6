package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/session"
)

// Scenario ping: keep-alive connections, each for a session of its own,
// send GET /ping with a Bearer token one after another for a window, as
// django-session-security's classic flow does (a ping without idleFor is
// activity now). The figures: requests a second, and the server's CPU
// time per request.

func (b *bench) ping(ctx context.Context, store string, srv *server, col column) error {
	b.progress.phase("%s: %d connections sending /ping for %s", store, b.cfg.pingConns, b.cfg.pingWindow)
	before, err := b.sample(ctx, srv, false)
	if err != nil {
		return err
	}
	clientBefore, err := b.pool.cpu()
	if err != nil {
		return err
	}
	prefix := "bench-" + b.newGroup(store+"-ping") + "-"
	results, err := do[pingResult](ctx, b.pool, "ping", func(k int) any {
		return pingSpec{Addr: srv.addr, Secret: b.secret, Prefix: prefix, Conns: b.cfg.pingConns,
			Stride: len(b.pool.workers), Offset: k, Duration: b.cfg.pingWindow}
	}, nil)
	if err != nil {
		return err
	}
	after, err := b.sample(ctx, srv, false)
	if err != nil {
		return err
	}
	clientAfter, err := b.pool.cpu()
	if err != nil {
		return err
	}
	requests, failed := 0, 0
	var first string
	for _, r := range results {
		requests += r.Requests
		failed += r.Failed
		if first == "" {
			first = r.FirstError
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d /ping requests failed; the first: %s", failed, first)
	}
	cpu := after.cpu - before.cpu
	col[keyPingRate] = float64(requests) / b.cfg.pingWindow.Seconds()
	col[keyPingCPU] = cpu.Seconds() / float64(requests) * 1e6
	wall := after.at.Sub(before.at).Seconds()
	col[keyPingCores] = cpu.Seconds() / wall
	col[keyPingClientCores] = (clientAfter - clientBefore).Seconds() / wall
	return nil
}

// pingSpec has a worker's share of Conns connections send /ping to Addr
// for Duration: connection i, for i = Offset, Offset+Stride, ..., with a
// token for session Prefix+i.
type pingSpec struct {
	Addr           string
	Secret         []byte
	Prefix         string
	Conns          int
	Stride, Offset int
	Duration       time.Duration
}

type pingResult struct {
	Requests, Failed int
	FirstError       string
}

func pingLoad(ctx context.Context, s pingSpec, _ func(int)) (pingResult, error) {
	var requests, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	fail := func(err error) {
		failed.Add(1)
		msg := err.Error()
		firstErr.CompareAndSwap(nil, &msg)
	}
	until := time.Now().Add(s.Duration)
	var wg sync.WaitGroup
	for i := s.Offset; i < s.Conns; i += s.Stride {
		token, err := session.Mint(s.Secret, session.Claims{SID: s.Prefix + strconv.Itoa(i), WarnAfter: quietWarnAfter, ExpireAfter: quietExpireAfter})
		if err != nil {
			return pingResult{}, err
		}
		req := []byte("GET /ping HTTP/1.1\r\nHost: " + s.Addr + "\r\nAuthorization: Bearer " + token + "\r\n\r\n")
		local := sourceAddrs[i%len(sourceAddrs)]
		wg.Go(func() {
			c, err := dialer(local).DialContext(ctx, "tcp", s.Addr)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 4096)
			for time.Now().Before(until) && ctx.Err() == nil {
				if err := pingOnce(c, br, req); err != nil {
					fail(err)
					return
				}
				requests.Add(1)
			}
		})
	}
	wg.Wait()
	res := pingResult{Requests: int(requests.Load()), Failed: int(failed.Load())}
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	return res, ctx.Err()
}

// pingOnce sends one request on a keep-alive connection and reads its
// answer, which must be 200 with a number of seconds: "logout" would mean
// the session or the token was refused.
func pingOnce(c net.Conn, br *bufio.Reader, req []byte) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	status, err := br.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("read /ping answer: %w", err)
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("/ping answered %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("read /ping headers: %w", err)
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			length, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	if length < 0 {
		return fmt.Errorf("/ping answered without Content-Length; the load tool reads only sized answers")
	}
	body, err := br.Peek(length)
	if err != nil {
		return fmt.Errorf("read /ping body: %w", err)
	}
	if len(body) == 0 || body[0] < '0' || body[0] > '9' {
		return fmt.Errorf("/ping answered %q, not a number of seconds", body)
	}
	br.Discard(length)
	return nil
}
