package demo

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newDemo(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewServer(Handler(Options{Secret: secret, WarnAfter: 20 * time.Second, ExpireAfter: 30 * time.Second}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar}
}

func fetch(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var tokenAttr = regexp.MustCompile(`data-token="([^"]+)"`)

func TestLoginMintsATokenPerPage(t *testing.T) {
	srv, c := newDemo(t)
	resp, body := fetch(t, c, http.MethodGet, srv.URL+"/demo/")
	if resp.StatusCode != 200 || !strings.Contains(body, `action="/demo/login"`) || tokenAttr.MatchString(body) {
		t.Fatalf("before login: %d, want the login page without a token:\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q, want strict", csp)
	}

	resp, body = fetch(t, c, http.MethodPost, srv.URL+"/demo/login")
	if resp.StatusCode != 200 || !strings.Contains(body, "Customer record") {
		t.Fatalf("after login: %d\n%s", resp.StatusCode, body)
	}
	v, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	claims := pageClaims(t, v, body)
	if !strings.HasPrefix(claims.SID, "demo-") || claims.LogoutURL != "/demo/logged-out" {
		t.Errorf("claims = %+v", claims)
	}
	for _, c := range c.Jar.Cookies(resp.Request.URL) {
		if strings.Contains(claims.SID, c.Value) {
			t.Errorf("the session id %q contains the login cookie", claims.SID)
		}
	}
	if !strings.Contains(body, `target="_blank"`) || !strings.Contains(body, `src="/presence.js"`) {
		t.Errorf("app page lacks the other-tab link or the script:\n%s", body)
	}

	_, passive := fetch(t, c, http.MethodGet, srv.URL+"/demo/passive")
	if pc := pageClaims(t, v, passive); pc.SID != claims.SID || !strings.Contains(passive, "data-passive") {
		t.Errorf("passive page: sid %q (want %q), data-passive present: %v", pc.SID, claims.SID, strings.Contains(passive, "data-passive"))
	}

	resp, body = fetch(t, c, http.MethodGet, srv.URL+"/demo/logged-out")
	if resp.StatusCode != 200 || !strings.Contains(body, "You have been logged out") || tokenAttr.MatchString(body) {
		t.Fatalf("logged-out page: %d\n%s", resp.StatusCode, body)
	}
	if _, body = fetch(t, c, http.MethodGet, srv.URL+"/demo/"); tokenAttr.MatchString(body) {
		t.Errorf("still logged in after the logged-out page")
	}
}

func pageClaims(t *testing.T, v *session.Verifier, body string) session.Claims {
	t.Helper()
	m := tokenAttr.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("page has no token:\n%s", body)
	}
	claims, err := v.Verify(m[1])
	if err != nil {
		t.Fatalf("page token refused: %v", err)
	}
	return claims
}

func TestPassivePageNeedsLogin(t *testing.T) {
	srv, c := newDemo(t)
	resp, _ := fetch(t, c, http.MethodGet, srv.URL+"/demo/passive")
	if resp.Request.URL.Path != "/demo/" {
		t.Errorf("passive page without login ended at %s, want /demo/", resp.Request.URL.Path)
	}
	for _, path := range []string{"/demo/nope", "/demo/login"} {
		resp, _ := fetch(t, c, http.MethodGet, srv.URL+path)
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s = %d, want 404 or 405", path, resp.StatusCode)
		}
	}
	resp, css := fetch(t, c, http.MethodGet, srv.URL+"/demo/demo.css")
	if resp.StatusCode != 200 || !strings.Contains(css, "body") {
		t.Errorf("demo.css = %d", resp.StatusCode)
	}
	resp, js := fetch(t, c, http.MethodGet, srv.URL+"/demo/demo.js")
	if resp.StatusCode != 200 || !strings.Contains(js, "presence.logout()") {
		t.Errorf("demo.js = %d", resp.StatusCode)
	}
}

