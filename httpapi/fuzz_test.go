package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

// FuzzPingRequest feeds /ping's parsing any query, cookie and
// Authorization header: it never panics, an idleFor it takes is within
// session.MaxIdle, and the token it finds is one the request carried.
func FuzzPingRequest(f *testing.F) {
	for _, seed := range [][3]string{
		{"idleFor=5", "presence=abc", ""},
		{"idleFor=-7&idleFor=9", "", "Bearer xyz"},
		{"idleFor=99999999999999999999", "presence=a; presence=b", "bearer  t "},
		{"idleFor=%zz", "presence", "Basic dXNlcg=="},
		{"idleFor= 3 ", "other=1; presence=\"q\"", "Bearer"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, query, cookie, auth string) {
		r := httptest.NewRequest(http.MethodGet, "/ping", nil)
		r.URL.RawQuery = query
		r.Header.Set("Cookie", cookie)
		r.Header.Set("Authorization", auth)
		if idle, ok := parseIdleFor(r); ok && (idle < 0 || idle > session.MaxIdle) {
			t.Fatalf("idleFor %q read as %v", query, idle)
		}
		token, source := session.RequestToken(r)
		switch source {
		case session.FromNowhere:
			if token != "" {
				t.Fatalf("no source, token %q", token)
			}
		case session.FromBearer:
			if token == "" || !strings.Contains(auth, token) {
				t.Fatalf("Bearer token %q not in %q", token, auth)
			}
		case session.FromCookie:
			if token == "" || !strings.Contains(cookie, token) {
				t.Fatalf("cookie token %q not in %q", token, cookie)
			}
		default:
			t.Fatalf("source %d", source)
		}
	})
}

// FuzzBatchBody feeds the batch's parsing any body: it never panics, and
// either refuses the body with a 4xx that names an index within it, or
// takes at most maxBatch valid reports.
func FuzzBatchBody(f *testing.F) {
	for _, seed := range []string{
		`{"sessions": [{"sid": "a", "idle_s": 1, "uid": "u", "warn_after": 5, "expire_after": 10}]}`,
		`{"sessions": [{"sid": "a"}, {"sid": "b b"}]}`,
		`{"sessions": []}`, `{"sessions": null}`, `{}`, `[]`, `{"sessions": [1]}`,
		`{"sessions": [{"sid": "a", "SID": "b"}]}`, `{"sessions": [{"sid": "a", "idle_s": -1e300}]}`,
		`{"sessions": [{"sid": "a", "warn_after": 9223372036854775807}]}`,
	} {
		f.Add([]byte(seed))
	}
	v, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret,
		Defaults: session.Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	s := &Server{opts: Options{Verifier: v}}
	f.Fuzz(func(t *testing.T, body []byte) {
		reps, problem := s.parseBatch(body)
		if problem != nil {
			if problem.status < 400 || problem.status > 499 || problem.code == "" || problem.message == "" || problem.index >= len(body) {
				t.Fatalf("problem %+v", problem)
			}
			return
		}
		if len(reps) > maxBatch {
			t.Fatalf("%d reports", len(reps))
		}
		for _, r := range reps {
			if session.CheckSID(r.SID) != nil || r.Idle < 0 || r.Idle > session.MaxIdle || len(r.UID) > 256 {
				t.Fatalf("report %+v", r)
			}
			if r.Limits != (session.Limits{}) && (r.Limits.Validate() != nil) {
				t.Fatalf("limits %+v", r.Limits)
			}
		}
	})
}
