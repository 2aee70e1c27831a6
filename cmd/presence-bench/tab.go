package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/protocol"
)

// tab is one browser tab of a worker: one session's token, and at most
// one connection at a time, read by a goroutine of its own. Times are
// Unix nanoseconds of the worker's clock, 0 for never.
type tab struct {
	index int // in its group, across workers
	sid   string
	token string
	local string // source address

	wmu  sync.Mutex // serializes writes to conn
	conn net.Conn
	gen  atomic.Int64 // counts connections; a reader updates only its own

	open       atomic.Bool
	openedAt   atomic.Int64 // the last connect's upgrade
	helloAt    atomic.Int64 // the last hello's write
	stateAt    atomic.Int64 // the first state frame after it
	warnAt     atomic.Int64 // the first warn frame after it
	lastActive atomic.Int64 // the person's last activity, by this tab
	deadline   atomic.Int64 // when the last hello's session is due to warn, if the scenario set one

	warns      atomic.Int32 // over the tab's life, across connections
	expires    atomic.Int32
	errors     atomic.Int32
	lastError  atomic.Pointer[string] // the code of the last error frame
	closeCode  atomic.Int32           // of the last connection; -1 dropped without a close frame
	reconnects atomic.Int32
}

// handshakeTimeout bounds a tab's connect and upgrade.
const handshakeTimeout = 10 * time.Second

// connect opens the tab's connection to addr and starts reading it. The
// tab must have no open connection.
func (t *tab) connect(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	c, err := dialer(t.local).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := c.Write(upgradeRequest(addr)); err != nil {
		c.Close()
		return fmt.Errorf("send upgrade: %w", err)
	}
	br := bufio.NewReaderSize(c, 512)
	if err := readUpgrade(br); err != nil {
		c.Close()
		return err
	}
	c.SetDeadline(time.Time{})
	t.wmu.Lock()
	t.conn = c
	gen := t.gen.Add(1)
	t.closeCode.Store(0)
	t.open.Store(true)
	t.openedAt.Store(time.Now().UnixNano())
	t.wmu.Unlock()
	go t.read(c, br, gen)
	return nil
}

// write sends one prebuilt frame on the tab's connection.
func (t *tab) write(frame []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.conn == nil {
		return net.ErrClosed
	}
	_, err := t.conn.Write(frame)
	return err
}

// hello says hello with the tab's token, idle for idleMS, and forgets
// the state and warn of the connection's earlier hello. now is the
// caller's reading of the clock just before: the server receives the
// frame after it, so now - idleMS is no later than the last activity the
// server takes from the frame.
func (t *tab) hello(now, idleMS int64) error {
	t.stateAt.Store(0)
	t.warnAt.Store(0)
	t.helloAt.Store(now)
	return t.write(textFrame(protocol.ClientFrame{Type: protocol.TypeHello, Token: t.token, IdleMS: idleMS}))
}

// close sends a close frame, 1001 as a browser leaving the page, and
// drops the connection without waiting for the server's answer.
func (t *tab) close() {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.conn == nil {
		return
	}
	t.conn.SetWriteDeadline(time.Now().Add(time.Second))
	t.conn.Write(closeFrame(1001))
	t.conn.Close()
	t.conn = nil
}

// pongFrame answers presence's application-level pings.
var pongFrame = textFrame(protocol.ClientFrame{Type: protocol.TypePong})

// read handles the frames of connection c, the tab's connection number
// gen, until it ends.
func (t *tab) read(c net.Conn, br *bufio.Reader, gen int64) {
	code := -1
	defer func() {
		c.Close()
		t.wmu.Lock()
		defer t.wmu.Unlock()
		if t.gen.Load() == gen {
			t.closeCode.Store(int32(code))
			t.open.Store(false)
		}
	}()
	var buf, msg []byte
	for {
		op, fin, payload, err := readFrame(br, buf[:0])
		if err != nil {
			return
		}
		buf = payload
		switch op {
		case opClose:
			code = closeCode(payload)
			t.wmu.Lock()
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(closeFrame(uint16(min(code, 4999))))
			t.wmu.Unlock()
			return
		case opPing:
			var key [4]byte
			frame := appendFrame(nil, opPong, payload, key)
			t.wmu.Lock()
			c.Write(frame)
			t.wmu.Unlock()
			continue
		case opText, opContinuation:
		default:
			continue
		}
		if !fin {
			msg = append(msg, payload...)
			continue
		}
		if len(msg) > 0 {
			payload = append(msg, payload...)
			msg = msg[:0]
		}
		t.frame(payload)
	}
}

// frame records one text frame from the server.
func (t *tab) frame(data []byte) {
	now := time.Now().UnixNano()
	f, err := protocol.DecodeServer(data)
	if err != nil {
		code := "undecodable"
		t.lastError.Store(&code)
		t.errors.Add(1)
		return
	}
	switch f.Type {
	case protocol.TypeState:
		t.stateAt.CompareAndSwap(0, now)
	case protocol.TypeWarn:
		t.warns.Add(1)
		t.warnAt.CompareAndSwap(0, now)
	case protocol.TypeExpire:
		t.expires.Add(1)
	case protocol.TypeError:
		t.errors.Add(1)
		t.lastError.Store(&f.Code)
	case protocol.TypePing:
		t.write(pongFrame)
	}
}
