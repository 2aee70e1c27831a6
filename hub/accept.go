package hub

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// maxBadFrames closes a tab after this many undecodable frames in a row.
const maxBadFrames = 8

// rateLimitMessage is the error message of a tab that sent too many
// frames, with the limits it broke.
var rateLimitMessage = "too many frames; send at most " + strconv.Itoa(protocol.FrameRate) +
	" a second after a burst of " + strconv.Itoa(protocol.FrameBurst)

// ServeWS upgrades the request to a WebSocket speaking protocol v1 and
// serves the tab on a goroutine of its own until it closes. Mount it at
// /ws.
//
// The handler returns once the connection is upgraded, so that net/http
// lets go of the request, its headers and its buffers, and of the
// handler's goroutine: an idle tab keeps only what serving it needs.
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

	conn, err := websocket.Accept(smallBuffers{w}, req, &websocket.AcceptOptions{
		Subprotocols:   []string{protocol.Subprotocol},
		OriginPatterns: r.opts.OriginPatterns,
	})
	if err != nil {
		// Accept has answered the request with what was wrong.
		r.log.Debug("websocket refused", zap.Error(err))
		r.handlers.Done()
		return
	}
	go r.serveTab(conn, r.opts.ClientAddress(req), session.CookieToken(req))
}

// serveTab serves one upgraded connection until it closes. addr is the
// client's address, for the caps; cookieToken the token of the presence
// cookie, if the request had one.
//
// The first frame, the hello, is handled on this goroutine, whose stack
// verifying the token and calling the store may grow, and which then
// ends: the frames after it are read on a goroutine of their own, whose
// stack stays small all day (see onFreshStack).
func (r *Registry) serveTab(conn *websocket.Conn, addr, cookieToken string) {
	conn.SetReadLimit(r.opts.ReadLimit)
	if capped := r.caps.admit(addr); capped != "" {
		r.refuseTab(conn, capped)
		r.handlers.Done()
		return
	}
	t := &tab{r: r, conn: conn, seq: r.tabSeq.Add(1)}
	now := r.opts.Clock.Now()
	t.lastHeard.Store(now.UnixNano())
	if !r.addTab(t) {
		conn.Close(status(protocol.CloseServiceRestart), "server restarting")
		r.caps.release(addr)
		r.handlers.Done()
		return
	}
	t.keepalive = r.wheel.at(now.Add(r.opts.HelloTimeout), t.onKeepalive)

	rd := reading{allowance: protocol.FrameBurst, lastFrame: now, spareStack: true}
	if !t.readFrame(&rd, cookieToken) {
		t.end(addr)
		return
	}
	rd.spareStack = false
	go t.serve(rd, addr, cookieToken)
}

// serve reads the tab's frames after the first until the connection
// fails, then lets the tab go.
func (t *tab) serve(rd reading, addr, cookieToken string) {
	t.read(&rd, cookieToken)
	t.end(addr)
}

// end lets go of a tab whose connection failed: its hub, its connection,
// its keepalive, its place in the registry and the caps.
func (t *tab) end(addr string) {
	if t.hub != nil {
		t.hub.leave(t)
	}
	t.closeNow()
	t.keepalive.stop()
	t.r.removeTab(t)
	t.r.caps.release(addr)
	t.r.handlers.Done()
}

// refuseTab closes a new connection over a cap with 1013, saying which.
func (r *Registry) refuseTab(conn *websocket.Conn, capped string) {
	r.metrics.capped.WithLabelValues(capped).Inc()
	r.metrics.errors.WithLabelValues(protocol.CodeTooManyTabs).Inc()
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.WriteTimeout)
	defer cancel()
	msg := (&protocol.Error{Code: protocol.CodeTooManyTabs, Message: "this presence node holds as many tabs as it may (" + capped + "); reconnect later"}).AppendJSON(nil)
	conn.Write(ctx, websocket.MessageText, msg)
	conn.Close(status(protocol.CloseTryAgainLater), "too many tabs")
}

