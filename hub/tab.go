package hub

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// status converts a protocol close code for coder/websocket.
func status(c protocol.CloseCode) websocket.StatusCode { return websocket.StatusCode(c) }

// pingFrame is the same for every tab, so it is encoded once.
var pingFrame = protocol.Ping{}.AppendJSON(nil)

// tab is one browser tab's WebSocket. The goroutine running serveTab reads
// it; frames to it wait in queue and are written by a goroutine that lives
// only while the queue is not empty.
type tab struct {
	r    *Registry
	conn *websocket.Conn
	seq  uint64

	// Set by the reading goroutine at hello, before the tab joins a hub
	// and before helloed; read afterwards, under the hub's lock. Only the
	// wheel's goroutine changes claims.IssuedAt after hello, when it hands
	// the tab a fresh token. The claims name the session, its limits and
	// its logout URL (see sid and limits).
	claims session.Claims
	hub    *hub // read and written by the reading goroutine, or a frame's handler while it waits

	helloed atomic.Bool
	// sharedTabs is how many tabs of one browser the connection speaks
	// for, from its last tabs frame; 0 means one, its own. It sits in the
	// padding after helloed.
	sharedTabs atomic.Int32
	lastHeard  atomic.Int64 // unix nanoseconds on the node's clock
	// ownActive is the latest activity the tab itself reported, and
	// toldEnd the end it was last told of (a state or warn frame's instant
	// plus expire_in), both unix nanoseconds on the node's clock; toldEnd
	// is guarded by the hub's lock. See hub.refreshLocked.
	ownActive atomic.Int64
	toldEnd   int64
	keepalive *wheelTimer
	pingAt    time.Time // the next ping; the wheel's goroutine's after hello

	mu          sync.Mutex
	queue       [][]byte
	flushing    bool
	closed      bool               // takes no more frames
	closeCode   protocol.CloseCode // close with this once the queue is written
	closeReason string
}

// sid is the tab's session, from its hello.
func (t *tab) sid() string { return t.claims.SID }

// limits are the tab's session's limits, from its token. It reads only
// the limits' claims, which no goroutine changes after hello: the wheel's
// goroutine changes claims.IssuedAt (refreshToken) while the tab reports.
func (t *tab) limits() session.Limits {
	return session.Limits{
		WarnAfter:   time.Duration(t.claims.WarnAfter) * time.Second,
		ExpireAfter: time.Duration(t.claims.ExpireAfter) * time.Second,
	}
}

// endAt is the absolute end the tab's writes give the store: its token's,
// or Options.MaxLifetime's (Registry.endAt). It reads only the claim, which
// no goroutine changes after hello.
func (t *tab) endAt() time.Time {
	var end time.Time
	if t.claims.EndAt != 0 {
		end = time.Unix(t.claims.EndAt, 0)
	}
	return t.r.endAt(end)
}

// send queues frame for the tab. It never blocks: a tab whose queue is
// full is too slow for its session and is dropped.
func (t *tab) send(frame []byte, typ protocol.Type) {
	t.mu.Lock()
	if t.closed || t.closeCode != 0 {
		t.mu.Unlock()
		return
	}
	if len(t.queue) >= t.r.opts.SendQueue {
		t.closed = true
		t.queue = nil
		t.mu.Unlock()
		t.r.metrics.dropped.Inc()
		go t.conn.CloseNow()
		return
	}
	t.queue = append(t.queue, frame)
	start := !t.flushing
	t.flushing = true
	t.mu.Unlock()
	t.r.metrics.frameOut(typ)
	if start {
		go t.flush()
	}
}

// sendError queues an error frame.
func (t *tab) sendError(code, message string) {
	t.r.metrics.errors.WithLabelValues(code).Inc()
	t.send((&protocol.Error{Code: code, Message: message}).AppendJSON(nil), protocol.TypeError)
}

// closeAfter closes the tab with code once every queued frame is written.
func (t *tab) closeAfter(code protocol.CloseCode, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.closeCode != 0 {
		return
	}
	t.closeCode, t.closeReason = code, reason
	if !t.flushing {
		t.flushing = true
		go t.flush()
	}
}

