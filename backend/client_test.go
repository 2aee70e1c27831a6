package backend

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const apiKey = "test-api-key"

// fakeAPI is an httptest stand-in for presence's API: it records each
// request and answers with the reply its test sets.
type fakeAPI struct {
	srv *httptest.Server

	mu     sync.Mutex
	status int
	body   string
	block  bool // hold each request until the client gives up
	got    []apiRequest
}

type apiRequest struct {
	method, path, auth, accept, contentType, body string
}

func newFakeAPI(t *testing.T, status int, body string) *fakeAPI {
	t.Helper()
	f := &fakeAPI{status: status, body: body}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, apiRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(b)})
		status, body, block := f.status, f.body, f.block
		f.mu.Unlock()
		if block {
			<-r.Context().Done()
			return
		}
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) reply(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

// hold makes the API hold every request until its client gives up.
func (f *fakeAPI) hold(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.block = on
}

func (f *fakeAPI) requests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.got...)
}

func newTestClient(t *testing.T, base string, hc *http.Client) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{BaseURL: base, APIKey: apiKey, HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	activeBody  = `{"sid":"p1-ab","status":"active","idle_s":12,"tabs":3,"sockets":2,"expire_in_s":588}`
	expiredBody = `{"sid":"p1-ab","status":"expired","idle_s":600,"tabs":0,"expire_in_s":0}`
	unknownBody = `{"sid":"p1-ab","status":"unknown","idle_s":0,"tabs":0,"expire_in_s":0,"error":{"code":"not_found","message":"no such session"}}`
)

func TestClient(t *testing.T) {
	t.Parallel()
	active := Status{SID: "p1-ab", Status: "active", IdleSeconds: 12, Tabs: 3, Sockets: 2, ExpireInSeconds: 588}
	cases := []struct {
		name       string
		call       func(*Client) (Status, error)
		status     int
		body       string
		wantReq    apiRequest // auth and accept are checked for every request
		want       Status
		wantAPIErr *APIError
	}{
		{
			"session", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			200, activeBody, apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"}, active, nil,
		},
		{
			"session expired", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			200, expiredBody, apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{SID: "p1-ab", Status: "expired", IdleSeconds: 600}, nil,
		},
		{
			"unknown session", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			404, unknownBody, apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{SID: "p1-ab", Status: "unknown"}, nil,
		},
		{
			"session with an absolute end", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			200, `{"sid":"p1-ab","status":"active","idle_s":12,"tabs":2,"expire_in_s":588,"ends_at":1796025600}`,
			apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{SID: "p1-ab", Status: "active", IdleSeconds: 12, Tabs: 2, ExpireInSeconds: 588, EndsAt: 1796025600}, nil,
		},
		{
			"unknown members ignored", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			200, `{"sid":"p1-ab","status":"warning","idle_s":545,"tabs":1,"expire_in_s":55,"since":"later"}`,
			apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{SID: "p1-ab", Status: "warning", IdleSeconds: 545, Tabs: 1, ExpireInSeconds: 55}, nil,
		},
		{
			"activity", func(c *Client) (Status, error) {
				return c.Activity(context.Background(), "p1-ab", 90500*time.Millisecond)
			},
			200, activeBody, apiRequest{method: "POST", path: "/api/v1/sessions/p1-ab/activity", contentType: "application/json", body: `{"idle_s":90}`},
			active, nil,
		},
		{
			"activity, negative idle", func(c *Client) (Status, error) { return c.Activity(context.Background(), "p1-ab", -time.Second) },
			200, activeBody, apiRequest{method: "POST", path: "/api/v1/sessions/p1-ab/activity", contentType: "application/json", body: `{"idle_s":0}`},
			active, nil,
		},
		{
			"logout", func(c *Client) (Status, error) { return c.Logout(context.Background(), "p1-ab", "revoked") },
			200, expiredBody, apiRequest{method: "POST", path: "/api/v1/sessions/p1-ab/logout", contentType: "application/json", body: `{"reason":"revoked"}`},
			Status{SID: "p1-ab", Status: "expired", IdleSeconds: 600}, nil,
		},
		{
			"logout, default reason", func(c *Client) (Status, error) { return c.Logout(context.Background(), "p1-ab", "") },
			200, expiredBody, apiRequest{method: "POST", path: "/api/v1/sessions/p1-ab/logout", contentType: "application/json", body: `{}`},
			Status{SID: "p1-ab", Status: "expired", IdleSeconds: 600}, nil,
		},
		{
			"unauthorized", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			401, `{"error":{"code":"unauthorized","message":"bad API key"}}`, apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{}, &APIError{401, "unauthorized", "bad API key"},
		},
		{
			"bad request", func(c *Client) (Status, error) { return c.Logout(context.Background(), "p1-ab", "bored") },
			400, `{"error":{"code":"bad_field","message":"reason must be logout or revoked"}}`,
			apiRequest{method: "POST", path: "/api/v1/sessions/p1-ab/logout", contentType: "application/json", body: `{"reason":"bored"}`},
			Status{}, &APIError{400, "bad_field", "reason must be logout or revoked"},
		},
		{
			"unavailable, not JSON", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			503, "store unreachable\n", apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{}, &APIError{503, "", "store unreachable"},
		},
		{
			"404 that is not presence's", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			404, "404 page not found\n", apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{}, &APIError{404, "", "404 page not found"},
		},
		{
			"200 that is not a session", func(c *Client) (Status, error) { return c.Session(context.Background(), "p1-ab") },
			200, "<html>login</html>", apiRequest{method: "GET", path: "/api/v1/sessions/p1-ab"},
			Status{}, &APIError{200, "", "the answer is not a session object: <html>login</html>"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, c.status, c.body)
			got, err := c.call(newTestClient(t, api.srv.URL, api.srv.Client()))
			if c.wantAPIErr != nil {
				var ae *APIError
				if !errors.As(err, &ae) || *ae != *c.wantAPIErr {
					t.Errorf("error %#v, want %#v", err, c.wantAPIErr)
				}
			} else if err != nil {
				t.Errorf("error: %v", err)
			}
			if got != c.want {
				t.Errorf("status %+v, want %+v", got, c.want)
			}
			reqs := api.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			c.wantReq.auth, c.wantReq.accept = "Bearer "+apiKey, "application/json"
			if reqs[0] != c.wantReq {
				t.Errorf("request %+v, want %+v", reqs[0], c.wantReq)
			}
		})
	}
}

