package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

// startServe runs serve with the default configuration on a loopback port
// until the test ends or stop is called, and returns the base URL.
func startServe(t *testing.T) (base string, stop func() error) {
	t.Helper()
	return startServeWith(t, nil, nil, io.Discard)
}

// startServeWith runs serve with args and env (the secret is added) on a
// loopback port, printing to out, and returns the base URL and a stop
// that waits for serve to return.
func startServeWith(t *testing.T, args []string, env map[string]string, out io.Writer) (base string, stop func() error) {
	t.Helper()
	vars := map[string]string{"PRESENCE_SECRET": goodSecret}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := parseConfig(args, envOf(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, deps{log: zap.NewNop(), clock: clock.System(), out: out}) }()
	var stopped bool
	var result error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("serve did not return within 15 s of the stop")
			}
		}
		return result
	}
	t.Cleanup(func() { stop() })
	return "http://" + ln.Addr().String(), stop
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func dialTab(t *testing.T, base string) *websocket.Conn {
	t.Helper()
	tok, err := session.Mint([]byte(goodSecret), session.Claims{SID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return dialTabWith(t, base, tok)
}

// dialTabWith connects a tab with tok and reads its state.
func dialTabWith(t *testing.T, base, tok string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", &websocket.DialOptions{Subprotocols: []string{protocol.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	if err := conn.Write(ctx, websocket.MessageText, protocol.ClientFrame{Type: protocol.TypeHello, Token: tok}.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	_, data, err := conn.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := protocol.DecodeServer(data); err != nil || f.Type != protocol.TypeState {
		t.Fatalf("first frame = %s (%v), want state", data, err)
	}
	return conn
}

func TestServeEndpoints(t *testing.T) {
	base, _ := startServe(t)
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if code, body := get(t, base+"/ping"); code != 200 || body != `"logout"` {
		t.Errorf("/ping without token = %d %q", code, body)
	}
	conn := dialTab(t, base)
	_ = conn
	code, metrics := get(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, series := range []string{
		"presence_tabs_connected 1",
		"presence_sessions_live 1",
		`presence_frames_in_total{type="hello"} 1`,
		`presence_frames_out_total{type="state"} 1`,
		`presence_classic_pings_total{answer="logout"} 1`,
		"presence_wheel_lateness_seconds_bucket",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %q", series)
		}
	}
}

func TestShutdownClosesTabsWith1012(t *testing.T) {
	base, stop := startServe(t)
	conn := dialTab(t, base)
	start := time.Now()
	readErr := make(chan error, 1)
	go func() {
		_, _, err := conn.Read(context.Background())
		readErr <- err
	}()
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %s, want under 10 s", took)
	}
	if status := websocket.CloseStatus(<-readErr); status != 1012 {
		t.Errorf("tab closed with %d, want 1012", status)
	}
}