// Only the login cookies the demo issued are logins: a made-up one, of
// the right shape, gets the login page and no token. The policy takes
// nothing from the request.
func TestDemoTrustsOnlyItsOwnLogins(t *testing.T) {
	srv, _ := newDemo(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/demo/", nil)
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: strings.Repeat("ab", 16)})
	req.Host = "evil.example'; script-src *"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if tokenAttr.Match(body) || !strings.Contains(string(body), `action="/demo/login"`) {
		t.Errorf("a made-up login cookie got a page with a token:\n%s", body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "evil") || strings.Contains(csp, "*") {
		t.Errorf("CSP = %q, want nothing of the request in it", csp)
	}
	var d app
	d.logins = map[string]login{}
	now := time.Now()
	d.remember("old", login{at: now.Add(-25 * time.Hour)})
	d.remember("new", login{at: now})
	_, old := d.issued("old", now)
	_, fresh := d.issued("new", now)
	_, never := d.issued("never", now)
	if old || !fresh || never {
		t.Error("issued: want only logins of the last day")
	}
}

// everyPage returns the body of each page of the demo, by name, as a
// person logging in sees them.
func everyPage(t *testing.T) map[string]string {
	srv, c := newDemo(t)
	pages := map[string]string{}
	_, pages["login"] = fetch(t, c, http.MethodGet, srv.URL+"/demo/")
	_, pages["app"] = fetch(t, c, http.MethodPost, srv.URL+"/demo/login")
	_, pages["passive"] = fetch(t, c, http.MethodGet, srv.URL+"/demo/passive")
	_, pages["logged-out"] = fetch(t, c, http.MethodGet, srv.URL+"/demo/logged-out")
	return pages
}

// Every page follows the browser's colour scheme, as presence's dialog
// does.
func TestEveryPageFollowsTheColourScheme(t *testing.T) {
	for name, body := range everyPage(t) {
		if !strings.Contains(body, `<meta name="color-scheme" content="light dark">`) {
			t.Errorf("the %s page does not follow the colour scheme", name)
		}
	}
}

// Every page declares the demo's icon, which the demo serves, so that a
// browser asks for no /favicon.ico, which presence does not serve.
func TestEveryPageHasTheIcon(t *testing.T) {
	for name, body := range everyPage(t) {
		if !strings.Contains(body, `<link rel="icon" href="/demo/favicon.svg" type="image/svg+xml">`) {
			t.Errorf("the %s page declares no icon", name)
		}
	}
	srv, c := newDemo(t)
	resp, svg := fetch(t, c, http.MethodGet, srv.URL+"/demo/favicon.svg")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(svg, "<svg ") {
		t.Errorf("favicon.svg = %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(csp, "img-src 'self'") {
		t.Errorf("CSP %q does not let the icon load", csp)
	}
}

// A login that asks for an absolute lifetime gets tokens that carry its
// end, the same on every page; one that does not, none.
func TestLoginWithAnAbsoluteLifetime(t *testing.T) {
	srv, c := newDemo(t)
	v, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	resp, err := c.PostForm(srv.URL+"/demo/login", url.Values{"lifetime": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	claims := pageClaims(t, v, string(body))
	end := time.Unix(claims.EndAt, 0)
	if end.Before(before.Add(demoLifetime-time.Second)) || end.After(time.Now().Add(demoLifetime)) {
		t.Fatalf("end_at %v, want about %v after the login", end, demoLifetime)
	}
	if !strings.Contains(string(body), `id="ends"`) {
		t.Error("the page does not say when the session ends")
	}
	_, again := fetch(t, c, http.MethodGet, srv.URL+"/demo/")
	if got := pageClaims(t, v, again).EndAt; got != claims.EndAt {
		t.Errorf("the next page's end_at %d, want the login's %d", got, claims.EndAt)
	}
	_, plain := fetch(t, c, http.MethodPost, srv.URL+"/demo/login")
	if got := pageClaims(t, v, plain).EndAt; got != 0 {
		t.Errorf("a login without a lifetime has end_at %d", got)
	}
}

// A login that asks for one WebSocket per browser gets pages whose
// client shares it (data-share-socket), and says so; one that does not,
// pages without it.
func TestLoginWithASharedSocket(t *testing.T) {
	srv, c := newDemo(t)
	resp, err := c.PostForm(srv.URL+"/demo/login", url.Values{"share": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), " data-share-socket ") || !strings.Contains(string(body), `id="shared"`) {
		t.Errorf("the page of a login that shares its socket does not:\n%s", body)
	}
	if _, again := fetch(t, c, http.MethodGet, srv.URL+"/demo/passive"); !strings.Contains(again, " data-share-socket ") {
		t.Error("the passive page of that login does not share its socket")
	}
	if _, plain := fetch(t, c, http.MethodPost, srv.URL+"/demo/login"); strings.Contains(plain, "data-share-socket") {
		t.Error("a login that did not ask shares its socket")
	}
}
