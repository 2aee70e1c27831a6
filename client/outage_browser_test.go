package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

// The browser tests of a page that cannot hear presence: killed, or
// refusing the page's origin. The page fails closed: it goes by the last
// limits it learned on the browser's own idle time, covers the page at
// the end, and keeps trying; only presence's word ends it.

// JavaScript conditions on the cover.
const (
	covered = `document.documentElement.classList.contains("presence-checking") &&
		getComputedStyle(document.getElementById("content")).display == "none" &&
		!!document.querySelector(".presence-covered").offsetParent &&
		document.querySelector(".presence-covered").textContent.startsWith("Your session may have ended")`
	uncovered = `!document.documentElement.className && getComputedStyle(document.getElementById("content")).display != "none"`
)

// TestOriginRefused: presence refuses the page's origin (a 403 on the
// upgrade, a CORS failure of /ping). The page says so once on the console,
// with the PRESENCE_ALLOWED_ORIGINS value, and as an error event; it
// warns and covers by its own clock, with the limits of data-warn-after
// and data-expire-after since the token names none; it never goes to the
// logout URL, and keeps asking presence.
func TestOriginRefused(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, serverOptions{origins: []string{"https://app.example.com"}})
	tok, err := session.Mint(testSecret, session.Claims{SID: sidFor(t), LogoutURL: "/logged-out"})
	if err != nil {
		t.Fatal(err)
	}
	s.pageFor("foreign", spaTags(map[string]any{"token": tok, "warnAfter": 2, "expireAfter": 4}, nil))
	u := s.foreignURL("/p/foreign")
	origin := strings.TrimSuffix(u, "/p/foreign")
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the refusal is an error event", `T.events.some(e => e.type == "error" && e.detail.code == "origin_refused")`, 8*time.Second)
	tb.waitJS("the warning shows", dialogShown, 5*time.Second)
	if tm := times(tb); tm.WarnedAt-tm.Loaded < 1900 {
		t.Errorf("warned %.0f ms after the load, before data-warn-after (2 s)", tm.WarnedAt-tm.Loaded)
	}
	tb.waitJS("the page is covered", covered, 5*time.Second)
	asked := s.node().pings.Load()
	eventually(t, "the covered page keeps asking presence", 8*time.Second, func() bool {
		return s.node().pings.Load() > asked
	})
	if got := eval[string](tb, `location.pathname + " " + document.documentElement.className`); got != "/p/foreign presence-checking" {
		t.Errorf("page %q, want /p/foreign, covered", got)
	}
	if n := len(s.logoutRequests()); n != 0 {
		t.Errorf("the page went to the logout URL %d times", n)
	}
	errs := tb.consoleErrors()
	want := "PRESENCE_ALLOWED_ORIGINS=" + origin
	if len(errs) != 1 || !strings.Contains(errs[0], want) {
		t.Errorf("console errors %q, want one naming %s", errs, want)
	}
	if n := eval[int](tb, `T.events.filter(e => e.type == "error").length`); n != 1 {
		t.Errorf("%d error events, want 1", n)
	}
}

// TestPresenceKilled: presence dies without a close frame, as on SIGKILL.
// Each page warns, then covers itself ("Your session may have ended") by
// the limits it learned, and keeps trying; none goes to the logout URL on
// its own. A person who comes back opens another page of the session
// during the outage: it shows, but the covered page stays covered. When
// presence is back its word decides: that session lives and its covered
// page shows again; the session of the person who stayed away ends.
func TestPresenceKilled(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, serverOptions{grace: 2 * time.Second})
	// The pages come from the application, which stays up.
	s.pageFor("away", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 3, 6)}, nil))
	s.pageFor("back", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 3, 6)}, nil))
	awayURL, backURL := s.foreignURL("/p/away"), s.foreignURL("/p/back")
	away, returning := openTab(t, nil), openTab(t, nil)
	away.open(awayURL)
	returning.open(backURL)
	for _, tb := range []*tab{away, returning} {
		tb.waitJS("the tab joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
	}
	s.kill()
	for _, tb := range []*tab{away, returning} {
		tb.waitJS("the warning shows", dialogShown, 5*time.Second)
		tb.waitJS("the page is covered", covered, 5*time.Second)
	}
	other := openTab(t, returning)
	other.open(backURL)
	other.waitJS("the page of the person back runs", `document.querySelector(".presence-root")`, 5*time.Second)
	defer busy(t, other)()
	time.Sleep(2 * time.Second)
	if eval[bool](other, `document.documentElement.className != ""`) {
		t.Error("the page the person works in warned or covered itself during the outage")
	}
	if !eval[bool](returning, covered) {
		t.Error("activity in another tab uncovered a covered page")
	}
	s.revive()
	returning.waitJS("presence says the session lives: the page shows again", uncovered, 10*time.Second)
	other.waitJS("the other page hears presence", `T.events.filter(e => e.type == "state").length > 0`, 5*time.Second)
	away.waitJS("the session of the person away ends", `location.pathname == "/logged-out"`, 12*time.Second)
	if got := s.logoutRequests(); len(got) != 1 {
		t.Errorf("%d visits of the logout URL, want 1 (the session of the person away)", len(got))
	}
	for _, tb := range []*tab{returning, other} {
		if path := eval[string](tb, `location.pathname`); path != "/p/back" {
			t.Errorf("a page of the live session went to %s", path)
		}
	}
}