// presenceProcess starts the test binary as the presence command.
func presenceProcess(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PRESENCE_") && !strings.HasPrefix(kv, runMainEnv) {
			t.Fatalf("the environment sets %s, which would change these tests", kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func TestInvalidConfigurationExitsWith2(t *testing.T) {
	cases := []struct {
		args []string
		env  []string
	}{
		{nil, nil},
		{nil, []string{"PRESENCE_SECRET=too-short"}},
		{[]string{"-warn-after", "10m"}, []string{"PRESENCE_SECRET=" + goodSecret}},
		{[]string{"-store", "cassandra"}, []string{"PRESENCE_SECRET=" + goodSecret}},
	}
	for _, c := range cases {
		cmd := presenceProcess(t, c.env, c.args...)
		out, err := cmd.CombinedOutput()
		exit, ok := err.(*exec.ExitError)
		if !ok || exit.ExitCode() != 2 {
			t.Errorf("%v %v: err %v, want exit status 2", c.env, c.args, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "presence: ") {
			t.Errorf("%v %v: output %q, want one line starting with \"presence: \"", c.env, c.args, out)
		}
	}
}

func TestServeDemo(t *testing.T) {
	var printed syncBuffer
	base, stop := startServeWith(t, []string{"-demo"}, map[string]string{"PRESENCE_SECRET": ""}, &printed)
	for path, want := range map[string]string{"/": "Log in", "/demo/": "Log in", "/presence.js": "", "/presence.css": "",
		"/presence.mjs": "export", "/presence.js.map": "src/script.js", "/presence.mjs.map": "src/module.js",
		"/presence-share.mjs": "export", "/presence-share.mjs.map": "src/share.js"} {
		if code, body := get(t, base+path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d", path, code)
		}
	}
	stop()
	if want := "presence demo: open " + base + "/demo/ in a browser (warn after 20s, expire after 30s)\n"; printed.String() != want {
		t.Errorf("printed %q, want %q", printed.String(), want)
	}
}

// syncBuffer is a strings.Builder that serve may write to while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// With an API key and a webhook URL, a logout through the API reaches the
// tab, and the application's webhook receives the end, signed, once.
func TestServeAPIAndWebhook(t *testing.T) {
	var mu sync.Mutex
	var hooks []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), body, time.Now(), []byte(goodSecret)); err != nil {
			t.Errorf("webhook signature: %v", err)
		}
		mu.Lock()
		hooks = append(hooks, string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	base, stop := startServeWith(t, []string{"-api-key", "0123456789abcdef", "-webhook-url", receiver.URL}, nil, io.Discard)
	conn := dialTab(t, base)
	second := dialTab(t, base) // a second tab of the same session

	if code, _ := get(t, base+"/api/v1/sessions/s1"); code != http.StatusUnauthorized {
		t.Errorf("API without the key: %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/sessions/s1/logout", strings.NewReader(`{"reason":"revoked"}`))
	req.Header.Set("Authorization", "Bearer 0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("logout through the API: %d", resp.StatusCode)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer rcancel()
	_, data, err := conn.Read(rctx)
	if err != nil || !strings.Contains(string(data), `"reason":"revoked"`) {
		t.Errorf("tab got %s, %v; want expire with reason revoked", data, err)
	}
	for _, c := range []*websocket.Conn{conn, second} {
		// Read on, so that the close handshake completes.
		for {
			if _, _, err := c.Read(rctx); err != nil {
				if status := websocket.CloseStatus(err); status != 4410 {
					t.Errorf("tab closed with %d, want 4410", status)
				}
				break
			}
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 1 || !strings.Contains(hooks[0], `"sid":"s1"`) || !strings.Contains(hooks[0], `"reason":"revoked"`) {
		t.Errorf("webhooks = %q, want one for s1, revoked", hooks)
	}
}

// With Redis unreachable, presence still starts and serves, and /readyz
// says 503 so that a load balancer sends new tabs elsewhere.
func TestReadyzWithoutRedis(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close()
	base, _ := startServeWith(t, []string{"-store", "redis://" + addr + "/0?dial_timeout=200ms&max_retries=0"}, nil, io.Discard)
	// The listener queues the request until serve has given up its first
	// Ping to Redis and serves.
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d, want 503", code)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
}

// With a secret configured, -demo still signs with a secret of its own:
// its tokens open presence's tabs, and the application's secret signs
// none of them. It listens on this machine only unless told otherwise.
func TestDemoNeverUsesTheApplicationsSecret(t *testing.T) {
	cfg, err := parseConfig([]string{"-demo"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8765" {
		t.Errorf("-demo listens on %s, want 127.0.0.1:8765", cfg.Addr)
	}
	if cfg, _ := parseConfig([]string{"-demo", "-addr", ":9999"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard); cfg.Addr != ":9999" {
		t.Errorf("-demo -addr :9999 listens on %s", cfg.Addr)
	}

	base, _ := startServeWith(t, []string{"-demo"}, nil, io.Discard)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(base+"/demo/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`data-token="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no token on the demo's page:\n%s", body)
	}
	app, _ := session.NewVerifier(session.VerifierOptions{Secret: []byte(goodSecret)})
	if _, err := app.Verify(string(m[1])); !errors.Is(err, session.ErrTokenInvalid) {
		t.Errorf("the demo's token verifies with the application's secret (%v)", err)
	}
	conn := dialTabWith(t, base, string(m[1]))
	conn.CloseNow()
}

// A summary line at info once a minute while anything happens; none when
// nothing does.
func TestSummaryEveryMinute(t *testing.T) {
	reg := prometheus.NewRegistry()
	tabs := prometheus.NewGauge(prometheus.GaugeOpts{Name: "presence_tabs_connected"})
	warns := prometheus.NewCounter(prometheus.CounterOpts{Name: "presence_warnings_total"})
	reg.MustRegister(tabs, warns)
	core, logs := observer.New(zap.InfoLevel)
	clk := clock.NewManual(time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { summarize(ctx, reg, clk, zap.New(core)); close(done) }()
	defer func() { cancel(); <-done }()

	tick := func() {
		clk.Advance(summaryEvery)
		time.Sleep(100 * time.Millisecond) // the summary reads and logs
	}
	tick()
	if n := logs.Len(); n != 0 {
		t.Fatalf("%d lines while nothing happened", n)
	}
	tabs.Set(3)
	warns.Add(2)
	tick()
	tabs.Set(0)
	tick() // no tab left, nothing new: quiet again
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d lines, want 1: %v", len(entries), entries)
	}
	if f := entries[0].ContextMap(); f["tabs"] != int64(3) || f["warnings"] != int64(2) {
		t.Errorf("summary = %v, want 3 tabs and 2 warnings", f)
	}
}

// Every metric family is on /metrics from the start, at zero, so that an
// alert on an absent series does not misfire.
func TestMetricsPresentFromTheStart(t *testing.T) {
	receiver := httptest.NewServer(http.NotFoundHandler())
	defer receiver.Close()
	base, _ := startServeWith(t, []string{"-api-key", "0123456789abcdef", "-webhook-url", receiver.URL}, nil, io.Discard)
	_, body := get(t, base+"/metrics")
	for _, series := range []string{
		"presence_tabs_connected 0", "presence_sessions_live 0", "presence_warnings_total 0",
		`presence_expiries_total{reason="idle"} 0`, `presence_errors_total{code="token_too_old"} 0`,
		`presence_errors_total{code="store_unavailable"} 0`, `presence_frames_in_total{type="activity"} 0`,
		`presence_frames_out_total{type="warn"} 0`, `presence_classic_pings_total{answer="logout"} 0`,
		`presence_refused_total{reason="origin"} 0`, `presence_tabs_refused_total{cap="node"} 0`,
		`presence_webhook_deliveries_total{result="failed"} 0`, "presence_webhook_retries_total 0",
		"presence_nudges_published_total 0", "presence_wheel_lateness_seconds_count 0",
	} {
		if !strings.Contains(body, series+"\n") {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// -debug-addr serves the profiles on its own loopback listener, and the
// public address does not.
func TestServeDebugProfiles(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := ln.Addr().String()
	ln.Close()
	base, _ := startServeWith(t, []string{"-debug-addr", debugAddr}, nil, io.Discard)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), "goroutine profile") {
				break
			}
			t.Fatalf("/debug/pprof/goroutine on -debug-addr: %d %q", resp.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("-debug-addr does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := get(t, base+"/debug/pprof/goroutine?debug=1"); status == 200 {
		t.Error("the public address serves profiles")
	}
}
