package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/presence-dev/presence/session"
)

//go:embed assets
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "assets/*.html"))

// loginCookie is the demo application's own login session cookie.
const loginCookie = "demo_login"

// Options configures the demo.
type Options struct {
	// Secret signs the tokens; presence must accept it. It must be the
	// demo's own, never the application's: anyone who reaches the demo
	// can log in to it.
	Secret []byte
	// WarnAfter and ExpireAfter are shown on the pages; the tokens leave
	// them to presence's defaults.
	WarnAfter, ExpireAfter time.Duration
}

// Handler serves the demo's pages under /demo/.
func Handler(opts Options) http.Handler {
	d := &app{opts: opts, logins: make(map[string]login)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/{$}", d.home)
	mux.HandleFunc("POST /demo/login", d.login)
	mux.HandleFunc("GET /demo/passive", d.passive)
	mux.HandleFunc("GET /demo/logged-out", d.loggedOut)
	static, _ := fs.Sub(assets, "assets") // a constant folder: cannot fail
	files := http.StripPrefix("/demo/", http.FileServerFS(static))
	mux.Handle("GET /demo/demo.css", files)
	mux.Handle("GET /demo/demo.js", files)
	mux.Handle("GET /demo/favicon.svg", files)
	mux.HandleFunc("/demo/", http.NotFound)
	return mux
}

type app struct {
	opts Options

	mu     sync.Mutex
	logins map[string]login // the login cookies the demo issued
}

// Logins the demo remembers: a day's, and at most maxLogins, the oldest
// forgotten first, so that a flood of logins costs bounded memory.
const (
	loginLife = 24 * time.Hour
	maxLogins = 10000
)

// login is one login session the demo issued: when, and its absolute end
// (zero for none), which every token of it carries as end_at.
type login struct {
	at    time.Time
	endAt time.Time
	share bool // the tabs share one WebSocket (the client's shareSocket)
}

// demoLifetime is the absolute lifetime of a login that asks for one: an
// end that comes whatever the person does, warned of expire_after -
// warn_after before.
const demoLifetime = 60 * time.Second

// page is what every template gets.
type page struct {
	Token       string
	Passive     bool
	WarnAfter   time.Duration
	ExpireAfter time.Duration
	Lifetime    time.Duration // demoLifetime, for the login page
	EndsAt      time.Time     // the login's absolute end; zero for none
	Share       bool          // the login's tabs share one WebSocket
}

func (d *app) home(w http.ResponseWriter, r *http.Request) {
	sid, l, ok := d.loggedIn(r)
	if !ok {
		d.render(w, r, "login.html", page{WarnAfter: d.opts.WarnAfter, ExpireAfter: d.opts.ExpireAfter, Lifetime: demoLifetime})
		return
	}
	d.renderApp(w, r, "app.html", sid, l, false)
}

func (d *app) passive(w http.ResponseWriter, r *http.Request) {
	sid, l, ok := d.loggedIn(r)
	if !ok {
		http.Redirect(w, r, "/demo/", http.StatusSeeOther)
		return
	}
	d.renderApp(w, r, "passive.html", sid, l, true)
}

func (d *app) renderApp(w http.ResponseWriter, r *http.Request, name, sid string, l login, passive bool) {
	claims := session.Claims{SID: sid, LogoutURL: "/demo/logged-out"}
	if !l.endAt.IsZero() {
		claims.EndAt = l.endAt.Unix()
	}
	token, err := session.Mint(d.opts.Secret, claims)
	if err != nil {
		http.Error(w, "cannot mint a token: "+err.Error(), http.StatusInternalServerError)
		return
	}
	d.render(w, r, name, page{Token: token, Passive: passive, WarnAfter: d.opts.WarnAfter, ExpireAfter: d.opts.ExpireAfter, EndsAt: l.endAt, Share: l.share})
}

// login starts a new login session, as the application's login view would;
// with the form's lifetime=1, one that ends demoLifetime later whatever
// the person does; with share=1, one whose tabs share one WebSocket.
func (d *app) login(w http.ResponseWriter, r *http.Request) {
	var key [16]byte
	rand.Read(key[:])
	value := hex.EncodeToString(key[:])
	now := time.Now()
	l := login{at: now, share: r.PostFormValue("share") == "1"}
	if r.PostFormValue("lifetime") == "1" {
		// Whole seconds, as end_at carries it, and never later than asked.
		l.endAt = now.Add(demoLifetime).Truncate(time.Second)
	}
	d.remember(value, l)
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie, Value: value, Path: "/demo/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, "/demo/", http.StatusSeeOther)
}

// remember records a login cookie the demo issued.
func (d *app) remember(value string, l login) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.logins) >= maxLogins {
		oldest, at := "", l.at
		for v, o := range d.logins {
			if o.at.Before(at) {
				oldest, at = v, o.at
			}
		}
		delete(d.logins, oldest)
	}
	d.logins[value] = l
}

// issued returns the login of value, if the demo issued it less than a
// day ago.
func (d *app) issued(value string, now time.Time) (login, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logins[value]
	return l, ok && now.Sub(l.at) < loginLife
}

// loggedOut ends the login session: presence sent the tab here.
func (d *app) loggedOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/demo/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	d.render(w, r, "logged-out.html", page{})
}

// loggedIn returns the presence session id of the request's login
// session. It is derived from the login cookie, never equal to it, since
// page scripts can read the token.
func (d *app) loggedIn(r *http.Request) (string, login, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return "", login{}, false
	}
	l, ok := d.issued(c.Value, time.Now())
	if !ok {
		return "", login{}, false
	}
	mac := hmac.New(sha256.New, d.opts.Secret)
	mac.Write([]byte("demo-session:" + c.Value))
	return "demo-" + hex.EncodeToString(mac.Sum(nil)[:12]), l, true
}

// csp is the demo's Content-Security-Policy: presence needs no inline
// script or style, and 'self' covers its WebSocket too. It is a constant:
// nothing of the request goes into it.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';" +
	" form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// render writes a page under the demo's strict policy.
func (d *app) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "same-origin")
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		http.Error(w, "demo page: "+err.Error(), http.StatusInternalServerError)
	}
}
