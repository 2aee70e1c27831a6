package hub

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// frameBuffers hold a frame while it is checked and decoded. An idle tab
// holds none: a buffer is taken once a frame has begun to arrive and given
// back once it is decoded, and decoding copies what it keeps.
var frameBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 512)
	return &b
}}

// reading is the state of a tab's reading between frames.
type reading struct {
	allowance float64 // frames the tab may send now (a token bucket)
	lastFrame time.Time
	badFrames int  // undecodable frames in a row
	failed    bool // the tab is being closed; frames are read and dropped
	// spareStack: the reading goroutine ends after this frame (see
	// serveTab), so a frame that needs a large stack may grow its own.
	spareStack bool
}

// read handles the tab's frames until the connection fails. After a fatal
// error it keeps reading, ignoring frames, so that the close handshake
// completes.
func (t *tab) read(rd *reading, cookieToken string) {
	for t.readFrame(rd, cookieToken) {
	}
}

// readFrame reads and handles one frame. It returns false once the
// connection has failed or closed.
func (t *tab) readFrame(rd *reading, cookieToken string) bool {
	// Not the registry's ctx: a Read whose ctx ends drops the
	// connection, and Shutdown cancels that ctx before it closes the
	// tabs with a handshake. Close drops every connection itself.
	typ, r, err := t.conn.Reader(context.Background())
	var data []byte
	buf := frameBuffers.Get().(*[]byte)
	if err == nil {
		data, err = readMessage(r, (*buf)[:0])
	}
	if err == nil {
		t.frame(rd, typ, data, cookieToken)
	}
	*buf = data[:0]
	frameBuffers.Put(buf)
	if err == nil {
		return true
	}
	if code := websocket.CloseStatus(err); code != -1 {
		// A close frame, the tab's or ours echoed: the end of a
		// connection, not an error.
		t.r.log.Debug("tab closed", zap.String("sid", t.sid()), zap.Int("code", int(code)))
	} else {
		t.r.log.Debug("tab dropped", zap.String("sid", t.sid()), zap.Error(err))
	}
	return false
}

// readMessage reads the rest of a message into buf, growing it as needed;
// the connection's read limit bounds it.
func readMessage(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// frame checks, decodes and handles one frame the tab sent.
func (t *tab) frame(rd *reading, typ websocket.MessageType, data []byte, cookieToken string) {
	now := t.r.opts.Clock.Now()
	t.lastHeard.Store(now.UnixNano())
	if rd.failed {
		return
	}
	fail := func(code, message string, close protocol.CloseCode, reason string) {
		t.sendError(code, message)
		t.closeAfter(close, reason)
		rd.failed = true
	}
	share := t.shareOfFrames()
	rd.allowance = min(rd.allowance+now.Sub(rd.lastFrame).Seconds()*protocol.FrameRate*share, protocol.FrameBurst*share)
	rd.lastFrame = now
	if rd.allowance < 1 {
		fail(protocol.CodeRateLimited, rateLimitMessage, protocol.ClosePolicyViolation, "too many frames")
		return
	}
	rd.allowance--

	if typ != websocket.MessageText {
		t.r.metrics.frameIn("")
		fail(protocol.CodeBinaryFrame, "frames must be JSON text, not binary", protocol.CloseUnsupportedData, "binary frame")
		return
	}
	if !utf8.Valid(data) {
		t.r.metrics.frameIn("")
		fail(protocol.CodeInvalidUTF8, "frames must be valid UTF-8", protocol.CloseInvalidPayload, "invalid UTF-8")
		return
	}
	f, err := protocol.DecodeClient(data)
	if err != nil {
		t.r.metrics.frameIn("")
		var pe *protocol.Error
		if !errors.As(err, &pe) {
			pe = &protocol.Error{Code: protocol.CodeBadJSON, Message: err.Error()}
		}
		rd.badFrames++
		switch {
		case t.hub == nil:
			fail(pe.Code, pe.Message, protocol.ClosePolicyViolation, "hello expected")
		case rd.badFrames >= maxBadFrames:
			fail(pe.Code, pe.Message, protocol.ClosePolicyViolation, "too many bad frames")
		default:
			t.sendError(pe.Code, pe.Message)
		}
		return
	}
	rd.badFrames = 0
	t.r.metrics.frameIn(f.Type)
	if f.Type == protocol.TypePong && t.hub != nil {
		return // lastHeard is already up to date
	}
	if f.Type == protocol.TypeTabs && t.hub != nil {
		t.hub.shareTabs(t, f.Tabs)
		// The tabs that joined bring their bursts: their hellos follow.
		rd.allowance += max(t.shareOfFrames()-share, 0) * protocol.FrameBurst
		return
	}
	if f.Type == protocol.TypeActivity && t.hub != nil {
		at := now.Add(-session.IdleMillis(f.IdleMS))
		t.noteOwnActivity(at)
		if t.hub.deferActivity(at) {
			return // kept for the hub's next flush: no store call, so no fresh stack
		}
	}
	if !t.r.withLargeStack(rd.spareStack, func() bool { return t.handle(f, cookieToken, now) }) {
		rd.failed = true
	}
}

// shareOfFrames is how many tabs' worth of frames (FrameRate, FrameBurst)
// the connection may send: a connection that tabs share carries theirs,
// up to MaxSharedAllowance.
func (t *tab) shareOfFrames() float64 {
	return float64(min(max(t.sharedTabs.Load(), 1), protocol.MaxSharedAllowance))
}
