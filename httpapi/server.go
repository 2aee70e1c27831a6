package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/client"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/session"
)

// Options configures New. Registry, Verifier and Store are required;
// every other field may be left zero.
type Options struct {
	// Registry holds the node's tabs and decides its sessions' deadlines.
	Registry *hub.Registry
	// Verifier checks the tokens that pings present.
	Verifier *session.Verifier
	// Store is what /readyz checks.
	Store session.Store

	// APIKey is the Bearer key of the server API. Empty means no server
	// API: /api/v1/ answers 404.
	APIKey string
	// OriginPatterns lists the browser origins, besides the server's own
	// host, allowed to ping: host patterns such as "*.example.com" or
	// origins with a scheme such as "https://app.example.com", as the
	// hub's Options.OriginPatterns for /ws.
	OriginPatterns []string
	// Demo, when set, is served at /demo/, and / redirects to it.
	Demo http.Handler

	// CookieDomain is the Domain of the fresh presence cookies /ping hands
	// out; empty means none (the host that set the cookie only).
	CookieDomain string
	// CookieSecure says when those cookies are Secure. Zero means
	// CookieSecureAuto.
	CookieSecure CookieSecure
	// Proxies are the reverse proxies trusted to name a request's client
	// in X-Forwarded-For, for the limits kept per client address. Zero
	// means none: the connection's peer is the client.
	Proxies Proxies

	// Registerer receives the surfaces' own metrics. Nil means they are
	// kept but not registered anywhere.
	Registerer prometheus.Registerer
	// Gatherer is what /metrics serves. Nil means no /metrics.
	Gatherer prometheus.Gatherer
	// Logger receives the surfaces' logs. Nil means no logs.
	Logger *zap.Logger
}

// CookieSecure says when a fresh presence cookie is Secure.
type CookieSecure int

const (
	// CookieSecureAuto: when the ping came over TLS, directly or through
	// a proxy that sets X-Forwarded-Proto: https.
	CookieSecureAuto CookieSecure = iota
	// CookieSecureAlways: always.
	CookieSecureAlways
	// CookieSecureNever: never, as on a plain-HTTP intranet.
	CookieSecureNever
)

// Server is a presence node's HTTP handler. It is safe for concurrent
// use.
type Server struct {
	opts     Options
	log      *zap.Logger
	mux      *http.ServeMux
	metrics  *metrics
	refusals refusalLog
	// keyFailures slows down the guessing of the API key, per address.
	keyFailures failureLimiter
}

// New returns the Server of opts, with every route mounted.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Registry == nil:
		return nil, errors.New("httpapi: Options.Registry is required")
	case opts.Verifier == nil:
		return nil, errors.New("httpapi: Options.Verifier is required")
	case opts.Store == nil:
		return nil, errors.New("httpapi: Options.Store is required")
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), metrics: m}
	s.routes()
	return s, nil
}

// ServeHTTP serves r by its route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// routes mounts every surface. A path whose method patterns do not match
// a request's method falls to the same path without a method, which
// answers 405 in the surface's own style.
func (s *Server) routes() {
	mux := s.mux
	assets := client.Handler() // it answers 405 itself, as a file server does
	for _, path := range client.Paths() {
		mux.Handle(path, assets)
	}
	mux.HandleFunc("GET /ws", s.ws)

	mux.HandleFunc("GET /ping", s.ping) // GET patterns match HEAD too
	mux.HandleFunc("OPTIONS /ping", s.pingPreflight)
	mux.HandleFunc("/ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "use GET or HEAD", http.StatusMethodNotAllowed)
	})

	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	}
	if s.opts.APIKey != "" {
		mux.Handle(APIPrefix, s.api())
	}
	if s.opts.Demo != nil {
		mux.Handle("/demo/", s.opts.Demo)
		mux.Handle("GET /{$}", http.RedirectHandler("/demo/", http.StatusFound))
	}
}