// handle acts on one decoded frame, received at received: the idle
// times a frame reports count from then, however long it then waits for
// a stack or the store. It reports false when the tab is being closed.
func (t *tab) handle(f protocol.ClientFrame, cookieToken string, received time.Time) bool {
	if f.Type == protocol.TypeHello {
		if t.hub != nil {
			t.sendError(protocol.CodeDuplicateHello, "hello was already received on this connection")
			return true
		}
		return t.hello(f, cookieToken, received.Add(-session.IdleMillis(f.IdleMS)))
	}
	if t.hub == nil {
		t.sendError(protocol.CodeHelloRequired, "the first frame must be hello")
		t.closeAfter(protocol.ClosePolicyViolation, "hello expected")
		return false
	}
	switch f.Type {
	case protocol.TypeActivity:
		t.report(received.Add(-session.IdleMillis(f.IdleMS)))
	case protocol.TypeExtend:
		t.report(received)
	case protocol.TypeLogout:
		t.logout()
	case protocol.TypePong:
		// lastHeard is already up to date.
	case protocol.TypeJoin:
		// A tab that joined the shared connection: its hello's activity,
		// by the rules of a hello.
		if !t.r.passiveHello(f) {
			t.report(received.Add(-session.IdleMillis(f.IdleMS)))
		}
	}
	return true
}

// onFreshStack runs f on a goroutine of its own and waits for it. A
// tab's reading goroutine parks in Read all day with the stack it grew
// to, and the runtime shrinks a stack only while less than a quarter of
// it is in use: verifying a token or calling the store from the reading
// goroutine would double an idle tab's stack for the rest of its life
// (BenchmarkTabStack). A frame that needs them costs a goroutine start
// and two switches instead (BenchmarkOnFreshStack).
//
// At most maxFreshStacks run at once; the others wait on their tab's
// small stack. Without the bound, a burst of hellos waiting on a slow
// store (a pool of Redis connections) would hold a grown stack each,
// thousands at once, and the runtime keeps the memory they freed.
func (r *Registry) onFreshStack(f func() bool) bool {
	return r.withLargeStack(false, f)
}

// withLargeStack runs f, which may need a large stack, and returns what
// it returns: on the caller's goroutine when spare says that goroutine
// ends after f (serveTab's, with the hello), else on a fresh one. Both
// count in maxFreshStacks.
func (r *Registry) withLargeStack(spare bool, f func() bool) bool {
	r.freshStacks <- struct{}{}
	defer func() { <-r.freshStacks }()
	if spare {
		return f()
	}
	return onFreshStack(f)
}

// maxFreshStacks bounds the goroutines onFreshStack runs at once: far
// more than the store's connections, so none waits for work.
const maxFreshStacks = 256

func onFreshStack(f func() bool) bool {
	result := make(chan bool, 1)
	go func() { result <- f() }()
	return <-result
}

// hello admits the tab to its session's hub, or closes it with 4401 for a
// bad token or 4410 for a session that has ended. active is the person's
// last activity the hello reports.
func (t *tab) hello(f protocol.ClientFrame, cookieToken string, active time.Time) bool {
	token, _ := session.HelloToken(f.Token, cookieToken)
	ctx, cancel := context.WithTimeout(t.r.ctx, storeTimeout)
	defer cancel()
	claims, err := t.r.VerifyToken(ctx, token)
	switch {
	case err != nil && t.r.ctx.Err() != nil:
		return false // the registry is closing this tab
	case err != nil && !isTokenError(err):
		t.sendError(protocol.CodeStoreUnavailable, "presence cannot reach its store; reconnect later")
		t.closeAfter(protocol.CloseInternalError, "store unavailable")
		return false
	case err != nil:
		t.r.log.Debug("token refused", zap.Error(err))
		t.r.CountRefusal(RefusedToken)
		t.sendError(TokenErrorCode(err), err.Error())
		t.closeAfter(protocol.CloseTokenRefused, "token refused")
		return false
	}
	t.claims = claims

	passive := t.r.passiveHello(f)
	if !passive {
		t.noteOwnActivity(active)
	}
	snap, err := t.r.join(ctx, t.sid(), t.r.idleSince(active), session.Terms{Limits: t.limits(), UID: claims.UID, EndAt: t.endAt()}, passive)
	if err != nil && t.r.ctx.Err() != nil {
		return false // the registry is closing this tab
	}
	if err != nil {
		t.r.storeFailed("tab refused", err)
		t.sendError(protocol.CodeStoreUnavailable, "presence cannot reach its store; reconnect later")
		t.closeAfter(protocol.CloseInternalError, "store unavailable")
		return false
	}
	if snap.Ended {
		t.r.take(t.sid(), t.limits(), claims.UID, snap)
		t.expire(snap.Reason)
		return false
	}
	// From here on the keepalive pings; it must be armed before admit
	// sends the state, after which the client may go quiet.
	t.startKeepalive(t.r.opts.Clock.Now())
	for {
		h := t.r.hubFor(t.sid(), t.limits(), claims.UID)
		ok, full, lifted := h.admit(t, snap, t.limits(), claims.UID)
		if !ok {
			continue
		}
		if full {
			t.r.metrics.capped.WithLabelValues(capSession).Inc()
			t.sendError(protocol.CodeTooManyTabs, "this session has as many tabs on this presence node as it may; reconnect later")
			t.closeAfter(protocol.CloseTryAgainLater, "too many tabs")
			return false
		}
		t.hub = h
		if lifted {
			t.r.nudge(t.sid())
		}
		break
	}
	t.r.log.Debug("tab joined", zap.String("sid", t.sid()), zap.Bool("passive", passive))
	return true
}

