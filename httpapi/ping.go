package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// ping answers django-session-security's classic ping: a bare JSON
// integer, the seconds since the session's last activity across all tabs,
// or the JSON string "logout". The token comes from the presence cookie or
// an Authorization: Bearer header, never the URL. Pages of the allowed
// origins may call it cross-origin, with credentials; a request from any
// other origin is refused before it counts.
func (s *Server) ping(w http.ResponseWriter, req *http.Request) {
	if !s.cors(w, req) {
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")

	token, _ := session.RequestToken(req)
	claims, err := s.opts.Verifier.Verify(token)
	if err != nil {
		s.log.Debug("ping refused", zap.String("code", hub.TokenErrorCode(err)), zap.Error(err))
		s.opts.Registry.CountRefusal(hub.RefusedToken)
		s.metrics.pings.WithLabelValues(pingLogout).Inc()
		writePing(w, `"logout"`)
		return
	}
	rep := hub.Report{SID: claims.SID, UID: claims.UID, Limits: claims.Limits()}
	if idle, ok := parseIdleFor(req); ok {
		rep.Idle = idle
	} else {
		// An idleFor that does not parse changes nothing, but the first
		// request of a session still starts it.
		rep.Passive = true
	}
	sess, err := s.opts.Registry.Report(req.Context(), rep)
	if err != nil {
		s.metrics.pings.WithLabelValues(pingError).Inc()
		hdr.Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		writePing(w, `{"error":"`+protocol.CodeStoreUnavailable+`","message":"presence cannot reach its store; ping again shortly"}`)
		return
	}
	if sess.Status == session.StatusExpired {
		s.metrics.pings.WithLabelValues(pingLogout).Inc()
		writePing(w, `"logout"`)
		return
	}
	s.metrics.pings.WithLabelValues(pingIdle).Inc()
	writePing(w, strconv.FormatInt(int64(sess.Idle/time.Second), 10))
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
	return session.IdleSeconds(n), true
}
