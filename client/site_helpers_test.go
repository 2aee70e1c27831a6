package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The helpers of the tests where presence fails a page: a node killed
// without a word, a page on an origin presence does not allow, and an
// application that serves presence under its own origin through a reverse
// proxy, as docs/deploy.md's "Behind a reverse proxy" shows.

// connListener remembers every connection it accepted, so that a node can
// be cut off from its tabs at once, as a killed process is.
type connListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *connListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

// cut closes the listener and every connection, with a reset rather than
// a WebSocket close frame: what a page sees when presence is killed.
func (l *connListener) cut() {
	l.Listener.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
}

// kill stops the node as SIGKILL would: its connections drop at once,
// with no close frame, and nothing answers on its address until start.
func (s *server) kill() {
	s.t.Helper()
	n := s.node()
	n.ln.cut()
	n.reg.Close()
	n.srv.Close()
	n.store.Close()
}

// consoleErrors returns what the page's scripts wrote with console.error,
// on any page the tab showed; the browser's own log (a failed request, a
// CORS refusal) is not among them.
func (tb *tab) consoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		if m.Type == chromedp.ConsoleError && m.Source == "" {
			out = append(out, m.Text)
		}
	}
	return out
}

// networkErrors returns what the browser logged of the tab's failed
// requests (a 404, a refused connection), on any page the tab showed.
func (tb *tab) networkErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, m := range tb.console {
		if m.Source == "network" {
			out = append(out, m.Text)
		}
	}
	return out
}

// revive starts a new node, with an empty store, on the address of the
// killed one, and returns it.
func (s *server) revive() *node {
	s.t.Helper()
	s.start(s.addr)
	return s.node()
}

// foreignURL serves the test pages from a second site, on another origin
// than presence's, and returns the URL of path there.
func (s *server) foreignURL(path string) string {
	s.t.Helper()
	srv := httptest.NewServer(s.handler(s.node()))
	s.t.Cleanup(srv.Close)
	return srv.URL + path
}

// pageFor serves a page whose tags load presence.js by its full URL, for
// a page served from another origin than presence's.
func (s *server) pageFor(name, tags string) string {
	return s.page(name, strings.Replace(tags, `src="/presence.js"`, `src="`+s.url("/presence.js")+`"`, 1))
}

// app is an application that serves the test pages itself, and presence
// under /presence/ through a reverse proxy that keeps the Host header, as
// docs/deploy.md's nginx example does.
type app struct {
	url string

	mu         sync.Mutex
	setCookies int // fresh presence cookies that went back to the browser
}

// proxiedApp starts an app in front of s.
func (s *server) proxiedApp() *app {
	s.t.Helper()
	a := &app{}
	s.mu.Lock()
	addr := s.addr // where every node of s listens
	s.mu.Unlock()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: addr})
			r.Out.Host = r.In.Host // so presence sees its own origin
		},
		ModifyResponse: func(resp *http.Response) error {
			for _, c := range resp.Cookies() {
				if c.Name == "presence" {
					a.mu.Lock()
					a.setCookies++
					a.mu.Unlock()
				}
			}
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.Handle("/presence/", http.StripPrefix("/presence", proxy))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handler(s.node()).ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	s.t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *app) freshCookies() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.setCookies
}

// setCookie gives the tab's browser context the cookie name=value for u,
// as the application sets the token after a login: path /, SameSite=Lax.
func (tb *tab) setCookie(u, name, value string) {
	tb.t.Helper()
	set := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: u, Path: "/", SameSite: network.CookieSameSiteLax,
		})
		return err
	})
	if _, err := run(tb, set); err != nil {
		tb.t.Fatalf("set cookie %s: %v", name, err)
	}
}

// busy keeps the person active in tabs (keepActive) until the returned
// stop is called; stop waits for the last key press.
func busy(t *testing.T, tabs ...*tab) (stop func()) {
	t.Helper()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		keepActive(t, quit, tabs...)
	}()
	return func() {
		close(quit)
		<-done
	}
}

// keepActive presses a key in each tab about every second until stop is
// closed, as a person reading and typing in both.
func keepActive(t *testing.T, stop <-chan struct{}, tabs ...*tab) {
	t.Helper()
	for {
		for _, tb := range tabs {
			if _, err := run(tb, chromedp.KeyEvent("a")); err != nil {
				t.Errorf("press a key: %v", err)
				return
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(time.Second):
		}
	}
}

// serverOptions configure the nodes of a test site.
type serverOptions struct {
	// grace is each node's recovery grace after it starts. Zero means
	// none, so that tests of expiry need not wait for it.
	grace time.Duration
	// maxAge is the token max age. Zero means an hour.
	maxAge time.Duration
	// origins are the allowed origins besides presence's own host. Nil
	// means 127.0.0.1 on any port.
	origins []string
	// redis, when set, is the Redis the node keeps its sessions in and
	// nudges the other nodes through, as presence runs with several
	// nodes. Nil means a memory store.
	redis *sharedRedis
}

// presenceTag is a deferred script tag of presence.js with data attributes.
func presenceTag(attrs map[string]string) string { return scriptTag("/presence.js", attrs) }

// scriptTag is a deferred script tag of src with data attributes.
func scriptTag(src string, attrs map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<script src="%s"`, src)
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		fmt.Fprintf(&b, ` %s="%s"`, k, html.EscapeString(attrs[k]))
	}
	b.WriteString(` defer></script>`)
	return b.String()
}

// spaTags loads presence.js, then spa.js, which starts presence with
// options and records the events; attrs are spa.js's data attributes.
func spaTags(options map[string]any, attrs map[string]string) string {
	b, _ := json.Marshal(options)
	all := map[string]string{"data-options": string(b)}
	for k, v := range attrs {
		all[k] = v
	}
	var sb strings.Builder
	sb.WriteString(`<script src="/presence.js" defer></script><script src="/spa.js"`)
	for _, k := range slices.Sorted(maps.Keys(all)) {
		fmt.Fprintf(&sb, ` %s="%s"`, k, html.EscapeString(all[k]))
	}
	sb.WriteString(` defer></script>`)
	return sb.String()
}
