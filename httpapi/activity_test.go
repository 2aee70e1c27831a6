package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// batch posts sessions to /api/v1/activity and returns the answer.
func (e *env) batch(t *testing.T, sessions ...string) (int, map[string]any) {
	t.Helper()
	return e.api(t, "POST", "/api/v1/activity", testAPIKey, `{"sessions": [`+strings.Join(sessions, ",")+`]}`)
}

// batchAnswer returns the sessions of a batch's answer.
func batchAnswer(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	list, ok := body["sessions"].([]any)
	if !ok {
		t.Fatalf("answer %v has no sessions", body)
	}
	var out []map[string]any
	for _, s := range list {
		out = append(out, s.(map[string]any))
	}
	return out
}

// A batch registers the sessions presence does not know, with the limits
// and user given (a login with no tab), reports activity for the known
// ones, and answers each in order; an ended session stays ended.
func TestBatchRegistersAndReports(t *testing.T) {
	e := newEnv(t)
	tab := e.dial(t)
	tab.Hello(e.token("known"), 0)
	e.api(t, "POST", "/api/v1/sessions/ended/logout", testAPIKey, "")
	e.advance(6 * time.Second)
	tab.Expect(protocol.TypeWarn)

	status, body := e.batch(t,
		`{"sid": "login", "uid": "u1", "warn_after": 20, "expire_after": 30}`,
		`{"sid": "known", "idle_s": 1}`,
		`{"sid": "ended"}`,
		`{"sid": "defaults", "idle_s": 2}`,
	)
	if status != 200 {
		t.Fatalf("batch: %d %v", status, body)
	}
	want := []map[string]any{
		{"sid": "login", "status": "active", "expire_in_s": 30.0},
		{"sid": "known", "status": "active", "expire_in_s": 9.0},
		{"sid": "ended", "status": "expired", "expire_in_s": 0.0},
		{"sid": "defaults", "status": "active", "expire_in_s": 8.0},
	}
	got := batchAnswer(t, body)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answer = %v, want %v", got, want)
	}
	if st := tab.Expect(protocol.TypeState); st.Status != protocol.StatusActive {
		t.Errorf("the known session's tab got %+v, want its warning lifted", st)
	}
	// The login, with no tab anywhere, warns and ends by its own limits,
	// and its end is reported with its user.
	if _, s := e.api(t, "GET", "/api/v1/sessions/login", testAPIKey, ""); s["status"] != "active" || s["expire_in_s"] != 30.0 {
		t.Errorf("login after the batch: %v", s)
	}
	e.advance(20 * time.Second)
	if _, s := e.api(t, "GET", "/api/v1/sessions/login", testAPIKey, ""); s["status"] != "warning" {
		t.Errorf("login at warn_after: %v, want warning", s)
	}
	e.advance(10 * time.Second)
	eventually(t, "the login's end reported", func() bool {
		for _, end := range e.endsSoFar() {
			if end.SID == "login" {
				return end.UID == "u1" && end.Reason == session.ReasonIdle
			}
		}
		return false
	})
}

