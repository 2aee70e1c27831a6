package client_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/session"
)

// The helpers of the browser tests: one headless Chromium for the package,
// a tab per test (each test in a browser context of its own), and an
// in-process presence node on 127.0.0.1 serving the client, test pages and
// a logout URL, with the real clock.

// pageCSP is the policy of every test page: scripts and styles from the
// page's origin and presence's (127.0.0.1 on any port) only, no inline
// code, and Trusted Types enforced.
const pageCSP = "default-src 'none'; script-src 'self' http://127.0.0.1:*; style-src 'self' http://127.0.0.1:*; " +
	"connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:*; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'"

// step bounds one browser action; only a failing test waits that long.
const step = 10 * time.Second

var testSecret = []byte("client-test-secret-0123456789abcdef-0123")

// theBrowser is the package's one Chromium, started by the first test that
// needs it and stopped by TestMain.
var theBrowser struct {
	once        sync.Once
	ctx         context.Context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
	err         error
}

func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, _ := exec.LookPath("chromium")
	return p
}

// browser returns the context of the shared browser, starting it on first
// use. Without Chromium the test is skipped, or fails under CI=true.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed, and CI must run the browser tests (apt-get install chromium)")
		}
		t.Skip("skipped: chromium is not installed")
	}
	b := &theBrowser
	b.once.Do(func() {
		// Not t.TempDir: the browser outlives the test that starts it.
		if b.dir, b.err = os.MkdirTemp("", "presence-chromium-"); b.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.Headless,
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("disable-quic", true),
			chromedp.UserDataDir(b.dir),
			chromedp.WindowSize(1024, 768),
		)
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		b.ctx, b.cancel, b.allocCancel = ctx, cancel, acancel
		// No timeout: the first Run binds the browser's life to ctx.
		b.err = chromedp.Do(ctx)
	})
	if b.err != nil {
		t.Fatalf("start chromium: %v", b.err)
	}
	return b.ctx
}

// stopBrowser closes the shared browser, if a test started it.
func stopBrowser() {
	b := &theBrowser
	if b.cancel == nil {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	_ = chromedp.Cancel(ctx)
	cancel()
	b.cancel()
	b.allocCancel()
	os.RemoveAll(b.dir)
}

// tab is one browser tab. Its cleanup fails the test on any uncaught
// JavaScript error or CSP violation the tab reported, on any page it
// showed.
type tab struct {
	t        *testing.T
	ctx      context.Context
	allowCSP bool // the test provokes a violation on purpose

	mu       sync.Mutex
	problems []string
	console  []chromedp.ConsoleMessage
}

// openTab opens a tab in a browser context of its own, or in the one of
// with, whose tabs then share storage and BroadcastChannels.
func openTab(t *testing.T, with *tab) *tab {
	t.Helper()
	opt := chromedp.WithNewBrowserContext()
	if with != nil {
		opt = chromedp.WithExistingBrowserContext(chromedp.FromContext(with.ctx).BrowserContextID)
	}
	ctx, cancel := chromedp.NewContext(browser(t), opt)
	tb := &tab{t: t, ctx: ctx}
	messages := chromedp.Console(ctx) // opens the tab
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Trusted Type") {
				tb.mu.Lock()
				tb.problems = append(tb.problems, m.String())
				tb.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		tb.checkPage()
		cancel()
		<-done
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, p := range tb.problems {
			if !tb.allowCSP || !strings.Contains(p, "Content Security Policy") {
				t.Errorf("tab console: %s", p)
			}
		}
	})
	return tb
}

// checkPage reports the errors and violations the page's t.js recorded.
func (tb *tab) checkPage() {
	type report struct {
		Errors []string `json:"errors"`
		CSP    []string `json:"csp"`
	}
	r, err := run(tb, chromedp.Evaluate[*report](`window.T ? {errors: T.errors, csp: T.csp} : null`))
	if err != nil || r == nil {
		return
	}
	for _, e := range r.Errors {
		tb.t.Errorf("uncaught error in %s: %s", tb.location(), e)
	}
	if !tb.allowCSP {
		for _, v := range r.CSP {
			tb.t.Errorf("CSP violation in %s: %s", tb.location(), v)
		}
	}
}

func (tb *tab) location() string {
	loc, _ := run(tb, chromedp.Location())
	return loc
}

// run runs one action on the tab, bounded by step.
func run[T any](tb *tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// eval returns the value of a JavaScript expression in the tab.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := run(tb, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (tb *tab) open(u string) {
	tb.t.Helper()
	if _, err := run(tb, chromedp.Navigate(u)); err != nil {
		tb.t.Fatalf("navigate to %s: %v", u, err)
	}
}

