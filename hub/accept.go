package hub

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// TokenCookie is the cookie that may carry a token instead of hello.
const TokenCookie = "presence"

// A tab may send frameBurst frames at once and frameRate a second after
// that. The client sends a few frames a minute; more is a broken or
// hostile client, which is closed before it costs other sessions.
const (
	frameBurst = 20
	frameRate  = 5
)

// maxBadFrames closes a tab after this many undecodable frames in a row.
const maxBadFrames = 8

// maxIdle caps a reported idle time so that it fits a time.Duration.
const maxIdle = 100 * 365 * 24 * time.Hour

// ServeWS upgrades the request to a WebSocket speaking protocol v1 and
// serves the tab until it closes. Mount it at /ws.
func (r *Registry) ServeWS(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.closing.Load() {
		r.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		http.Error(w, "presence is restarting; reconnect shortly", http.StatusServiceUnavailable)
		return
	}
	r.handlers.Add(1)
	r.mu.Unlock()
	defer r.handlers.Done()

	conn, err := websocket.Accept(w, req, &websocket.AcceptOptions{
		Subprotocols:   []string{protocol.Subprotocol},
		OriginPatterns: r.opts.OriginPatterns,
	})
	if err != nil {
		// Accept has answered the request with what was wrong.
		r.log.Debug("websocket refused", zap.Error(err))
		return
	}
	conn.SetReadLimit(r.opts.ReadLimit)

	t := &tab{r: r, conn: conn, seq: r.tabSeq.Add(1)}
	now := r.opts.Clock.Now()
	t.lastHeard.Store(now.UnixNano())
	if !r.addTab(t) {
		conn.Close(statusServiceRestart, "server restarting")
		return
	}
	defer r.removeTab(t)
	t.keepalive = r.wheel.at(now.Add(r.opts.HelloTimeout), t.onKeepalive)
	defer t.keepalive.stop()

	var cookieToken string
	if c, err := req.Cookie(TokenCookie); err == nil {
		cookieToken = c.Value
	}
	t.read(cookieToken)
	if t.hub != nil {
		t.hub.leave(t)
	}
	t.closeNow()
}

// read handles the tab's frames until the connection fails. After a fatal
// error it keeps reading, ignoring frames, so that the close handshake
// completes.
func (t *tab) read(cookieToken string) {
	var (
		allowance = float64(frameBurst)
		lastFrame = t.r.opts.Clock.Now()
		badFrames = 0
		failed    = false
	)
	fail := func(code, message string, status websocket.StatusCode, reason string) {
		t.sendError(code, message)
		t.closeAfter(status, reason)
		failed = true
	}
	for {
		typ, data, err := t.conn.Read(context.Background())
		if err != nil {
			t.r.log.Debug("tab closed", zap.String("sid", t.sid), zap.Error(err))
			return
		}
		now := t.r.opts.Clock.Now()
		t.lastHeard.Store(now.UnixNano())
		if failed {
			continue
		}
		allowance = min(allowance+now.Sub(lastFrame).Seconds()*frameRate, frameBurst)
		lastFrame = now
		if allowance < 1 {
			fail("rate_limited", "too many frames; send at most 5 a second", websocket.StatusPolicyViolation, "too many frames")
			continue
		}
		allowance--

		if typ != websocket.MessageText {
			t.r.metrics.frameIn("")
			fail("binary_frame", "frames must be JSON text, not binary", websocket.StatusUnsupportedData, "binary frame")
			continue
		}
		if !utf8.Valid(data) {
			t.r.metrics.frameIn("")
			fail("invalid_utf8", "frames must be valid UTF-8", websocket.StatusInvalidFramePayloadData, "invalid UTF-8")
			continue
		}
		f, err := protocol.DecodeClient(data)
		if err != nil {
			t.r.metrics.frameIn("")
			var pe *protocol.Error
			if !errors.As(err, &pe) {
				pe = &protocol.Error{Code: protocol.CodeBadJSON, Message: err.Error()}
			}
			badFrames++
			switch {
			case t.hub == nil:
				fail(pe.Code, pe.Message, websocket.StatusPolicyViolation, "hello expected")
			case badFrames >= maxBadFrames:
				fail(pe.Code, pe.Message, websocket.StatusPolicyViolation, "too many bad frames")
			default:
				t.sendError(pe.Code, pe.Message)
			}
			continue
		}
		badFrames = 0
		t.r.metrics.frameIn(f.Type)
		if !t.handle(f, cookieToken) {
			failed = true
		}
	}
}

