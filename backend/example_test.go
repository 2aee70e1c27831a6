package backend_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/presence-dev/presence/backend"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

// Example wires a net/http application to presence: the login view starts
// a login session, each page carries a token for presence.js, the webhook
// route deletes the login session presence ended, and Middleware refuses
// its requests meanwhile. Then it plays presence's part, ending the
// session through the webhook.
func Example() {
	var (
		presenceSecret = []byte("presence's -secret: 32 random bytes or more") // signs tokens and webhooks
		sidSecret      = []byte("the application's own secret, 32 bytes or more")
	)
	// The application's login sessions, and an index from each one's
	// presence sid to its key, so that OnEnd can find it.
	var logins, keys sync.Map
	// Keep: presence's -token-max-age.
	ended := backend.NewEnded(backend.EndedOptions{Keep: 12 * time.Hour})

	sessionID := func(r *http.Request) (string, bool) {
		c, err := r.Cookie("sessionid")
		if err != nil {
			return "", false
		}
		if _, ok := logins.Load(c.Value); !ok {
			return "", false
		}
		return backend.SessionID(sidSecret, c.Value), true
	}
	page := template.Must(template.New("page").Parse(
		`<script src="https://presence.example.com/presence.js" data-token="{{.}}" defer></script>`))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		key := rand.Text() // a fresh login session, and so a fresh sid, at every login
		logins.Store(key, "alice")
		keys.Store(backend.SessionID(sidSecret, key), key)
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: key, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		sid, ok := sessionID(r)
		if !ok {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		token, err := backend.Mint(presenceSecret, session.Claims{SID: sid, LogoutURL: "/login"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		page.Execute(w, token)
	})
	mux.Handle("POST /presence/webhook", backend.WebhookHandler(backend.WebhookOptions{
		Secrets: [][]byte{presenceSecret},
		Ended:   ended,
		OnEnd: func(ctx context.Context, e webhook.Event) error {
			if key, ok := keys.LoadAndDelete(e.SID); ok {
				logins.Delete(key) // log out on the server: idempotent
			}
			return nil
		},
	}))
	app := httptest.NewTLSServer(backend.Middleware(backend.MiddlewareOptions{
		SessionID: sessionID,
		Ended:     ended,
		LoginURL:  "/login",
	})(mux))
	defer app.Close()

	// A browser logs in and loads a page.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: app.Client().Transport, Jar: jar}
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Post(app.URL+"/login", "", nil)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	resp, err = browser.Get(app.URL + "/")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("page:", resp.StatusCode, strings.Contains(string(body), `data-token="`))

	// The person leaves; presence expires the session and says so.
	var sid string
	keys.Range(func(k, _ any) bool { sid = k.(string); return false })
	event := fmt.Sprintf(`{"sid":%q,"uid":"alice","reason":"idle","at":%q}`, sid, time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	req, _ := http.NewRequest("POST", app.URL+"/presence/webhook", strings.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(presenceSecret, []byte(event), time.Now()))
	resp, err = app.Client().Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("webhook:", resp.StatusCode)

	// The next request, from a tab left open or without script, is refused.
	resp, err = browser.Get(app.URL + "/")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println("page:", resp.StatusCode, resp.Header.Get("Location"))
	// Output:
	// page: 200 true
	// webhook: 204
	// page: 303 /login
}

func ExampleMiddleware() {
	ended := backend.NewEnded(backend.EndedOptions{}) // fed by WebhookHandler
	sidSecret := []byte("the application's own secret, 32 bytes or more")
	guard := backend.Middleware(backend.MiddlewareOptions{
		SessionID: func(r *http.Request) (string, bool) {
			c, err := r.Cookie("sessionid")
			if err != nil {
				return "", false // not logged in: passes through
			}
			return backend.SessionID(sidSecret, c.Value), true
		},
		Ended:    ended,
		LoginURL: "/login",
	})
	app := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "account page")
	}))

	request := func(loginKey string) {
		r := httptest.NewRequest("GET", "/account", nil)
		if loginKey != "" {
			r.AddCookie(&http.Cookie{Name: "sessionid", Value: loginKey})
		}
		w := httptest.NewRecorder()
		app.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"), w.Body.String())
	}
	request("")
	request("k2x9q0v8")
	ended.Add(backend.SessionID(sidSecret, "k2x9q0v8"), "idle") // as the webhook would
	request("k2x9q0v8")
	// Output:
	// 200  account page
	// 200  account page
	// 303 /login <a href="/login">See Other</a>.
}

// ExampleMiddleware_api has Middleware also ask presence's API about
// sessions the webhook has not reported, as the processes of an
// application that runs several must: each webhook reaches only one.
func ExampleMiddleware_api() {
	client, err := backend.NewClient(backend.ClientOptions{
		BaseURL: "https://presence.example.com",
		APIKey:  "the key presence's API was enabled with",
		HTTP:    &http.Client{Timeout: time.Second}, // the longest a request waits
	})
	if err != nil {
		panic(err)
	}
	guard := backend.Middleware(backend.MiddlewareOptions{
		SessionID:  func(r *http.Request) (string, bool) { return r.Header.Get("X-Presence-SID"), true },
		Ended:      backend.NewEnded(backend.EndedOptions{}),
		Client:     client,
		CheckEvery: 30 * time.Second,
	})
	http.Handle("/", guard(http.NotFoundHandler()))
}