// key presses keys in the tab, as a person at the keyboard would.
func (tb *tab) key(keys string, opts ...chromedp.KeyOption) {
	tb.t.Helper()
	if _, err := run(tb, chromedp.KeyEvent(keys, opts...)); err != nil {
		tb.t.Fatalf("press %q: %v", keys, err)
	}
}

// waitJS polls a JavaScript condition until it holds. It survives
// navigations, unlike chromedp.Poll.
func (tb *tab) waitJS(what, cond string, within time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(tb.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: not within %s (last error: %v; page %s)", what, within, err, tb.location())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pageTimes are the in-page instants (Date.now) that t.js recorded.
type pageTimes struct {
	Loaded      float64 `json:"loaded"`
	WarnedAt    float64 `json:"warnedAt"`
	DismissedAt float64 `json:"dismissedAt"`
	ExpiredAt   float64 `json:"expiredAt"`
}

func times(tb *tab) pageTimes {
	tb.t.Helper()
	return eval[pageTimes](tb, `({loaded: T.loaded, warnedAt: T.warnedAt || 0, dismissedAt: T.dismissedAt || 0, expiredAt: T.expiredAt || 0})`)
}

// JavaScript conditions on presence's DOM contract.
const (
	dialogShown = `document.documentElement.classList.contains("presence-warning") &&
		!document.querySelector(".presence-root").hidden &&
		document.querySelector(".presence-dialog").getBoundingClientRect().width > 0`
	dialogHidden = `!document.documentElement.classList.contains("presence-warning") &&
		document.querySelector(".presence-root").hidden`
	focused = `document.activeElement.className || document.activeElement.id`
)

// eventually polls a Go condition until it holds.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sidFor returns a session id of the test's own.
func sidFor(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	name := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, t.Name())
	return name + "-" + hex.EncodeToString(b)
}

// mint returns a token for sid that warns after warn and expires after
// expire seconds, with the logout URL /logged-out.
func mint(t *testing.T, secret []byte, sid string, warn, expire int64) string {
	t.Helper()
	tok, err := session.Mint(secret, session.Claims{SID: sid, WarnAfter: warn, ExpireAfter: expire, LogoutURL: "/logged-out"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// touch is one Store.Touch a presence node made: a hello, an activity or
// an extend frame, or a ping.
type touch struct {
	at   time.Time
	sid  string
	idle time.Duration
}

// lastActive returns the last activity of sid that a store was told of.
func lastActive(r *recStore, sid string) time.Time {
	var last time.Time
	for _, tc := range r.touchesOf(sid, time.Time{}) {
		if at := tc.at.Add(-tc.idle); at.After(last) {
			last = at
		}
	}
	return last
}

// msOf returns t as JavaScript's Date.now would.
func msOf(t time.Time) float64 { return float64(t.UnixMilli()) }

// recStore records the Touch calls of a node, so that tests can see what
// the client told the server.
type recStore struct {
	session.Store
	mu      sync.Mutex
	touches []touch
}

func (r *recStore) Touch(ctx context.Context, sid string, idle time.Duration, terms session.Terms) (session.Snapshot, error) {
	r.mu.Lock()
	r.touches = append(r.touches, touch{time.Now(), sid, idle})
	r.mu.Unlock()
	return r.Store.Touch(ctx, sid, idle, terms)
}

// touchesOf returns the Touch calls for sid made after since.
func (r *recStore) touchesOf(sid string, since time.Time) []touch {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []touch
	for _, tc := range r.touches {
		if tc.sid == sid && tc.at.After(since) {
			out = append(out, tc)
		}
	}
	return out
}

// node is one presence node: a registry, its store and its HTTP server,
// counting the requests to /ws and /ping.
type node struct {
	store *recStore
	reg   *hub.Registry
	api   *httpapi.Server
	srv   *httptest.Server
	ln    *connListener
	ws    atomic.Int32
	pings atomic.Int32
}

// server is a test site on 127.0.0.1: presence (one node at a time, which
// a test may restart on the same address), the client's files from
// Handler, test pages under /p/, the page scripts t.js, spa.js, esm.js,
// own.js and classic.js, the logout URL /logged-out and fresh tokens
// under /token/.
type server struct {
	t       *testing.T
	opts    serverOptions
	blockWS atomic.Bool // /ws answers 403, as a proxy that blocks WebSockets

	mu      sync.Mutex
	addr    string
	cur     *node
	pages   map[string]string
	tokens  map[string]string
	logouts []url.Values // the forms of the requests to /logged-out, with "method"
}

func newServer(t *testing.T) *server {
	t.Helper()
	return newServerWith(t, serverOptions{})
}

func newServerWith(t *testing.T, opts serverOptions) *server {
	t.Helper()
	if opts.maxAge == 0 {
		opts.maxAge = time.Hour
	}
	if opts.origins == nil {
		opts.origins = []string{"127.0.0.1:*"}
	}
	if opts.grace == 0 {
		opts.grace = -1 // none, for hub.Options
	}
	s := &server{t: t, opts: opts, pages: map[string]string{}, tokens: map[string]string{}}
	s.start("127.0.0.1:0")
	t.Cleanup(func() {
		n := s.node()
		n.reg.Close()
		n.srv.Close()
		n.store.Close()
	})
	return s
}

// start runs a new node on addr.
func (s *server) start(addr string) {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old node's port may take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen on %s: %v", addr, err)
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret, MaxAge: s.opts.maxAge})
	if err != nil {
		s.t.Fatal(err)
	}
	var store session.Store
	var broker hub.Broker
	if r := s.opts.redis; r != nil {
		if store, err = session.NewRedisStore(session.RedisOptions{Client: r.client, Prefix: r.prefix}); err != nil {
			s.t.Fatal(err)
		}
		broker = hub.NewRedisBroker(r.client, r.prefix)
	} else {
		store = session.NewMemoryStore(session.MemoryOptions{})
	}
	n := &node{store: &recStore{Store: store}, ln: &connListener{Listener: ln}}
	origins := s.opts.origins
	n.reg, err = hub.New(hub.Options{
		Store:          n.store,
		Broker:         broker,
		Verifier:       verifier,
		Tick:           20 * time.Millisecond,
		OriginPatterns: origins,
		RecoveryGrace:  s.opts.grace,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	n.api, err = httpapi.New(httpapi.Options{Registry: n.reg, Verifier: verifier, Store: n.store, OriginPatterns: origins})
	if err != nil {
		s.t.Fatal(err)
	}
	n.srv = httptest.NewUnstartedServer(s.handler(n))
	n.srv.Listener.Close()
	n.srv.Listener = n.ln
	n.srv.Start()
	s.mu.Lock()
	s.cur, s.addr = n, ln.Addr().String()
	s.mu.Unlock()
}

func (s *server) node() *node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// restart stops the node as SIGTERM does (every tab is closed with 1012),
// starts a new one, with an empty store, on the same address, and returns
// it.
func (s *server) restart() *node {
	s.t.Helper()
	old := s.node()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := old.reg.Shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
	old.srv.Close()
	old.store.Close()
	s.start(s.addr)
	return s.node()
}

func (s *server) handler(n *node) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", n.api) // the client's files, and every other surface of presence
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		n.ws.Add(1)
		if s.blockWS.Load() {
			http.Error(w, "WebSockets are blocked here", http.StatusForbidden)
			return
		}
		n.api.ServeHTTP(w, r)
	})
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		n.pings.Add(1)
		n.api.ServeHTTP(w, r)
	})
	mux.HandleFunc("/t.js", serveScript("testdata/t.js"))
	mux.HandleFunc("/spa.js", serveScript("testdata/spa.js"))
	mux.HandleFunc("/esm.js", serveScript("testdata/esm.js"))
	mux.HandleFunc("/own.js", serveScript("testdata/own.js"))
	mux.HandleFunc("/classic.js", serveScript("testdata/classic.js"))
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		page, ok := s.pages[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		writePage(w, page)
	})
	mux.HandleFunc("/logged-out", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form := url.Values{"method": {r.Method}}
		for k, v := range r.PostForm {
			form[k] = v
		}
		s.mu.Lock()
		s.logouts = append(s.logouts, form)
		s.mu.Unlock()
		writePage(w, `<script src="/t.js"></script></head><body><h1>Logged out</h1>`)
	})
	mux.HandleFunc("/token/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		tok, ok := s.tokens[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, tok)
	})
	return mux
}

func serveScript(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
}

// writePage serves the rest of an HTML page after its <head> and
// <title>, under the strict CSP.
func writePage(w http.ResponseWriter, rest string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Private page</title>\n%s\n</body></html>\n", rest)
}

// page serves a test page at /p/name whose head holds t.js and then
// scripts, and returns its URL. Its body has private content, a button
// and a form.
func (s *server) page(name, scripts string) string {
	path := "/p/" + name
	s.mu.Lock()
	s.pages[path] = `<script src="/t.js"></script>
` + scripts + `
</head><body>
<main id="content"><h1>Private data</h1><p>Account 12345, balance 1,000.00</p>
<button id="before" type="button">Before</button>
<form id="form" action="/p/nowhere" method="post"><label>Name <input id="name" name="name"></label></form>
</main>`
	s.mu.Unlock()
	return s.url(path)
}

// refreshURL serves tok at a path the page can fetch, and returns the path.
func (s *server) refreshURL(tok string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := fmt.Sprintf("/token/%d", len(s.tokens))
	s.tokens[path] = tok
	return path
}

func (s *server) logoutRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.logouts)
}
