package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

// TestRefusedToken: presence refuses the token (a close 4401, a /ping's
// 401). refreshToken gets a fresh one, on the WebSocket and on the classic
// flow alike. Without it the page says so once, on the console and as an
// error event, opens no more WebSockets with that token, and goes by its
// own clock with the token's limits: it covers itself at the end, and
// never leaves for a token problem.
func TestRefusedToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	otherSecret := []byte("not-the-secret-of-this-presence-server-0123")
	sid := sidFor(t)
	bad := mint(t, otherSecret, sid, 1, 3)
	fresh := s.refreshURL(mint(t, testSecret, sid, 2, 30))

	refreshed := openTab(t, nil)
	refreshed.open(s.page("refresh", spaTags(map[string]any{"token": bad}, map[string]string{"data-refresh": fresh})))
	refreshed.waitJS("the tab joins with the refreshed token", `T.events.some(e => e.type == "state")`, 5*time.Second)

	classicSID := sidFor(t)
	classic := openTab(t, nil)
	classic.open(s.page("classic", spaTags(map[string]any{"token": mint(t, otherSecret, classicSID, 2, 30), "transport": "ping"},
		map[string]string{"data-refresh": s.refreshURL(mint(t, testSecret, classicSID, 2, 30))})))
	eventually(t, "the classic tab pings with the refreshed token", 5*time.Second, func() bool {
		return len(s.node().store.touchesOf(classicSID, time.Time{})) > 0
	})

	refused := openTab(t, nil)
	refused.open(s.page("refused", spaTags(map[string]any{"token": bad}, nil)))
	refused.waitJS("the handle reports the refusal", `T.events.some(e => e.type == "error" && e.detail.code == "token_invalid")`, 5*time.Second)
	before, asked := s.node().ws.Load(), s.node().pings.Load()
	refused.waitJS("the page covers itself at the token's expire_after", covered, 5*time.Second)
	time.Sleep(2 * time.Second)
	if after := s.node().ws.Load(); after != before {
		t.Errorf("%d more WebSocket requests after a refused token, want none", after-before)
	}
	if s.node().pings.Load() == asked {
		t.Error("the refused page stopped asking presence")
	}
	if path := eval[string](refused, `location.pathname`); path != "/p/refused" {
		t.Errorf("the refused page went to %s", path)
	}
	if errs := refused.consoleErrors(); len(errs) != 1 || !strings.Contains(errs[0], "PRESENCE_SECRET") {
		t.Errorf("console errors %q, want one naming PRESENCE_SECRET", errs)
	}
	for _, tb := range []*tab{refreshed, classic} {
		if n := eval[int](tb, `T.events.filter(e => e.type == "error").length`) + len(tb.consoleErrors()); n != 0 {
			t.Errorf("%d errors on a page whose token was refreshed", n)
		}
	}
}

// TestTokensOutliveMaxAge: with a token max age of 6 s, two pages of one
// session stay open and active for twice that, across a restart of
// presence that forgets the session: a page of presence.js, which takes
// the token frames and says hello again with the newest token, and a
// classic page of django-session-security's protocol (classic.js) with
// the token in the presence cookie, which /ping refreshes with
// Set-Cookie. Presence sits under the application's origin, behind its
// reverse proxy, as docs/deploy.md describes. Neither page leaves, warns or
// reports a refusal.
func TestTokensOutliveMaxAge(t *testing.T) {
	t.Parallel()
	const maxAge = 6 * time.Second
	s := newServerWith(t, serverOptions{maxAge: maxAge})
	a := s.proxiedApp()
	sid := sidFor(t)
	tok := mint(t, testSecret, sid, 3, 30)
	minted := time.Now()
	// The application registers the session at login, as its Reporter
	// does: presence holds it from then on, however slowly the pages load.
	lim := session.Limits{WarnAfter: 3 * time.Second, ExpireAfter: 30 * time.Second}
	if _, err := s.node().store.Touch(t.Context(), sid, 0, session.Terms{Limits: lim}); err != nil {
		t.Fatal(err)
	}
	s.page("modern", spaTags(map[string]any{"token": tok, "url": a.url + "/presence"}, nil))
	s.page("classic", scriptTag("/classic.js", map[string]string{
		"data-ping-url": "/presence/ping", "data-logout-url": "/logged-out", "data-warn-after": "2", "data-expire-after": "30",
	}))
	modern := openTab(t, nil)
	classic := openTab(t, modern)
	classic.setCookie(a.url, "presence", tok)
	modern.open(a.url + "/p/modern")
	classic.open(a.url + "/p/classic")
	modern.waitJS("the modern page joins", `T.events.some(e => e.type == "state")`, 10*time.Second)

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		keepActive(t, stop, modern, classic)
	}()
	// Past the max age, presence forgets everything: only a fresh token
	// gets either page in.
	time.Sleep(time.Until(minted.Add(maxAge + 2*time.Second)))
	restarted := time.Now()
	n := s.restart()
	time.Sleep(time.Until(minted.Add(2*maxAge + time.Second)))
	close(stop)
	<-done

	modern.waitJS("the modern page hears the new node", `T.events.filter(e => e.type == "state").length >= 2`, 5*time.Second)
	type look struct {
		Path    string   `json:"path"`
		Classes []string `json:"classes"`
		Types   []string `json:"types"`
	}
	for _, tb := range []*tab{modern, classic} {
		got := eval[look](tb, `({path: location.pathname, classes: T.classes.map(c => c[1]).filter(Boolean),
			types: T.events.map(e => e.type == "connection" ? "connection:" + e.detail.status : e.type)})`)
		if got.Path == "/logged-out" || len(got.Classes) != 0 {
			t.Errorf("%s: %+v, want the page as it was, never warned nor covered", got.Path, got)
		}
		for _, typ := range got.Types {
			if typ == "error" || typ == "connection:refused" || typ == "expire" {
				t.Errorf("%s: events %v", got.Path, got.Types)
				break
			}
		}
		if errs := tb.consoleErrors(); len(errs) != 0 {
			t.Errorf("console errors %q", errs)
		}
	}
	pings := eval[[][2]any](classic, `T.pings`)
	after := 0
	for _, p := range pings {
		if _, ok := p[1].(float64); !ok {
			t.Errorf("the classic page's ping at %v ms was answered %v, want seconds idle", p[0], p[1])
		}
		if ms, _ := p[0].(float64); msOf(restarted)-times(classic).Loaded < ms {
			after++
		}
	}
	if after == 0 {
		t.Errorf("no ping of the classic page after the restart: %v", pings)
	}
	if a.freshCookies() == 0 {
		t.Error("/ping never refreshed the presence cookie")
	}
	if tc := n.store.touchesOf(sid, restarted); len(tc) < 2 {
		t.Errorf("the new node heard the session %d times, want the modern page's hello and the classic page's pings", len(tc))
	}
}
