package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/webhook"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// testAPIKey is the server API key of the nodes the tests run.
const testAPIKey = "test-api-key-0123456789"

// startRedis runs a redis-server of the test's own on a free loopback
// port, keeping nothing on disk, and returns its address. Without
// redis-server the test skips, unless CI=true.
func startRedis(t *testing.T) string {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("skipped: redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir() // where a test that turns persistence on writes it
	cmd := exec.Command(server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hookRecorder is the application's webhook receiver: it checks each
// delivery's signature and keeps its body.
type hookRecorder struct {
	mu     sync.Mutex
	bodies []string
	at     []time.Time
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := webhook.Verify(r.Header.Get("Presence-Signature"), body, time.Now(), []byte(goodSecret)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.bodies = append(h.bodies, string(body))
	h.at = append(h.at, time.Now())
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookRecorder) deliveries() ([]string, []time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...), append([]time.Time(nil), h.at...)
}

// A session registered through node A, with no tab anywhere, outlives A:
// A is killed outright, and node B ends the session on time, its webhook
// sent once.
func TestKilledNodesSessionEndsOnAnother(t *testing.T) {
	redisAddr := startRedis(t)
	hooks := &hookRecorder{}
	receiver := httptest.NewServer(hooks)
	t.Cleanup(receiver.Close)
	env := []string{
		"PRESENCE_STORE=redis://" + redisAddr + "/0",
		"PRESENCE_API_KEY=" + testAPIKey,
		"PRESENCE_WEBHOOK_URL=" + receiver.URL,
		"PRESENCE_WARN_AFTER=2s",
		"PRESENCE_EXPIRE_AFTER=4s",
		"PRESENCE_RECOVERY_GRACE=1s",
	}
	addrA, nodeA, _ := startProcess(t, env...)
	addrB, _, logsB := startProcess(t, env...)
	time.Sleep(1100 * time.Millisecond) // B has run past its grace, as a node that was up all along

	registered := time.Now()
	code, body := apiCall(t, "http://"+addrA, "POST", "/api/v1/activity", `{"sessions": [{"sid": "orphan", "uid": "u1"}]}`)
	if code != 200 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("register on node A: %d %s", code, body)
	}
	if err := nodeA.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	nodeA.Wait()

	deadline := registered.Add(4 * time.Second)
	for time.Now().Before(deadline.Add(3 * time.Second)) {
		if got, _ := hooks.deliveries(); len(got) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second delivery would come now
	got, at := hooks.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d webhook deliveries, want 1: %q; node B's logs:\n%s", len(got), got, logsB.String())
	}
	if !strings.Contains(got[0], `"sid":"orphan"`) || !strings.Contains(got[0], `"uid":"u1"`) || !strings.Contains(got[0], `"reason":"idle"`) {
		t.Errorf("delivery = %s, want orphan's idle end with its user", got[0])
	}
	if late := at[0].Sub(deadline); late > 1500*time.Millisecond || late < 0 {
		t.Errorf("the end was delivered %v after the deadline, want within about 1 s", late)
	}
	if code, body := apiCall(t, "http://"+addrB, "GET", "/api/v1/sessions/orphan", ""); !strings.Contains(body, `"status":"expired"`) {
		t.Errorf("node B: %d %s, want expired", code, body)
	}
}

// apiCall calls the server API with the test key and returns the answer.
func apiCall(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// presence warns at start when its Redis keeps nothing on disk: a
// restart would forget the ended sessions no node remembers.
func TestWarnsOfRedisWithoutPersistence(t *testing.T) {
	redisAddr := startRedis(t) // --save "" --appendonly no
	core, logs := observer.New(zap.WarnLevel)
	cfg, err := parseConfig([]string{"-store", "redis://" + redisAddr + "/0"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	store, _, client, err := openStore(cfg, deps{log: zap.New(core), clock: clock.System()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if n := logs.FilterMessageSnippet("keeps nothing on disk").Len(); n != 1 {
		t.Fatalf("%d warnings of a Redis without persistence, want 1: %v", n, logs.All())
	}
	if err := client.ConfigSet(t.Context(), "appendonly", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	if !persistent(t.Context(), client) {
		t.Error("a Redis with AOF on is not taken as persistent")
	}
}
