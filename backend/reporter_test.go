package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// batchAPI is a fake of presence's POST /api/v1/activity: it records
// every batch and answers each session with the status set for it
// (active by default), or with the failure set for the next calls.
type batchAPI struct {
	srv *httptest.Server

	mu       sync.Mutex
	batches  [][]map[string]any
	statuses map[string]string
	fail     int    // the next calls answer 503 while > 0
	refuse   string // the sid a batch is refused for, with a 400 naming it
}

func newBatchAPI(t *testing.T) *batchAPI {
	t.Helper()
	a := &batchAPI{statuses: map[string]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *batchAPI) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/activity" || r.Header.Get("Authorization") != "Bearer "+apiKey {
		http.Error(w, "wrong request", 400)
		return
	}
	var req struct {
		Sessions []map[string]any `json:"sessions"`
	}
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &req)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail > 0 {
		a.fail--
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		fmt.Fprint(w, `{"error":{"code":"store_unavailable","message":"try later"}}`)
		return
	}
	for i, s := range req.Sessions {
		if s["sid"] == a.refuse {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"error":{"code":"bad_request","message":"sessions[%d]: uid is too long","index":%d}}`, i, i)
			return
		}
	}
	a.batches = append(a.batches, req.Sessions)
	var out []map[string]any
	for _, s := range req.Sessions {
		st := a.statuses[s["sid"].(string)]
		if st == "" {
			st = "active"
		}
		out = append(out, map[string]any{"sid": s["sid"], "status": st, "expire_in_s": 600})
	}
	json.NewEncoder(w).Encode(map[string]any{"sessions": out})
}

// sent returns every entry presence recorded, in order.
func (a *batchAPI) sent() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	var all []map[string]any
	for _, b := range a.batches {
		all = append(all, b...)
	}
	return all
}

func newTestReporter(t *testing.T, a *batchAPI, opts ReporterOptions) *Reporter {
	t.Helper()
	opts.Client = newTestClient(t, a.srv.URL, a.srv.Client())
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	if opts.FlushEvery == 0 {
		opts.FlushEvery = time.Hour // the tests flush by hand
	}
	r, err := NewReporter(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

// Reports wait in the process, one per session with its latest activity
// and its login's terms, and go out in one batch.
func TestReporterBatchesOneEntryPerSession(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	clk := newFakeClock()
	r := newTestReporter(t, a, ReporterOptions{Now: clk.Now})
	r.Login("s1", Login{UID: "u1", WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second, EndAt: time.Unix(1796025600, 0)})
	clk.Advance(3 * time.Second)
	r.Activity("s2")
	clk.Advance(2 * time.Second)
	r.Activity("s2")
	r.Activity("s3")
	clk.Advance(4 * time.Second)
	r.Flush()
	eventually(t, "the batch sent", func() bool { return len(a.sent()) == 3 })
	got := map[string]map[string]any{}
	for _, e := range a.sent() {
		got[e["sid"].(string)] = e
	}
	want := map[string]string{
		"s1": `map[end_at:1.7960256e+09 expire_after:30 idle_s:9 sid:s1 uid:u1 warn_after:20]`,
		"s2": `map[idle_s:4 sid:s2]`,
		"s3": `map[idle_s:4 sid:s3]`,
	}
	for sid, w := range want {
		if g := fmt.Sprint(got[sid]); g != w {
			t.Errorf("%s sent as %s, want %s", sid, g, w)
		}
	}
	// A later report of a logged-in session carries its login again.
	r.Activity("s1")
	r.Flush()
	eventually(t, "the second batch sent", func() bool { return len(a.sent()) == 4 })
	if e := a.sent()[3]; e["uid"] != "u1" || e["expire_after"] != 30.0 {
		t.Errorf("later report of s1 = %v, want its login's uid and limits", e)
	}
}

// A refused entry is dropped and logged; the rest go out at once.
func TestReporterDropsARefusedEntry(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	a.refuse = "bad"
	var logs syncBuffer
	r := newTestReporter(t, a, ReporterOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, sid := range []string{"a", "bad", "b"} {
		r.Activity(sid)
	}
	r.Flush()
	eventually(t, "the rest sent", func() bool { return len(a.sent()) == 2 })
	var sids []string
	for _, e := range a.sent() {
		sids = append(sids, e["sid"].(string))
	}
	slices.Sort(sids)
	if !slices.Equal(sids, []string{"a", "b"}) {
		t.Errorf("sent %v, want a and b", sids)
	}
	if !strings.Contains(logs.String(), "sid=bad") || !strings.Contains(logs.String(), "uid is too long") {
		t.Errorf("the refusal was not logged: %s", logs.String())
	}
}

// While presence cannot answer, reports wait, and go out once it is back,
// with their idle time counted from the request that made them; nothing
// waits on the network meanwhile.
func TestReporterKeepsReportsThroughAnOutage(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	clk := newFakeClock()
	var logs syncBuffer
	r := newTestReporter(t, a, ReporterOptions{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	a.mu.Lock()
	a.fail = 2
	a.mu.Unlock()
	r.Activity("s1")
	r.Flush()
	eventually(t, "the first failure", func() bool { return strings.Contains(logs.String(), "cannot be reached") })
	clk.Advance(5 * time.Second)
	start := time.Now()
	r.Activity("s2") // never waits, presence down or not
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Activity took %v", d)
	}
	r.Flush()
	clk.Advance(time.Second)
	r.Flush()
	eventually(t, "sent once presence is back", func() bool { return len(a.sent()) == 2 })
	for _, e := range a.sent() {
		want := map[string]float64{"s1": 6, "s2": 1}[e["sid"].(string)]
		if e["idle_s"] != want {
			t.Errorf("%v: idle_s, want %v", e, want)
		}
	}
}

// The queue is bounded: past MaxQueued sessions, new reports are dropped
// and counted; a session already queued is updated.
func TestReporterQueueBounded(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	var logs syncBuffer
	r := newTestReporter(t, a, ReporterOptions{MaxQueued: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, sid := range []string{"a", "b", "c", "a"} {
		r.Activity(sid)
	}
	if !strings.Contains(logs.String(), "dropped_reports=1") {
		t.Errorf("the drop was not logged: %s", logs.String())
	}
	r.Flush()
	eventually(t, "sent", func() bool { return len(a.sent()) == 2 })
}

// Batches are split at MaxBatch; statuses that say expired reach Ended.
func TestReporterSplitsAndLearnsEnds(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	a.statuses["s7"] = "expired"
	ended := NewEnded(EndedOptions{})
	r := newTestReporter(t, a, ReporterOptions{Ended: ended})
	for i := range MaxBatch + 5 {
		r.Activity(fmt.Sprintf("s%d", i))
	}
	r.Flush()
	eventually(t, "sent", func() bool { return len(a.sent()) == MaxBatch+5 })
	a.mu.Lock()
	sizes := []int{len(a.batches[0]), len(a.batches[1])}
	a.mu.Unlock()
	if sizes[0] != MaxBatch || sizes[1] != 5 {
		t.Errorf("batches of %v, want %d and 5", sizes, MaxBatch)
	}
	if reason, ok := ended.Has("s7"); !ok || reason != "expired" {
		t.Errorf("s7 in Ended: %q, %v; want expired", reason, ok)
	}
	if _, ok := ended.Has("s8"); ok {
		t.Error("an active session was recorded as ended")
	}
}

// Close sends what is left.
func TestReporterCloseFlushes(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	r := newTestReporter(t, a, ReporterOptions{})
	r.Activity("last")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.sent(); len(got) != 1 || got[0]["sid"] != "last" {
		t.Errorf("sent %v, want the last report", got)
	}
}

// The middleware reports the requests of logged-in sessions, but not of
// passive paths nor of ended sessions.
func TestMiddlewareReportsActivity(t *testing.T) {
	t.Parallel()
	a := newBatchAPI(t)
	r := newTestReporter(t, a, ReporterOptions{})
	ended := NewEnded(EndedOptions{})
	ended.Add("p1-gone", "idle")
	h := Middleware(MiddlewareOptions{SessionID: sidHeader, Ended: ended, Reporter: r, PassivePaths: []string{"/poll", "/live/*"}})(okHandler)
	for _, c := range []struct{ sid, path string }{
		{"p1-a", "/page"}, {"p1-b", "/poll"}, {"p1-c", "/live/feed"}, {"p1-gone", "/page"}, {"", "/page"}, {"p1-d", "/polling"},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.sid != "" {
			req.Header.Set("X-Test-SID", c.sid)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	r.Flush()
	eventually(t, "sent", func() bool { return len(a.sent()) == 2 })
	var sids []string
	for _, e := range a.sent() {
		sids = append(sids, e["sid"].(string))
	}
	slices.Sort(sids)
	if !slices.Equal(sids, []string{"p1-a", "p1-d"}) {
		t.Errorf("reported %v, want p1-a and p1-d", sids)
	}
}
