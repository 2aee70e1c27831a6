package hub

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// originAllowed reports whether a browser request from the page origin
// may use presence, by the rule coder/websocket applies to /ws: the
// server's own host, or one of the configured patterns, each matched
// against the origin's host, or against scheme://host when the pattern
// has a scheme.
func originAllowed(req *http.Request, origin string, patterns []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(req.Host, u.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, err := path.Match(strings.ToLower(p), strings.ToLower(target)); err == nil && ok {
			return true
		}
	}
	return false
}

// cors answers CORS for an endpoint that pages of the allowed origins
// call with credentials (the presence cookie) or an Authorization header.
// It reports false when it has answered the request itself: a preflight,
// or a request from an origin that is not allowed, which must not count
// as activity.
func (r *Registry) cors(w http.ResponseWriter, req *http.Request, methods string) bool {
	origin := req.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return true // not a cross-origin browser request
	}
	if !originAllowed(req, origin, r.opts.OriginPatterns) {
		r.metrics.errors.WithLabelValues("origin_refused").Inc()
		http.Error(w, "origin not allowed; list it in -allowed-origins", http.StatusForbidden)
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if req.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Authorization")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	return true
}