func ExampleWebhookHandler() {
	presenceSecret := []byte("presence's -secret: 32 random bytes or more")
	ended := backend.NewEnded(backend.EndedOptions{})
	h := backend.WebhookHandler(backend.WebhookOptions{
		Secrets: [][]byte{presenceSecret},
		Ended:   ended,
		OnEnd: func(ctx context.Context, e webhook.Event) error {
			fmt.Println("log out", e.UID, "on the server:", e.Reason)
			return nil // an error makes presence retry
		},
	})

	// What presence POSTs when session p1-5f2b9c ends.
	body := []byte(`{"sid":"p1-5f2b9c","uid":"42","reason":"idle","at":"2027-01-15T08:00:00.000Z"}`)
	for _, signature := range []string{
		webhook.Sign(presenceSecret, body, time.Now()),
		webhook.Sign([]byte("someone else's secret, 32 bytes long"), body, time.Now()),
	} {
		r := httptest.NewRequest("POST", "/presence/webhook", strings.NewReader(string(body)))
		r.Header.Set(webhook.SignatureHeader, signature)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Body)))
	}
	fmt.Println(ended.Has("p1-5f2b9c"))
	// Output:
	// log out 42 on the server: idle
	// 204
	// 401 {"error":{"code":"bad_signature","message":"webhook: signature does not match"}}
	// idle true
}

func ExampleMint() {
	presenceSecret := []byte("presence's -secret: 32 random bytes or more")
	sid := backend.SessionID([]byte("the application's own secret, 32 bytes or more"), "k2x9q0v8")
	token, err := backend.Mint(presenceSecret, session.Claims{SID: sid, UID: "42", LogoutURL: "/accounts/logout/"})
	if err != nil {
		panic(err)
	}
	// presence verifies it so:
	v, _ := session.NewVerifier(session.VerifierOptions{Secret: presenceSecret})
	c, err := v.Verify(token)
	fmt.Println(c.SID, c.UID, c.LogoutURL, err)

	_, err = backend.Mint(presenceSecret, session.Claims{SID: "the raw cookie value?"})
	fmt.Println(err)
	// Output:
	// p1-29059803f5ef398430117a3884b1b30c 42 /accounts/logout/ <nil>
	// session: token invalid: claim "sid" has byte 0x20 at 3; it may hold only A-Z a-z 0-9 . _ : -
}

func ExampleSessionID() {
	fmt.Println(backend.SessionID([]byte("the application's own secret, 32 bytes or more"), "k2x9q0v8"))
	// Output:
	// p1-29059803f5ef398430117a3884b1b30c
}

func ExampleClient() {
	client, err := backend.NewClient(backend.ClientOptions{
		BaseURL: "https://presence.example.com",
		APIKey:  "the key presence's API was enabled with",
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	sid := backend.SessionID([]byte("the application's own secret, 32 bytes or more"), "k2x9q0v8")

	// After a long upload, which no tab saw as activity:
	if _, err := client.Activity(ctx, sid, 0); err != nil {
		var apiErr *backend.APIError
		if errors.As(err, &apiErr) {
			fmt.Println(apiErr.StatusCode, apiErr.Code)
		}
	}
	// In the logout view, so that every tab leaves at once:
	client.Logout(ctx, sid, "logout")
}

// A Reporter makes every session known to presence from its login, and
// every request of the application count as activity, whether or not the
// page runs presence.js: one call in the login handler, and the Reporter
// given to Middleware. Neither ever waits on presence.
func ExampleReporter() {
	client, err := backend.NewClient(backend.ClientOptions{
		BaseURL: "http://127.0.0.1:8765",
		APIKey:  "the key presence's API was enabled with",
	})
	if err != nil {
		panic(err)
	}
	ended := backend.NewEnded(backend.EndedOptions{Keep: 12 * time.Hour}) // fed by WebhookHandler
	reporter, err := backend.NewReporter(backend.ReporterOptions{Client: client, Ended: ended})
	if err != nil {
		panic(err)
	}
	defer reporter.Close(context.Background()) // sends what is left at shutdown

	sidSecret := []byte("the application's own secret, 32 bytes or more")
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		key := rand.Text()
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: key, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
		// The limits are those minted into the session's tokens, and so is
		// the absolute end, kept with the login: its tokens' end_at.
		reporter.Login(backend.SessionID(sidSecret, key), backend.Login{UID: "alice", WarnAfter: 540 * time.Second, ExpireAfter: 600 * time.Second,
			EndAt: time.Now().Add(12 * time.Hour)})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	guard := backend.Middleware(backend.MiddlewareOptions{
		SessionID: func(r *http.Request) (string, bool) {
			c, err := r.Cookie("sessionid")
			if err != nil {
				return "", false
			}
			return backend.SessionID(sidSecret, c.Value), true
		},
		Ended:        ended,
		Reporter:     reporter,
		PassivePaths: []string{"/notifications/poll"}, // a page that polls by itself is not the person
		LoginURL:     "/login",
	})
	_ = http.ListenAndServe("127.0.0.1:8000", guard(mux))
}