// handle acts on one decoded frame. It reports false when the tab is being
// closed.
func (t *tab) handle(f protocol.ClientFrame, cookieToken string) bool {
	if f.Type == protocol.TypeHello {
		if t.hub != nil {
			t.sendError("duplicate_hello", "hello was already received on this connection")
			return true
		}
		return t.hello(f, cookieToken)
	}
	if t.hub == nil {
		t.sendError("hello_required", "the first frame must be hello")
		t.closeAfter(websocket.StatusPolicyViolation, "hello expected")
		return false
	}
	switch f.Type {
	case protocol.TypeActivity:
		t.report(idleDuration(f.IdleMS))
	case protocol.TypeExtend:
		t.report(0)
	case protocol.TypeLogout:
		t.logout()
	case protocol.TypePong:
		// lastHeard is already up to date.
	}
	return true
}

// hello admits the tab to its session's hub, or closes it with 4401 for a
// bad token or 4410 for a session that has ended.
func (t *tab) hello(f protocol.ClientFrame, cookieToken string) bool {
	token := f.Token
	if token == "" {
		token = cookieToken
	}
	claims, err := t.r.opts.Verifier.Verify(token)
	if err != nil {
		t.r.log.Debug("token refused", zap.Error(err))
		t.sendError(tokenErrorCode(err), err.Error())
		t.closeAfter(statusTokenRefused, "token refused")
		return false
	}
	t.sid, t.lim, t.logoutURL = claims.SID, claims.Limits(), claims.LogoutURL

	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	passive := f.Passive || t.r.passive(f.Path)
	snap, err := t.r.join(ctx, t.sid, idleDuration(f.IdleMS), t.lim, passive)
	if err != nil {
		t.r.log.Warn("store unavailable; tab refused", zap.Error(err))
		t.sendError("store_unavailable", "presence cannot reach its store; reconnect later")
		t.closeAfter(websocket.StatusInternalError, "store unavailable")
		return false
	}
	if snap.Ended {
		t.r.observe(t.sid, t.lim, claims.UID, snap)
		t.expire(snap.Reason)
		return false
	}
	// From here on the keepalive pings; it must be armed before admit
	// sends the state, after which the client may go quiet.
	t.helloed.Store(true)
	now := t.r.opts.Clock.Now()
	t.keepalive.reset(t.nextKeepalive(now, now))
	for {
		h := t.r.hubFor(t.sid, t.lim, claims.UID)
		ok, lifted := h.admit(t, snap, t.lim, claims.UID)
		if !ok {
			continue
		}
		t.hub = h
		if lifted {
			t.r.publish(t.sid)
		}
		break
	}
	return true
}

// join reads the session a new tab joins. A tab's hello is activity
// idle ago, unless the page is passive: then it only reads the session,
// and starts one presence has not seen, idle ago.
func (r *Registry) join(ctx context.Context, sid string, idle time.Duration, lim session.Limits, passive bool) (session.Snapshot, error) {
	if passive {
		snap, err := r.opts.Store.Check(ctx, sid, lim)
		if err != nil || snap.Known || snap.Ended {
			return snap, err
		}
	}
	return r.opts.Store.Touch(ctx, sid, idle, lim)
}

// report records activity idle ago and updates every tab of the session.
func (t *tab) report(idle time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	snap, err := t.r.opts.Store.Touch(ctx, t.sid, idle, t.lim)
	if err != nil {
		t.r.log.Warn("store unavailable; activity kept until it is back", zap.Error(err))
		t.hub.remember(t.r.opts.Clock.Now().Add(-idle))
		return
	}
	t.r.observe(t.sid, t.lim, "", snap)
}

// logout ends the session in every tab.
func (t *tab) logout() {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	snap, err := t.r.opts.Store.End(ctx, t.sid, session.ReasonLogout, t.lim)
	if err != nil {
		t.r.log.Warn("store unavailable; logout not recorded", zap.Error(err))
		t.sendError("store_unavailable", "presence cannot reach its store; log out again")
		return
	}
	t.r.observe(t.sid, t.lim, "", snap)
}

// tokenErrorCode names a token refusal for the error frame.
func tokenErrorCode(err error) string {
	var ce *session.ClaimsError
	switch {
	case errors.Is(err, session.ErrTokenMissing):
		return "token_missing"
	case errors.Is(err, session.ErrTokenTooOld):
		return "token_too_old"
	case errors.As(err, &ce):
		return "claims_invalid"
	default:
		return "token_invalid"
	}
}

func idleDuration(ms int64) time.Duration {
	switch {
	case ms <= 0:
		return 0
	case ms >= maxIdle.Milliseconds():
		return maxIdle
	}
	return time.Duration(ms) * time.Millisecond
}