// expire tells the tab its session is over and closes it with 4410.
func (t *tab) expire(reason session.Reason) {
	frame := protocol.Expire{Reason: protocol.Reason(reason), RedirectURL: t.claims.LogoutURL}.AppendJSON(nil)
	// The frame and the close are queued at once, so that no frame (a
	// ping, a fresh token) slips in after the tab heard of the end. It is
	// the last frame: it may go one over the send queue's bound.
	t.mu.Lock()
	if t.closed || t.closeCode != 0 {
		t.mu.Unlock()
		return
	}
	t.queue = append(t.queue, frame)
	t.closeCode, t.closeReason = protocol.CloseSessionEnded, "session ended"
	start := !t.flushing
	t.flushing = true
	t.mu.Unlock()
	t.r.metrics.frameOut(protocol.TypeExpire)
	if start {
		go t.flush()
	}
}

// flush writes the queue, then the pending close, and exits.
func (t *tab) flush() {
	for {
		t.mu.Lock()
		if t.closed {
			t.queue, t.flushing = nil, false
			t.mu.Unlock()
			return
		}
		if len(t.queue) == 0 {
			code, reason := t.closeCode, t.closeReason
			if code != 0 {
				t.closed = true
			}
			t.flushing = false
			t.mu.Unlock()
			if code != 0 {
				t.conn.Close(status(code), reason)
			}
			return
		}
		frame := t.queue[0]
		t.queue[0] = nil
		t.queue = t.queue[1:]
		t.mu.Unlock()

		// Not the registry's ctx: Shutdown cancels that first, and still
		// needs the tab's close frame written. Close drops the connection.
		// A timer, not a context with a timeout: the connection keeps the
		// context of its last write until the next one, and an idle tab
		// would hold that context, its timer and its channel all day.
		late := time.AfterFunc(t.r.opts.WriteTimeout, t.closeNow)
		err := t.conn.Write(context.Background(), websocket.MessageText, frame)
		late.Stop()
		if err != nil {
			t.closeNow()
			return
		}
	}
}

// closeNow drops the connection without a close handshake.
func (t *tab) closeNow() {
	t.mu.Lock()
	t.closed, t.queue = true, nil
	t.mu.Unlock()
	t.conn.CloseNow()
}

// closeGracefully closes with a handshake, dropping queued frames.
func (t *tab) closeGracefully(code protocol.CloseCode, reason string) {
	t.mu.Lock()
	t.closed, t.queue = true, nil
	t.mu.Unlock()
	t.conn.Close(status(code), reason)
}

// onKeepalive runs on the wheel's goroutine and must not block. Before
// hello it enforces the hello timeout; after, it pings the tab when its
// ping is due, hands it a fresh token when its own is due, and closes it
// once it has been silent too long.
func (t *tab) onKeepalive() {
	o := &t.r.opts
	now := o.Clock.Now()
	if !t.helloed.Load() {
		t.sendError(protocol.CodeHelloTimeout, "send hello within "+o.HelloTimeout.String()+" of connecting")
		t.closeAfter(protocol.ClosePolicyViolation, "no hello in time")
		return
	}
	heard := time.Unix(0, t.lastHeard.Load())
	if now.Sub(heard) >= o.SilenceTimeout {
		t.r.metrics.errors.WithLabelValues(protocol.CodeSilent).Inc()
		t.closeAfter(protocol.ClosePolicyViolation, "no frame for "+o.SilenceTimeout.String())
		return
	}
	if !now.Before(t.pingAt) {
		t.send(pingFrame, protocol.TypePing)
		t.pingAt = t.nextPing(now)
	}
	t.refreshToken(now)
	t.keepalive.reset(t.nextKeepalive(heard))
}

// startKeepalive arms the keepalive once hello is accepted. It runs on the
// reading goroutine, before helloed is set.
func (t *tab) startKeepalive(now time.Time) {
	t.pingAt = t.nextPing(now)
	t.helloed.Store(true)
	t.keepalive.reset(t.nextKeepalive(now))
}

// nextPing is the tab's next ping, jittered so that tabs that connected
// together do not ping together.
func (t *tab) nextPing(now time.Time) time.Time {
	every := t.r.opts.PingEvery
	jitter := time.Duration(rand.Int64N(int64(every)*2/5+1)) - every/5
	return now.Add(every + jitter)
}

// nextKeepalive is the sooner of the tab's next ping, its silence
// deadline and its token's refresh.
func (t *tab) nextKeepalive(heard time.Time) time.Time {
	next := t.pingAt
	if silence := heard.Add(t.r.opts.SilenceTimeout); silence.Before(next) {
		next = silence
	}
	if refresh := t.r.refreshAt(t.claims.IssuedAt); refresh.Before(next) {
		next = refresh
	}
	return next
}
