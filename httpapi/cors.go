package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// pingMethods are the methods pages of the allowed origins may ping with.
const pingMethods = "GET, HEAD"

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

// cors answers CORS for the ping, which pages of the allowed origins call
// with credentials (the presence cookie) or an Authorization header. It
// reports false when it has answered the request itself: a request from
// an origin that is not allowed, which must not count as activity.
func (s *Server) cors(w http.ResponseWriter, req *http.Request) bool {
	origin := req.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" {
		return true // not a cross-origin browser request
	}
	if !originAllowed(req, origin, s.opts.OriginPatterns) {
		s.refuseOrigin(w, req, origin)
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	return true
}

// pingPreflight answers a CORS preflight of the ping. It never counts as
// activity, with or without an Origin.
func (s *Server) pingPreflight(w http.ResponseWriter, req *http.Request) {
	if !s.cors(w, req) {
		return
	}
	h := w.Header()
	h.Set("Allow", "GET, HEAD, OPTIONS")
	if h.Get("Access-Control-Allow-Origin") != "" {
		h.Set("Access-Control-Allow-Methods", pingMethods)
		h.Set("Access-Control-Allow-Headers", "Authorization, "+ClientHeader)
		h.Set("Access-Control-Max-Age", "600")
	}
	w.WriteHeader(http.StatusNoContent)
}
