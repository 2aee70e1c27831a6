package httpapi

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/protocol"
)

// refusalLogEvery is how often, at most, one refused origin is logged: a
// page that keeps retrying must not flood the log, and a misconfigured
// deployment must still see its mistake within a minute.
const refusalLogEvery = time.Minute

// maxLoggedOrigins bounds the origins remembered for refusalLogEvery: a
// flood of made-up origins costs a bounded map, and is logged no more
// often than every one of them.
const maxLoggedOrigins = 1024

// refusalLog remembers when each refused origin was last logged.
type refusalLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due reports whether origin should be logged now, and remembers it.
func (l *refusalLog) due(origin string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[origin]; ok && now.Sub(t) < refusalLogEvery {
		return false
	}
	if l.last == nil || len(l.last) >= maxLoggedOrigins {
		l.last = make(map[string]time.Time)
	}
	l.last[origin] = now
	return true
}

// refuseOrigin answers a browser request from an origin that may not use
// presence with 403, counts it, and logs it at warn, at most once a
// minute per origin, with the setting that would let it in: a page on an
// origin nobody listed otherwise fails in silence.
func (s *Server) refuseOrigin(w http.ResponseWriter, r *http.Request, origin string) {
	s.opts.Registry.CountError(protocol.CodeOriginRefused)
	s.opts.Registry.CountRefusal(hub.RefusedOrigin)
	if s.refusals.due(origin, time.Now()) {
		allowed := append(append([]string(nil), s.opts.OriginPatterns...), origin)
		s.log.Warn("a page's origin is not allowed; it cannot use presence until the origin is listed",
			zap.String("origin", origin),
			zap.String("path", r.URL.Path),
			zap.String("fix", "PRESENCE_ALLOWED_ORIGINS="+strings.Join(allowed, ",")+" (or -allowed-origins)"))
	}
	writeAPIError(w, http.StatusForbidden, protocol.CodeOriginRefused,
		"origin "+origin+" is not allowed; list it in PRESENCE_ALLOWED_ORIGINS (-allowed-origins)")
}

// ws serves /ws to the pages of the allowed origins, and refuses the
// others itself, before the upgrade, so that the refusal is logged and
// counted as the ping's is.
func (s *Server) ws(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(r, origin, s.opts.OriginPatterns) {
		s.refuseOrigin(w, r, origin)
		return
	}
	s.opts.Registry.ServeWS(w, r)
}
