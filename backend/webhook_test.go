package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/presence-dev/presence/webhook"
)

var (
	secret    = []byte("0123456789abcdef0123456789abcdef")
	oldSecret = []byte("an older secret, rotated out, 32+ bytes")
)

const endBody = `{"sid":"p1-0a1b","uid":"42","reason":"idle","at":"2027-01-15T07:59:58.123Z"}`

// onEnds records OnEnd's calls and fails them while err is set.
type onEnds struct {
	mu     sync.Mutex
	events []webhook.Event
	err    error
}

func (o *onEnds) OnEnd(_ context.Context, e webhook.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
	return o.err
}

func (o *onEnds) calls() []webhook.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]webhook.Event(nil), o.events...)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	signedAt := newFakeClock().Now()
	sign := func(s []byte) string { return webhook.Sign(s, []byte(endBody), signedAt) }
	cases := []struct {
		name      string
		method    string
		body      string
		signature string
		now       time.Duration // after signedAt
		secrets   [][]byte
		onEndErr  error
		wantCode  int
		wantError string // the JSON error code, if any
		wantEnded bool
		wantOnEnd bool
	}{
		{"valid", "POST", endBody, sign(secret), 0, nil, nil, 204, "", true, true},
		{"valid, a little late", "POST", endBody, sign(secret), webhook.Tolerance, nil, nil, 204, "", true, true},
		{"rotation: signed with the old secret", "POST", endBody, sign(oldSecret), 0, [][]byte{secret, oldSecret}, nil, 204, "", true, true},
		{"tampered body", "POST", strings.Replace(endBody, "p1-0a1b", "p1-0a1c", 1), sign(secret), 0, nil, nil, 401, "bad_signature", false, false},
		{"wrong secret", "POST", endBody, sign(oldSecret), 0, nil, nil, 401, "bad_signature", false, false},
		{"stale", "POST", endBody, sign(secret), webhook.Tolerance + time.Second, nil, nil, 401, "bad_signature", false, false},
		{"from the future", "POST", endBody, sign(secret), -webhook.Tolerance - time.Second, nil, nil, 401, "bad_signature", false, false},
		{"no signature", "POST", endBody, "", 0, nil, nil, 401, "bad_signature", false, false},
		{"GET", "GET", "", "", 0, nil, nil, 405, "method_not_allowed", false, false},
		{"PUT, signed", "PUT", endBody, sign(secret), 0, nil, nil, 405, "method_not_allowed", false, false},
		{"over 64 KiB", "POST", `{"sid":"a","pad":"` + strings.Repeat("x", 64<<10) + `"}`, "", 0, nil, nil, 413, "too_large", false, false},
		{"OnEnd fails", "POST", endBody, sign(secret), 0, nil, errors.New("db down"), 500, "on_end_failed", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.secrets == nil {
				c.secrets = [][]byte{secret}
			}
			ended := NewEnded(EndedOptions{})
			rec := &onEnds{err: c.onEndErr}
			h := WebhookHandler(WebhookOptions{
				Secrets: c.secrets, Ended: ended, OnEnd: rec.OnEnd, Logger: discardLogger(),
				Now: func() time.Time { return signedAt.Add(c.now) },
			})
			req := httptest.NewRequest(c.method, "/presence/webhook", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "0123456789abcdef0123456789abcdef")
			if c.signature != "" {
				req.Header.Set(webhook.SignatureHeader, c.signature)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != c.wantCode {
				t.Errorf("status %d, want %d; body %s", w.Code, c.wantCode, w.Body)
			}
			if code := errorCode(t, w); code != c.wantError {
				t.Errorf("error code %q, want %q", code, c.wantError)
			}
			if c.wantCode == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
			reason, ok := ended.Has("p1-0a1b")
			if ok != c.wantEnded || ok && reason != "idle" {
				t.Errorf("Has = %q, %v; want ended %v", reason, ok, c.wantEnded)
			}
			calls := rec.calls()
			if len(calls) != map[bool]int{false: 0, true: 1}[c.wantOnEnd] {
				t.Fatalf("OnEnd called %d times", len(calls))
			}
			if c.wantOnEnd {
				want := webhook.Event{SID: "p1-0a1b", UID: "42", Reason: "idle", At: time.Date(2027, 1, 15, 7, 59, 58, 123e6, time.UTC)}
				if !calls[0].At.Equal(want.At) || calls[0].SID != want.SID || calls[0].UID != want.UID || calls[0].Reason != want.Reason {
					t.Errorf("OnEnd got %+v, want %+v", calls[0], want)
				}
			}
		})
	}
}

// errorCode returns the code of a JSON error answer, or "" for an empty
// body; it fails the test for any other body.
func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Body.Len() == 0 {
		return ""
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("body %q is not a JSON error: %v", w.Body, err)
	}
	return e.Error.Code
}

