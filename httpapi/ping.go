package httpapi

import (
	"errors"
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

	token, source := session.RequestToken(req)
	if source == session.FromCookie && req.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// The cookie goes with any request to presence's host, from any
		// page: an <img> on another site must not keep a session alive.
		// Only the application's own pages (same-origin or same-site) and
		// clients that send no Sec-Fetch-Site may ping with it.
		s.opts.Registry.CountRefusal(hub.RefusedCrossSite)
		s.opts.Registry.CountError(protocol.CodeCrossSite)
		writeAPIError(w, http.StatusForbidden, protocol.CodeCrossSite,
			"a ping with the presence cookie from another site counts for nothing; ping from the application's own pages, or send the token as Authorization: Bearer")
		return
	}
	claims, err := s.opts.Registry.VerifyToken(req.Context(), token)
	if err != nil && !tokenRefused(err) {
		s.storeUnavailable(w)
		return
	}
	if err != nil {
		s.log.Debug("ping refused", zap.String("code", hub.TokenErrorCode(err)), zap.Error(err))
		s.opts.Registry.CountRefusal(hub.RefusedToken)
		if req.Header.Get(ClientHeader) != "" {
			// presence.js asks: "logout" would send the person away for a
			// token it can refresh; say what is wrong instead.
			s.metrics.pings.WithLabelValues(pingRefused).Inc()
			writeAPIError(w, http.StatusUnauthorized, hub.TokenErrorCode(err), err.Error())
			return
		}
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
		s.storeUnavailable(w)
		return
	}
	if sess.Status == session.StatusExpired {
		s.metrics.pings.WithLabelValues(pingLogout).Inc()
		writePing(w, `"logout"`)
		return
	}
	if source == session.FromCookie && s.opts.Registry.TokenDue(claims.IssuedAt) {
		s.refreshCookie(w, req, claims)
	}
	s.metrics.pings.WithLabelValues(pingIdle).Inc()
	writePing(w, strconv.FormatInt(int64(sess.Idle/time.Second), 10))
}

// ClientHeader is the request header presence.js sends with its pings: a
// refused token then answers 401 with a JSON error, not "logout".
const ClientHeader = "Presence-Client"

// tokenRefused reports whether err refuses the token itself, rather than
// being the store's failure to answer.
func tokenRefused(err error) bool {
	return errors.Is(err, session.ErrTokenMissing) || errors.Is(err, session.ErrTokenInvalid) || errors.Is(err, session.ErrTokenTooOld)
}

// storeUnavailable answers a ping the store could not serve.
func (s *Server) storeUnavailable(w http.ResponseWriter) {
	s.metrics.pings.WithLabelValues(pingError).Inc()
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(http.StatusServiceUnavailable)
	writePing(w, `{"error":{"code":"`+protocol.CodeStoreUnavailable+`","message":"presence cannot reach its store; ping again shortly"}}`)
}

// refreshCookie hands a live page a fresh token in the presence cookie,
// its own being half the token max age old, so that a classic page left
// open all day is never refused for its token's age.
func (s *Server) refreshCookie(w http.ResponseWriter, req *http.Request, claims session.Claims) {
	token, err := s.opts.Registry.MintFor(claims)
	if err != nil {
		s.log.Error("fresh token not minted", zap.Error(err))
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     session.CookieName,
		Value:    token,
		Path:     "/",
		Domain:   s.opts.CookieDomain,
		Secure:   s.cookieSecure(req),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// cookieSecure says whether a fresh cookie is Secure: as configured, or,
// by default, when the page reached presence over TLS (directly or
// through a proxy that says so).
func (s *Server) cookieSecure(req *http.Request) bool {
	switch s.opts.CookieSecure {
	case CookieSecureAlways:
		return true
	case CookieSecureNever:
		return false
	}
	return req.TLS != nil || strings.EqualFold(req.Header.Get("X-Forwarded-Proto"), "https")
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