// TestOutageKeyPresses: during an outage a key press in one tab counts as
// activity in every tab of the session: neither warns nor covers past
// expire_after, and both tell presence their real idle time once it is
// back. Then presence, not the tabs, warns.
func TestOutageKeyPresses(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("keys", spaTags(map[string]any{"token": mint(t, testSecret, sid, 3, 6)}, nil))
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(u)
	b.open(u)
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the tab joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
	}
	s.kill()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		keepActive(t, stop, a)
	}()
	time.Sleep(8 * time.Second) // past expire_after (6 s) since the last word of presence
	for _, tb := range []*tab{a, b} {
		if got := eval[string](tb, `T.classes.map(c => c[1]).filter(Boolean).join(" ")`); got != "" {
			t.Errorf("classes on <html> during the outage %q, want none: the key presses are activity", got)
		}
	}
	restarted := time.Now()
	n := s.revive()
	eventually(t, "both tabs say hello to presence again", 10*time.Second, func() bool {
		return n.ws.Load() >= 2 && len(n.store.touchesOf(sid, restarted)) >= 2
	})
	close(stop)
	<-done
	for _, tc := range n.store.touchesOf(sid, restarted)[:2] {
		if tc.idle > 3*time.Second {
			t.Errorf("a hello reported %v idle, want the time since the last key press", tc.idle)
		}
	}
	for _, tb := range []*tab{a, b} {
		tb.waitJS("presence warns once the key presses stop", dialogShown, 6*time.Second)
	}
}

// TestRefusedByTheTokensLimits: a page on an origin presence does not
// allow, with no limits but its token's claims, warns at the token's
// warn_after and covers itself at its expire_after.
func TestRefusedByTheTokensLimits(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, serverOptions{origins: []string{"https://app.example.com"}})
	s.pageFor("claims", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 2, 4)}, nil))
	tb := openTab(t, nil)
	tb.open(s.foreignURL("/p/claims"))
	tb.waitJS("the warning shows", dialogShown, 8*time.Second)
	tb.waitJS("the page is covered", covered, 8*time.Second)
	tm := times(tb)
	if d := tm.WarnedAt - tm.Loaded; d < 1900 {
		t.Errorf("warned %.0f ms after the load, before the token's warn_after (2 s)", d)
	}
	if n := len(s.logoutRequests()); n != 0 {
		t.Errorf("the page went to the logout URL %d times", n)
	}
}

// TestNoLimitsNoDeadline: a page with no contact and no limits anywhere
// (a token without them, no data attributes, no word from presence) sets
// no deadline of its own, and says so once.
func TestNoLimitsNoDeadline(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, serverOptions{origins: []string{"https://app.example.com"}})
	tok, err := session.Mint(testSecret, session.Claims{SID: sidFor(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.pageFor("bare", spaTags(map[string]any{"token": tok}, nil))
	tb := openTab(t, nil)
	tb.open(s.foreignURL("/p/bare"))
	tb.waitJS("the refusal is an error event", `T.events.some(e => e.type == "error")`, 8*time.Second)
	time.Sleep(3 * time.Second) // some tries of presence, with their backoff
	if got := eval[string](tb, `document.documentElement.className`); got != "" {
		t.Errorf("html class %q, want the page as it is: no deadline without limits", got)
	}
	tb.mu.Lock()
	var said int
	for _, m := range tb.console {
		if strings.Contains(m.Text, "no limits known") {
			said++
		}
	}
	tb.mu.Unlock()
	if said != 1 {
		t.Errorf("the console said %d times that no limits are known, want once", said)
	}
}