func TestWebhookHandlerBadEvents(t *testing.T) {
	t.Parallel()
	now := newFakeClock().Now()
	for _, body := range []string{
		``,
		`not json`,
		`[]`,
		`{"sid":1,"reason":"idle","at":"2027-01-15T08:00:00.000Z"}`,
		`{"reason":"idle","at":"2027-01-15T08:00:00.000Z"}`,
		`{"sid":"a/../b","reason":"idle","at":"2027-01-15T08:00:00.000Z"}`,
		`{"sid":"a","at":"2027-01-15T08:00:00.000Z"}`,
		`{"sid":"a","reason":"idle"}`,
		`{"sid":"a","reason":"idle","at":"yesterday"}`,
	} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			ended := NewEnded(EndedOptions{})
			rec := &onEnds{}
			h := WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, Ended: ended, OnEnd: rec.OnEnd, Logger: discardLogger(), Now: func() time.Time { return now }})
			req := httptest.NewRequest("POST", "/", strings.NewReader(body))
			req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(body), now))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 400 || errorCode(t, w) != "bad_event" {
				t.Errorf("status %d, body %s; want 400 bad_event", w.Code, w.Body)
			}
			if len(rec.calls()) != 0 {
				t.Error("OnEnd called for a bad event")
			}
		})
	}
}

// TestWebhookHandlerRepeats delivers one end twice, as presence does when
// a 204 is lost or two nodes report the same end, and once more after
// OnEnd failed: each delivery is answered, and the end is recorded once.
func TestWebhookHandlerRepeats(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	ended := NewEnded(EndedOptions{Now: clk.Now})
	rec := &onEnds{err: errors.New("db down")}
	h := WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, Ended: ended, OnEnd: rec.OnEnd, Logger: discardLogger(), Now: clk.Now})
	deliver := func() int {
		req := httptest.NewRequest("POST", "/", strings.NewReader(endBody))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(endBody), clk.Now()))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if code := deliver(); code != 500 {
		t.Fatalf("first delivery, OnEnd failing: %d, want 500", code)
	}
	rec.mu.Lock()
	rec.err = nil
	rec.mu.Unlock()
	for i := range 2 {
		clk.Advance(time.Second)
		if code := deliver(); code != 204 {
			t.Errorf("retry %d: %d, want 204", i+1, code)
		}
	}
	if n := len(rec.calls()); n != 3 {
		t.Errorf("OnEnd called %d times, want 3 (it must be idempotent)", n)
	}
	if n := ended.ends.len(); n != 1 {
		t.Errorf("%d ends recorded, want 1", n)
	}
}

func TestWebhookHandlerOnlyOnEnd(t *testing.T) {
	t.Parallel()
	rec := &onEnds{}
	now := newFakeClock().Now()
	h := WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, OnEnd: rec.OnEnd, Now: func() time.Time { return now }})
	req := httptest.NewRequest("POST", "/", strings.NewReader(endBody))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, []byte(endBody), now))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 204 || len(rec.calls()) != 1 {
		t.Errorf("status %d, %d OnEnd calls; want 204, 1", w.Code, len(rec.calls()))
	}
}

func TestWebhookHandlerLogsRefusals(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	h := WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, Ended: NewEnded(EndedOptions{}), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	req := httptest.NewRequest("POST", "/", strings.NewReader(endBody))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(oldSecret, []byte(endBody), time.Now()))
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "signature does not match") {
		t.Errorf("logs: %s", logs.String())
	}
	if strings.Contains(logs.String(), string(secret)) {
		t.Error("a secret was logged")
	}
}

func TestWebhookHandlerPanicsWithoutOptions(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]WebhookOptions{
		"no secrets":      {Ended: NewEnded(EndedOptions{})},
		"empty secret":    {Secrets: [][]byte{secret, nil}, Ended: NewEnded(EndedOptions{})},
		"nowhere to tell": {Secrets: [][]byte{secret}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("WebhookHandler did not panic")
				}
			}()
			WebhookHandler(o)
		})
	}
}

// FuzzWebhookHandler feeds the handler signed bodies of any shape: it
// must answer 204 or 400, never panic, and record only valid ends.
func FuzzWebhookHandler(f *testing.F) {
	f.Add([]byte(endBody))
	f.Add([]byte(`{"sid":"a","reason":"x","at":"2027-01-15T08:00:00Z","extra":[1,2]}`))
	f.Add([]byte(`{"sid":"","reason":"","at":null}`))
	f.Add([]byte(`{"sid":"a","sid":"b","reason":"idle","at":"2027-01-15T08:00:00Z"}`))
	now := newFakeClock().Now()
	f.Fuzz(func(t *testing.T, body []byte) {
		ended := NewEnded(EndedOptions{})
		var got []webhook.Event
		h := WebhookHandler(WebhookOptions{
			Secrets: [][]byte{secret}, Ended: ended, Logger: discardLogger(), Now: func() time.Time { return now },
			OnEnd: func(_ context.Context, e webhook.Event) error { got = append(got, e); return nil },
		})
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, body, now))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 204:
			if len(got) != 1 || !validSID(got[0].SID) || got[0].Reason == "" {
				t.Fatalf("204 for %q with OnEnd calls %+v", body, got)
			}
			if _, ok := ended.Has(got[0].SID); !ok {
				t.Fatalf("204 for %q but the end was not recorded", body)
			}
		case 400, 413:
			if len(got) != 0 {
				t.Fatalf("%d for %q, yet OnEnd was called", w.Code, body)
			}
		default:
			b, _ := io.ReadAll(w.Body)
			t.Fatalf("status %d for %q: %s", w.Code, body, b)
		}
	})
}
