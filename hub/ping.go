package hub

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// ServePing answers django-session-security's classic ping: a bare JSON
// integer, the seconds since the session's last activity across all tabs,
// or the JSON string "logout". Mount it at /ping. The token comes from the
// presence cookie or an Authorization: Bearer header, never the URL.
// Pages of the allowed origins may call it cross-origin, with credentials;
// a request from any other origin is refused before it counts.
func (r *Registry) ServePing(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != http.MethodOptions {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "use GET or HEAD", http.StatusMethodNotAllowed)
		return
	}
	if !r.cors(w, req, "GET, HEAD") {
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")

	claims, err := r.opts.Verifier.Verify(requestToken(req))
	if err != nil {
		r.log.Debug("ping refused", zap.String("code", tokenErrorCode(err)), zap.Error(err))
		r.metrics.pings.WithLabelValues("logout").Inc()
		writePing(w, `"logout"`)
		return
	}
	lim := claims.Limits()

	ctx, cancel := context.WithTimeout(req.Context(), storeTimeout)
	defer cancel()
	var snap session.Snapshot
	if idle, ok := parseIdleFor(req); ok {
		snap, err = r.opts.Store.Touch(ctx, claims.SID, idle, lim)
	} else {
		// An idleFor that does not parse changes nothing, but the first
		// request of a session still starts it.
		snap, err = r.opts.Store.Check(ctx, claims.SID, lim)
		if err == nil && !snap.Known {
			snap, err = r.opts.Store.Touch(ctx, claims.SID, 0, lim)
		}
	}
	if err != nil {
		r.log.Warn("store unavailable; ping not answered", zap.Error(err))
		r.metrics.pings.WithLabelValues("error").Inc()
		r.metrics.errors.WithLabelValues("store_unavailable").Inc()
		hdr.Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		writePing(w, `{"error":"store_unavailable","message":"presence cannot reach its store; ping again shortly"}`)
		return
	}
	r.observe(claims.SID, lim, claims.UID, snap)
	if snap.Ended {
		r.metrics.pings.WithLabelValues("logout").Inc()
		writePing(w, `"logout"`)
		return
	}
	r.metrics.pings.WithLabelValues("idle").Inc()
	writePing(w, strconv.FormatInt(int64(snap.Idle()/time.Second), 10))
}

func writePing(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write([]byte(body))
}

// parseIdleFor reads idleFor as django-session-security does: absent means
// activity now, a negative value counts as 0, and a value that does not
// parse as an integer is ignored (ok false).
func parseIdleFor(req *http.Request) (time.Duration, bool) {
	q := req.URL.Query()
	if !q.Has("idleFor") {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(q.Get("idleFor")), 10, 64)
	if err != nil {
		return 0, false
	}
	switch {
	case n <= 0:
		return 0, true
	case n >= int64(maxIdle/time.Second):
		return maxIdle, true
	}
	return time.Duration(n) * time.Second, true
}

// requestToken returns the Bearer token, else the presence cookie.
func requestToken(req *http.Request) string {
	if auth := req.Header.Get("Authorization"); auth != "" {
		if scheme, token, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
	}
	if c, err := req.Cookie(TokenCookie); err == nil {
		return c.Value
	}
	return ""
}