func TestClientBaseURLWithPath(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, 200, activeBody)
	c := newTestClient(t, api.srv.URL+"/presence/", api.srv.Client())
	if _, err := c.Session(context.Background(), "p1-ab"); err != nil {
		t.Fatal(err)
	}
	if p := api.requests()[0].path; p != "/presence/api/v1/sessions/p1-ab" {
		t.Errorf("path %q", p)
	}
}

func TestClientFailures(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, 200, activeBody)
	c := newTestClient(t, api.srv.URL, api.srv.Client())
	for _, sid := range []string{"", "..", "a/b", "a?b=c", strings.Repeat("x", 129)} {
		if _, err := c.Session(context.Background(), sid); err == nil {
			t.Errorf("Session(%q) succeeded", sid)
		}
	}
	if n := len(api.requests()); n != 0 {
		t.Errorf("%d requests made for invalid session ids", n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Session(ctx, "p1-ab"); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, err := newTestClient(t, dead.URL, nil).Session(context.Background(), "p1-ab")
	if _, ok := errors.AsType[*APIError](err); err == nil || ok {
		t.Errorf("unreachable: %v, want a network error", err)
	}
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, 200, activeBody)
	api.hold(true)
	c := newTestClient(t, api.srv.URL, &http.Client{Timeout: 50 * time.Millisecond})
	start := time.Now()
	if _, err := c.Session(context.Background(), "p1-ab"); err == nil {
		t.Error("no error from a blocked API")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the call took %v despite a 50ms timeout", d)
	}
	c.http.CloseIdleConnections()
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	for _, o := range []ClientOptions{
		{APIKey: apiKey},
		{BaseURL: "presence.example.com", APIKey: apiKey},
		{BaseURL: "ftp://presence.example.com", APIKey: apiKey},
		{BaseURL: "https://presence.example.com/?x=1", APIKey: apiKey},
		{BaseURL: "https://presence.example.com"},
		{BaseURL: "https://presence.example.com", APIKey: "a\r\nX-Evil: 1"},
	} {
		if _, err := NewClient(o); err == nil {
			t.Errorf("NewClient(%+v) succeeded", o)
		}
	}
	for _, c := range []struct {
		hc   *http.Client
		want time.Duration
	}{
		{nil, 5 * time.Second},
		{&http.Client{}, 5 * time.Second},
		{&http.Client{Timeout: time.Second}, time.Second},
	} {
		cl, err := NewClient(ClientOptions{BaseURL: "https://presence.example.com/", APIKey: apiKey, HTTP: c.hc})
		if err != nil {
			t.Fatal(err)
		}
		if cl.timeout != c.want || cl.http.Timeout == 0 && c.hc == nil || cl.base != "https://presence.example.com" {
			t.Errorf("HTTP %+v: timeout %v (want %v), base %q", c.hc, cl.timeout, c.want, cl.base)
		}
	}
}
