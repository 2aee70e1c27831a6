package backend

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/presence-dev/presence/webhook"
)

// TestEndToEndWebhook runs presence's own webhook.Sender against an
// application server that mounts WebhookHandler and Middleware, over real
// HTTP on 127.0.0.1: an end presence delivers logs the person out on
// their next request, and a delivery signed with another secret changes
// nothing.
func TestEndToEndWebhook(t *testing.T) {
	t.Parallel()
	sidSecret := []byte("the application's own sid secret!!")
	ended := NewEnded(EndedOptions{})
	rec := &onEnds{}
	sessionID := func(r *http.Request) (string, bool) {
		c, err := r.Cookie("login")
		if err != nil {
			return "", false
		}
		return SessionID(sidSecret, c.Value), true
	}
	mux := http.NewServeMux()
	mux.Handle("POST /presence/webhook", WebhookHandler(WebhookOptions{Secrets: [][]byte{secret}, Ended: ended, OnEnd: rec.OnEnd, Logger: discardLogger()}))
	mux.Handle("GET /{$}", okHandler)
	app := httptest.NewServer(Middleware(MiddlewareOptions{SessionID: sessionID, Ended: ended, LoginURL: "/login"})(mux))
	t.Cleanup(app.Close)

	page := func(loginKey string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", app.URL+"/", nil)
		req.AddCookie(&http.Cookie{Name: "login", Value: loginKey})
		c := *app.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deliver := func(signWith []byte, e webhook.Event) {
		t.Helper()
		s, err := webhook.NewSender(webhook.Options{URL: app.URL + "/presence/webhook", Secret: signWith, Client: app.Client(), MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		s.Send(context.Background(), e)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}

	if code := page("alice-key"); code != 200 {
		t.Fatalf("live session: %d", code)
	}
	aliceSID := SessionID(sidSecret, "alice-key")
	deliver(oldSecret, webhook.Event{SID: aliceSID, Reason: "revoked", At: time.Now()})
	if code := page("alice-key"); code != 200 || len(rec.calls()) != 0 {
		t.Fatalf("after a forged end: %d, %d OnEnd calls; want 200, 0", code, len(rec.calls()))
	}
	at := time.Now()
	deliver(secret, webhook.Event{SID: aliceSID, UID: "alice", Reason: "idle", At: at})
	deliver(secret, webhook.Event{SID: aliceSID, UID: "alice", Reason: "idle", At: at}) // a repeat
	if code := page("alice-key"); code != http.StatusSeeOther {
		t.Errorf("after presence ended the session: %d, want 303", code)
	}
	if code := page("bob-key"); code != 200 {
		t.Errorf("another session: %d, want 200", code)
	}
	calls := rec.calls()
	if len(calls) != 2 || calls[0].SID != aliceSID || calls[0].UID != "alice" || calls[0].Reason != "idle" || !calls[0].At.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("OnEnd calls %+v", calls)
	}
}
