package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/internal/tabtest"
	"github.com/presence-dev/presence/session"
)

func TestOriginAllowed(t *testing.T) {
	patterns := []string{"*.example.com", "http://127.0.0.1:8000", "https://app.example.org"}
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://presence.test", true}, // the server's own host
		{"https://a.example.com", true},
		{"http://a.example.com", true},
		{"https://example.com", false},
		{"https://a.example.com.evil.net", false},
		{"http://127.0.0.1:8000", true},
		{"https://127.0.0.1:8000", false},
		{"http://127.0.0.1:8001", false},
		{"https://app.example.org", true},
		{"http://app.example.org", false},
		{"https://APP.EXAMPLE.ORG", true},
		{"null", false},
		{"::bad", false},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, "https://presence.test/ping", nil)
		if got := originAllowed(req, c.origin, patterns); got != c.want {
			t.Errorf("originAllowed(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}

func TestPingCrossOrigin(t *testing.T) {
	e := newEnv(t, func(_ *hub.Options, o *Options) { o.OriginPatterns = []string{"http://app.test:8000"} })
	tok := e.token("s1")
	do := func(method, origin string, header http.Header) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, e.srv.URL+"/ping?idleFor=0", nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	pre := do(http.MethodOptions, "http://app.test:8000", http.Header{
		"Access-Control-Request-Method":  {"GET"},
		"Access-Control-Request-Headers": {"authorization"},
	})
	if pre.StatusCode != http.StatusNoContent ||
		pre.Header.Get("Access-Control-Allow-Origin") != "http://app.test:8000" ||
		pre.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		pre.Header.Get("Access-Control-Allow-Headers") != "Authorization, Presence-Client" ||
		pre.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Errorf("preflight: %d %v", pre.StatusCode, pre.Header)
	}

	e.advance(3 * time.Second)
	resp := do(http.MethodGet, "http://app.test:8000", http.Header{"Authorization": {"Bearer " + tok}})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.test:8000" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("allowed origin: %d %v", resp.StatusCode, resp.Header)
	}

	// Another origin is refused before its ping counts as activity.
	e.advance(3 * time.Second)
	resp = do(http.MethodGet, "https://evil.test", http.Header{"Authorization": {"Bearer " + tok}})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin: %d %v", resp.StatusCode, resp.Header)
	}
	if got := e.ping(t, tok, "?idleFor=99"); got != "3" {
		t.Errorf("idle after the refused ping = %s, want 3", got)
	}
}

// A preflight never counts as activity, with or without an Origin.
func TestPingPreflightIsNotActivity(t *testing.T) {
	e := newEnv(t)
	tok := e.token("s1")
	e.ping(t, tok, "")
	e.advance(3 * time.Second)
	for _, origin := range []string{"", e.srv.URL} {
		req, err := http.NewRequest(http.MethodOptions, e.srv.URL+"/ping", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(&http.Cookie{Name: session.CookieName, Value: tok})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("OPTIONS with Origin %q: %d, Allow %q", origin, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if got := e.ping(t, tok, "?idleFor=99"); got != "3" {
		t.Errorf("idle after the preflights = %s, want 3", got)
	}
}

// A page on an origin presence does not allow is refused on /ws as on
// /ping, counted, and logged at warn once a minute per origin, with the
// setting that would let it in.
func TestRefusedOriginIsLoggedAndCounted(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	metrics := prometheus.NewRegistry()
	e := newEnv(t, func(h *hub.Options, o *Options) {
		h.OriginPatterns = []string{"https://app.example.com"}
		h.Registerer = metrics
		o.OriginPatterns = h.OriginPatterns
		o.Logger = zap.New(core)
	})
	do := func(path, origin string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("Origin", origin)
		if path == "/ws" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct{ path, origin string }{
		{"/ws", "https://intranet.example.org"},
		{"/ping", "https://intranet.example.org"},
		{"/ws", "https://intranet.example.org"},
		{"/ws", "http://127.0.0.1:8000"},
	} {
		if code := do(c.path, c.origin); code != http.StatusForbidden {
			t.Errorf("%s from %s: %d, want 403", c.path, c.origin, code)
		}
	}
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d log lines, want one per origin: %v", len(entries), entries)
	}
	fields := entries[0].ContextMap()
	if fields["origin"] != "https://intranet.example.org" ||
		fields["fix"] != "PRESENCE_ALLOWED_ORIGINS=https://app.example.com,https://intranet.example.org (or -allowed-origins)" {
		t.Errorf("log line = %s %v", entries[0].Message, fields)
	}
	if got := counterValue(t, metrics, "presence_refused_total", "origin"); got != 4 {
		t.Errorf("presence_refused_total{reason=origin} = %v, want 4", got)
	}
	// The allowed origin gets through to the upgrade.
	tab := tabtest.Dial(t, e.srv.URL, http.Header{"Origin": {"https://app.example.com"}})
	tab.Hello(e.token("s1"), 0)
}

// counterValue returns the value of the counter name{reason=label}.
func counterValue(t *testing.T, g prometheus.Gatherer, name, label string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

// A cookie ping from another site counts for nothing, and is told so with
// a 403, never "logout"; the application's own pages, and clients that
// send no Sec-Fetch-Site, are served; a Bearer token is not ambient, and
// may come from anywhere the origin allows.
func TestCrossSiteCookiePingIsRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.token("s1")
	e.ping(t, tok, "")
	e.advance(3 * time.Second)
	for _, site := range []string{"cross-site"} {
		resp, body := e.pingWith(t, "?idleFor=0", http.Header{"Sec-Fetch-Site": {site}}, tok)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"cross_site"`) {
			t.Errorf("cookie ping, Sec-Fetch-Site %s: %d %s, want 403 cross_site", site, resp.StatusCode, body)
		}
	}
	if got := e.ping(t, tok, "?idleFor=99"); got != "3" {
		t.Fatalf("idle after the refused ping = %s, want 3: it counted", got)
	}
	for _, site := range []string{"same-origin", "same-site", "none", ""} {
		h := http.Header{}
		if site != "" {
			h.Set("Sec-Fetch-Site", site)
		}
		if resp, body := e.pingWith(t, "?idleFor=1", h, tok); resp.StatusCode != 200 || body != "1" {
			t.Errorf("cookie ping, Sec-Fetch-Site %q: %d %s, want served", site, resp.StatusCode, body)
		}
	}
	bearer := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Authorization": {"Bearer " + tok}}
	if resp, body := e.pingWith(t, "?idleFor=0", bearer, ""); resp.StatusCode != 200 || body != "0" {
		t.Errorf("Bearer ping from another site: %d %s, want served", resp.StatusCode, body)
	}
}