// A bad entry fails the whole batch before anything is recorded, with a
// 400 that names its index and what is wrong.
func TestBatchRefusals(t *testing.T) {
	e := newEnv(t)
	good := `{"sid": "good"}`
	cases := []struct {
		name, body string
		status     int
		code       string
		index      float64 // -1: no index
		message    string
	}{
		{"no sessions", `{}`, 400, "bad_request", -1, `{"sessions": [...]}`},
		{"not an object", `[]`, 400, "bad_request", -1, "JSON object"},
		{"unknown member", `{"sessions": [` + good + `, {"sid": "x", "idle": 1}]}`, 400, "bad_request", 1, "sessions[1]"},
		{"missing sid", `{"sessions": [` + good + `, {"idle_s": 1}]}`, 400, "bad_request", 1, "sid is missing"},
		{"bad sid", `{"sessions": [{"sid": "a b"}]}`, 400, "bad_request", 0, "sessions[0]: sid has byte 0x20"},
		{"idle_s not a number", `{"sessions": [` + good + `, ` + good + `, {"sid": "x", "idle_s": "1"}]}`, 400, "bad_request", 2, "sessions[2]"},
		{"warn not below expire", `{"sessions": [{"sid": "x", "warn_after": 30, "expire_after": 20}]}`, 400, "bad_request", 0, "warn_after is 30 s, not less than expire_after"},
		{"warn past the default expire", `{"sessions": [{"sid": "x", "warn_after": 30}]}`, 400, "bad_request", 0, "warn_after"},
		{"negative limit", `{"sessions": [{"sid": "x", "expire_after": -1}]}`, 400, "bad_request", 0, "expire_after is -1"},
		{"user too long", `{"sessions": [{"sid": "x", "uid": "` + strings.Repeat("u", 257) + `"}]}`, 400, "bad_request", 0, "uid is 257 bytes"},
		{"negative end_at", `{"sessions": [` + good + `, {"sid": "x", "end_at": -1}]}`, 400, "bad_request", 1, "sessions[1]: end_at is -1"},
		{"end_at in milliseconds", `{"sessions": [{"sid": "x", "end_at": 1767225600000}]}`, 400, "bad_request", 0, "not milliseconds"},
		{"too many", `{"sessions": [` + strings.TrimSuffix(strings.Repeat(good+",", maxBatch+1), ",") + `]}`, 413, "too_large", -1, "at most 1000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := e.api(t, "POST", "/api/v1/activity", testAPIKey, c.body)
			errObj, _ := body["error"].(map[string]any)
			index, hasIndex := errObj["index"].(float64)
			msg, _ := errObj["message"].(string)
			if status != c.status || errorCode(body) != c.code || !strings.Contains(msg, c.message) {
				t.Errorf("%d %v, want %d %s with %q", status, body, c.status, c.code, c.message)
			}
			if (c.index >= 0) != hasIndex || (hasIndex && index != c.index) {
				t.Errorf("index %v (%v), want %v", index, hasIndex, c.index)
			}
		})
	}
	// Nothing of a refused batch was recorded, its good entries included.
	if status, _ := e.api(t, "GET", "/api/v1/sessions/good", testAPIKey, ""); status != 404 {
		t.Errorf("a refused batch registered its good entry: GET answered %d", status)
	}
	if status, body := e.api(t, "GET", "/api/v1/activity", testAPIKey, ""); status != 405 || errorCode(body) != "method_not_allowed" {
		t.Errorf("GET /api/v1/activity: %d %v", status, body)
	}
}

// The single-session activity takes the batch's members, and registers a
// login with its limits and user.
func TestActivityRegistersALogin(t *testing.T) {
	e := newEnv(t)
	status, body := e.api(t, "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"uid": "u7", "warn_after": 60, "expire_after": 90}`)
	if status != 200 || body["status"] != "active" || body["expire_in_s"] != 90.0 || body["tabs"] != 0.0 {
		t.Fatalf("activity: %d %v", status, body)
	}
	if status, body := e.api(t, "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{"sid": "s2"}`); status != 400 || errorCode(body) != "bad_request" {
		t.Errorf("a sid in the body: %d %v, want 400", status, body)
	}
	e.advance(90 * time.Second)
	eventually(t, "the end reported", func() bool {
		ends := e.endsSoFar()
		return len(ends) == 1 && ends[0].SID == "s1" && ends[0].UID == "u7"
	})
}

// A login registered with end_at ends then, whatever the activity, with
// reason lifetime; the session's answer gives its ends_at until then.
func TestActivityRegistersAnAbsoluteEnd(t *testing.T) {
	e := newEnv(t)
	endAt := e.clock.Now().Add(time.Hour).Unix()
	status, body := e.api(t, "POST", "/api/v1/sessions/s1/activity", testAPIKey, fmt.Sprintf(`{"uid": "u7", "warn_after": 400, "expire_after": 600, "end_at": %d}`, endAt))
	if status != 200 || body["ends_at"] != float64(endAt) {
		t.Fatalf("activity: %d %v, want ends_at %d", status, body, endAt)
	}
	if _, body := e.api(t, "GET", "/api/v1/sessions/plain", testAPIKey, ""); body["ends_at"] != nil {
		t.Errorf("a session without an end: %v", body)
	}
	for range 12 { // active every 5 minutes: the idle end never comes
		e.advance(5 * time.Minute)
		if status, body := e.api(t, "POST", "/api/v1/sessions/s1/activity", testAPIKey, `{}`); status != 200 {
			t.Fatalf("activity: %d %v", status, body)
		}
	}
	eventually(t, "the lifetime end reported", func() bool {
		ends := e.endsSoFar()
		return len(ends) == 1 && ends[0].Reason == session.ReasonLifetime
	})
	if _, body := e.api(t, "GET", "/api/v1/sessions/s1", testAPIKey, ""); body["status"] != "expired" || body["ends_at"] != nil {
		t.Errorf("after the end: %v", body)
	}
}