// join reads the session a new tab or report joins. It is activity idle
// ago, unless passive: then it only reads the session, and starts one the
// store does not know, idle ago.
func (r *Registry) join(ctx context.Context, sid string, idle time.Duration, terms session.Terms, passive bool) (session.Snapshot, error) {
	if passive {
		snap, err := r.store.Check(ctx, sid, terms.Limits)
		if err != nil || snap.Known || snap.Ended {
			return snap, err
		}
	}
	return r.store.Touch(ctx, sid, idle, terms)
}

// report records activity at at and updates every tab of the session:
// at once, or with the hub's next flush (see Options.FlushEvery).
func (t *tab) report(at time.Time) {
	t.noteOwnActivity(at)
	if t.hub.deferActivity(at) {
		return
	}
	at = t.hub.startWrite(at)
	defer t.hub.endWrite(at)
	ctx, cancel := context.WithTimeout(t.r.ctx, storeTimeout)
	defer cancel()
	snap, err := t.r.store.Touch(ctx, t.sid(), max(t.r.opts.Clock.Now().Sub(at), 0), session.Terms{Limits: t.limits(), EndAt: t.endAt()})
	if err != nil {
		t.r.storeFailed("activity kept until it is back", err)
		t.hub.remember(at)
		return
	}
	t.hub.written(at)
	t.hub.take(snap, nil)
}

// noteOwnActivity records activity at that the tab itself reported.
func (t *tab) noteOwnActivity(at time.Time) {
	if n := at.UnixNano(); n > t.ownActive.Load() {
		t.ownActive.Store(n) // only the tab's own frames write it, one at a time
	}
}

// logout ends the session in every tab.
func (t *tab) logout() {
	ctx, cancel := context.WithTimeout(t.r.ctx, storeTimeout)
	defer cancel()
	snap, err := t.r.store.End(ctx, t.sid(), session.ReasonLogout, t.limits())
	if err != nil {
		t.r.storeFailed("logout not recorded", err)
		t.sendError(protocol.CodeStoreUnavailable, "presence cannot reach its store; log out again")
		return
	}
	t.hub.take(snap, nil)
}

// isTokenError reports whether err is a refusal of the token itself,
// rather than the store's failure to answer.
func isTokenError(err error) bool {
	return errors.Is(err, session.ErrTokenMissing) || errors.Is(err, session.ErrTokenInvalid) || errors.Is(err, session.ErrTokenTooOld)
}

// TokenErrorCode returns the protocol code that names a token refusal by
// session.Verifier: token_missing, token_too_old, claims_invalid or
// token_invalid.
func TokenErrorCode(err error) string {
	var ce *session.ClaimsError
	switch {
	case errors.Is(err, session.ErrTokenMissing):
		return protocol.CodeTokenMissing
	case errors.Is(err, session.ErrTokenTooOld):
		return protocol.CodeTokenTooOld
	case errors.As(err, &ce):
		return protocol.CodeClaimsInvalid
	default:
		return protocol.CodeTokenInvalid
	}
}
