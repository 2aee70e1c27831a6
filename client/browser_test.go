package client_test

import (
	"context"
	"encoding/json"
	"html"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/presence-dev/presence/session"
)

// The browser tests drive presence.js in headless Chromium against a real
// presence node. Tokens warn after 1 to 4 s and expire 1 to 12 s later, so
// that each test takes a few seconds of real time; tests that do not share
// a session run in parallel.

// TestWarnShowsInEveryTab opens two tabs of one session: both show the
// dialog together, warn_after after the last page load.
func TestWarnShowsInEveryTab(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("warn", presenceTag(map[string]string{"data-token": mint(t, testSecret, sid, 3, 10)}))
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(u)
	b.open(u)
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the dialog shows", dialogShown, 8*time.Second)
	}
	ta, tb := times(a), times(b)
	// Page and test share the machine's clock; the server saw the loads.
	due := msOf(lastActive(s.node().store, sid).Add(3 * time.Second))
	for i, tm := range []pageTimes{ta, tb} {
		if d := tm.WarnedAt - due; d < -50 || d > 1500 {
			t.Errorf("tab %d warned %+.0f ms from the deadline (the last page load + warn_after)", i, d)
		}
	}
	if d := math.Abs(ta.WarnedAt - tb.WarnedAt); d > 500 {
		t.Errorf("the tabs warned %.0f ms apart", d)
	}
	for _, tab := range []*tab{a, b} {
		if cd := eval[string](tab, `document.querySelector(".presence-countdown").textContent`); !regexp.MustCompile(`^\d+ seconds?$`).MatchString(cd) {
			t.Errorf("countdown %q, want a number of seconds", cd)
		}
	}
}

// TestKeyPressDismissesEveryTab: a key press in one tab is sent as
// activity, and the server's state hides the dialog in both tabs.
func TestKeyPressDismissesEveryTab(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("dismiss", presenceTag(map[string]string{"data-token": mint(t, testSecret, sid, 2, 8)}))
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(u)
	b.open(u)
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the dialog shows", dialogShown, 6*time.Second)
	}
	pressed := time.Now()
	a.key("a")
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the dialog hides after a key press in the first tab", dialogHidden, 3*time.Second)
	}
	eventually(t, "the key press reaches presence as activity", 3*time.Second, func() bool {
		return len(s.node().store.touchesOf(sid, pressed)) > 0
	})
	for _, tb := range []*tab{a, b} {
		if title := eval[string](tb, `document.title`); title != "Private page" {
			t.Errorf("title %q after the dialog hid, want %q", title, "Private page")
		}
	}
}

// TestExpiryLeavesEveryTab: at expire_after both tabs go to the logout URL
// of the token.
func TestExpiryLeavesEveryTab(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("expire", presenceTag(map[string]string{"data-token": mint(t, testSecret, sidFor(t), 1, 2)}))
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(u)
	b.open(u)
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the tab leaves for the logout URL", `location.pathname == "/logged-out"`, 8*time.Second)
	}
	if got := s.logoutRequests(); len(got) != 2 || got[0].Get("method") != "GET" {
		t.Errorf("logout URL requests %v, want 2 GET", got)
	}
}

// TestStrictCSP: under a CSP without inline scripts or styles, and with
// Trusted Types, presence loads its stylesheet, shows the dialog and
// causes no violation.
func TestStrictCSP(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("csp", presenceTag(map[string]string{"data-token": mint(t, testSecret, sidFor(t), 1, 30)}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the dialog shows", dialogShown, 5*time.Second)
	type look struct {
		Position   string   `json:"position"`
		Link       string   `json:"link"`
		Styled     int      `json:"styled"`
		ContentVis string   `json:"contentVisible"`
		CSP        []string `json:"csp"`
	}
	got := eval[look](tb, `({
		position: getComputedStyle(document.querySelector(".presence-root")).position,
		link: document.querySelector("link.presence-css").href,
		styled: document.querySelectorAll("[style]").length,
		contentVisible: getComputedStyle(document.getElementById("content")).display,
		csp: T.csp,
	})`)
	if got.Position != "fixed" {
		t.Errorf("the root's position is %q, want fixed: presence.css did not apply", got.Position)
	}
	if want := s.url("/presence.css"); got.Link != want {
		t.Errorf("stylesheet link %q, want %q", got.Link, want)
	}
	if got.Styled != 0 {
		t.Errorf("%d elements have a style attribute", got.Styled)
	}
	if got.ContentVis == "none" {
		t.Error("the page content is hidden while only warned")
	}
	if len(got.CSP) != 0 {
		t.Errorf("CSP violations: %v", got.CSP)
	}
	// The policy is in force and violations are seen: an image breaks it.
	tb.allowCSP = true
	eval[bool](tb, `document.body.appendChild(document.createElement("img")).src = "/nowhere.png", true`)
	tb.waitJS("a CSP violation is reported", `T.csp.length > 0`, 3*time.Second)
}

// TestReconnectAfterServerRestart: presence restarts (close 1012); the tab
// says hello to the new node with its real idle time and keeps working.
func TestReconnectAfterServerRestart(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("restart", presenceTag(map[string]string{"data-token": mint(t, testSecret, sid, 3, 30)}))
	tb := openTab(t, nil)
	tb.open(u)
	first := s.node()
	eventually(t, "the tab says hello", 5*time.Second, func() bool {
		return len(first.store.touchesOf(sid, time.Time{})) > 0
	})
	time.Sleep(1500 * time.Millisecond)
	second := s.restart()
	eventually(t, "the tab says hello to the new node", 5*time.Second, func() bool {
		return second.ws.Load() > 0 && len(second.store.touchesOf(sid, time.Time{})) > 0
	})
	hello := second.store.touchesOf(sid, time.Time{})[0]
	if loaded := times(tb).Loaded; hello.idle < time.Second || math.Abs(msOf(hello.at.Add(-hello.idle))-loaded) > 1000 {
		t.Errorf("the hello after the restart reported %v idle, want the time since the page load (%.0f ms)", hello.idle, msOf(hello.at)-loaded)
	}
	tb.waitJS("the new node warns", dialogShown, 5*time.Second)
	pressed := time.Now()
	tb.key("x")
	tb.waitJS("the dialog hides", dialogHidden, 3*time.Second)
	if n := len(second.store.touchesOf(sid, pressed)); n == 0 {
		t.Error("the key press did not reach the new node")
	}
	if n := first.ws.Load(); n != 1 {
		t.Errorf("the first node saw %d WebSocket requests, want 1", n)
	}
}

// TestFallbackToPing: where /ws is refused, the tab falls back to the
// classic /ping flow and still warns and expires.
func TestFallbackToPing(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.blockWS.Store(true)
	u := s.page("fallback", presenceTag(map[string]string{"data-token": mint(t, testSecret, sidFor(t), 4, 6)}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the dialog shows", dialogShown, 8*time.Second)
	if tm := times(tb); tm.WarnedAt-tm.Loaded < 3900 {
		t.Errorf("warned %.0f ms after the page load, before warn_after (4 s)", tm.WarnedAt-tm.Loaded)
	}
	tb.waitJS("the tab leaves for the logout URL", `location.pathname == "/logged-out"`, 6*time.Second)
	n := s.node()
	if got := n.ws.Load(); got < 3 {
		t.Errorf("%d WebSocket attempts before the fallback, want 3", got)
	}
	if got := n.pings.Load(); got < 2 {
		t.Errorf("%d pings, want at least 2 (to warn, then to expire)", got)
	}
}

// TestDialogAccessibility checks the dialog's roles, names and focus: it
// takes focus on "Stay signed in", keeps it inside on Tab, closes and
// extends on Escape, and gives focus back.
func TestDialogAccessibility(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("a11y", presenceTag(map[string]string{"data-token": mint(t, testSecret, sid, 2, 14)}))
	tb := openTab(t, nil)
	tb.open(u)
	eval[bool](tb, `document.getElementById("before").focus(), true`)
	tb.waitJS("the dialog shows", dialogShown, 5*time.Second)
	shown := time.Now()
	type dialog struct {
		Role      string `json:"role"`
		Modal     string `json:"modal"`
		LabelTag  string `json:"labelTag"`
		Label     string `json:"label"`
		Desc      string `json:"desc"`
		Focused   string `json:"focused"`
		Stay      string `json:"stay"`
		Logout    string `json:"logout"`
		Countdown string `json:"countdown"`
		LiveMode  string `json:"liveMode"`
		Title     string `json:"title"`
	}
	d := eval[dialog](tb, `(() => {
		const d = document.querySelector(".presence-dialog"), byId = a => document.getElementById(d.getAttribute(a)) || {},
			live = document.querySelector(".presence-root [aria-live]");
		return {
			role: d.getAttribute("role"), modal: d.getAttribute("aria-modal"),
			labelTag: byId("aria-labelledby").tagName, label: byId("aria-labelledby").textContent,
			desc: byId("aria-describedby").textContent, focused: `+focused+`,
			stay: document.querySelector(".presence-stay").textContent,
			logout: document.querySelector(".presence-logout").textContent,
			countdown: document.querySelector(".presence-countdown").textContent,
			liveMode: live.getAttribute("aria-live"), title: document.title,
		};
	})()`)
	want := dialog{
		Role: "alertdialog", Modal: "true", LabelTag: "H2", Label: "Your session is about to end",
		Desc: d.Desc, Focused: "presence-stay", Stay: "Stay signed in", Logout: "Log out",
		Countdown: d.Countdown, LiveMode: d.LiveMode, Title: "\u26a0 Private page",
	}
	if d != want {
		t.Errorf("dialog\n got %+v\nwant %+v", d, want)
	}
	if !regexp.MustCompile(`^\d+ seconds?$`).MatchString(d.Countdown) || !strings.Contains(d.Desc, d.Countdown) {
		t.Errorf("countdown %q in description %q, want a number of seconds", d.Countdown, d.Desc)
	}
	if d.LiveMode != "assertive" && d.LiveMode != "polite" {
		t.Errorf("aria-live %q", d.LiveMode)
	}
	for i, k := range []struct {
		keys string
		opts []chromedp.KeyOption
		want string
	}{
		{kb.Tab, nil, "presence-logout"},
		{kb.Tab, nil, "presence-stay"},
		{kb.Tab, []chromedp.KeyOption{chromedp.KeyModifiers(chromedp.ModifierShift)}, "presence-logout"},
		{kb.Tab, []chromedp.KeyOption{chromedp.KeyModifiers(chromedp.ModifierShift)}, "presence-stay"},
	} {
		tb.key(k.keys, k.opts...)
		if got := eval[string](tb, focused); got != k.want {
			t.Errorf("after Tab %d focus is on %q, want %q", i+1, got, k.want)
		}
	}
	if !eval[bool](tb, dialogShown) {
		t.Fatal("Tab closed the dialog")
	}
	tb.waitJS("the live region announces 10 seconds left", `document.querySelector(".presence-root [aria-live]").textContent.includes("10 seconds")`, 5*time.Second)
	// From 12 s left, one announcement, not one a second.
	if said := eval[[]string](tb, `T.live.map(e => e[1]).filter(Boolean)`); len(said) != 1 {
		t.Errorf("the live region said %q, want one announcement (10 seconds left)", said)
	}
	escaped := time.Now()
	if n := len(s.node().store.touchesOf(sid, shown)); n != 0 {
		t.Errorf("moving focus in the dialog sent %d activity reports", n)
	}
	tb.key(kb.Escape)
	tb.waitJS("Escape closes the dialog", dialogHidden, 3*time.Second)
	if got := eval[string](tb, focused); got != "before" {
		t.Errorf("focus is on %q after the dialog closed, want the button focused before (before)", got)
	}
	if got := eval[string](tb, `document.title`); got != "Private page" {
		t.Errorf("title %q after the dialog closed, want %q", got, "Private page")
	}
	eventually(t, "Escape extends the session on the server", 3*time.Second, func() bool {
		tc := s.node().store.touchesOf(sid, escaped)
		return len(tc) > 0 && tc[0].idle < time.Second
	})
}

// TestPassivePage: a passive page's load is not activity, so the session
// warns warn_after after the last real activity, not after its load.
func TestPassivePage(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	tok := mint(t, testSecret, sid, 4, 12)
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(s.page("active", presenceTag(map[string]string{"data-token": tok})))
	eventually(t, "the first page says hello", 5*time.Second, func() bool {
		return len(s.node().store.touchesOf(sid, time.Time{})) > 0
	})
	hello := s.node().store.touchesOf(sid, time.Time{})[0]
	time.Sleep(time.Until(hello.at.Add(2500 * time.Millisecond)))
	b.open(s.page("passive", presenceTag(map[string]string{"data-token": tok, "data-passive": ""})))
	b.waitJS("the passive tab shows the dialog", dialogShown, 8*time.Second)
	// Had the passive load counted, the warning would come 2.5 s later or
	// more; a loaded machine may show it a second late.
	due := msOf(hello.at.Add(-hello.idle).Add(4 * time.Second))
	if d := times(b).WarnedAt - due; d > 1800 {
		t.Errorf("warned %.0f ms after warn_after from the first page's load: the passive load counted as activity", d)
	}
	if n := len(s.node().store.touchesOf(sid, time.Time{})); n != 1 {
		t.Errorf("presence recorded %d activities, want 1 (the first page's load)", n)
	}
}

// TestLogoutByPOST: with data-logout-method="post" the tab leaves by
// submitting a form with the CSRF token to the logout URL.
func TestLogoutByPOST(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("post", presenceTag(map[string]string{
		"data-token":         mint(t, testSecret, sidFor(t), 1, 2),
		"data-logout-method": "post",
		"data-csrf-token":    "csrf-secret-123",
	}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the tab leaves for the logout URL", `location.pathname == "/logged-out"`, 6*time.Second)
	got := s.logoutRequests()
	if len(got) != 1 || got[0].Get("method") != "POST" || got[0].Get("csrfmiddlewaretoken") != "csrf-secret-123" {
		t.Errorf("logout requests %v, want one POST with csrfmiddlewaretoken=csrf-secret-123", got)
	}
}

// TestHandleActivity: handle.activity(), as a playing video would call it,
// keeps the session alive past expire_after with no DOM event.
func TestHandleActivity(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("video", spaTags(map[string]any{"token": mint(t, testSecret, sid, 3, 5)}, map[string]string{"data-activity-every": "300"}))
	tb := openTab(t, nil)
	tb.open(u)
	time.Sleep(6 * time.Second)
	type state struct {
		Warned  float64 `json:"warned"`
		Classes string  `json:"classes"`
		Path    string  `json:"path"`
	}
	got := eval[state](tb, `({warned: T.warnedAt || 0, classes: document.documentElement.className, path: location.pathname})`)
	if got.Warned != 0 || got.Classes != "" || got.Path != "/p/video" {
		t.Errorf("after 6 s of handle.activity(): %+v, want no warning, no class and the same page", got)
	}
	if n := len(s.node().store.touchesOf(sid, time.Time{})); n < 4 {
		t.Errorf("presence recorded %d activities in 6 s, want one a second or so", n)
	}
}

// TestExpirePreventDefault: an expire listener that calls preventDefault
// keeps the page, as a single-page application handles expiry itself; the
// content stays hidden and the ended text shows.
func TestExpirePreventDefault(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("spa", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 1, 2)}, map[string]string{"data-prevent": "1"}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the session expires", `T.expiredAt`, 5*time.Second)
	time.Sleep(700 * time.Millisecond)
	type state struct {
		Path    string `json:"path"`
		Classes string `json:"classes"`
		Content string `json:"content"`
		Ended   string `json:"ended"`
		Expire  struct {
			Reason      string `json:"reason"`
			RedirectURL string `json:"redirectUrl"`
		} `json:"expire"`
		Types []string `json:"types"`
	}
	got := eval[state](tb, `(() => {
		const e = document.querySelector(".presence-ended");
		return {
			path: location.pathname, classes: document.documentElement.className,
			content: getComputedStyle(document.getElementById("content")).display,
			ended: e.offsetParent ? e.textContent : "",
			expire: (T.events.find(e => e.type == "expire") || {}).detail || {},
			types: T.events.map(e => e.type == "connection" ? "connection:" + e.detail.status : e.type),
		};
	})()`)
	if got.Path != "/p/spa" || got.Classes != "presence-expired" || got.Content != "none" || got.Ended != "Your session has ended." {
		t.Errorf("after a prevented expiry: %+v, want the same page, html.presence-expired, the content hidden and the ended text shown", got)
	}
	if got.Expire.Reason != "idle" || got.Expire.RedirectURL != "/logged-out" {
		t.Errorf("expire event %+v, want reason idle and redirectUrl /logged-out", got.Expire)
	}
	want := []string{"connection:open", "state", "warn", "expire"}
	if strings.Join(got.Types, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", got.Types, want)
	}
	if n := len(s.logoutRequests()); n != 0 {
		t.Errorf("the page went to the logout URL %d times", n)
	}
	// The application shows its own screen: stop hands the page back.
	if !eval[bool](tb, `T.handle.stop(), !document.documentElement.className && !document.querySelector(".presence-root") &&
		getComputedStyle(document.getElementById("content")).display != "none"`) {
		t.Error("after handle.stop() the page still has presence's classes, root or hidden content")
	}
}

// TestConfirmUnload: with data-confirm-unload a form with unsaved changes
// asks before the page unloads, but not when presence leaves on expiry.
func TestConfirmUnload(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("confirm", presenceTag(map[string]string{
		"data-token":          mint(t, testSecret, sidFor(t), 2, 3),
		"data-confirm-unload": "",
	}))
	tb := openTab(t, nil)
	tb.open(u)
	const asks = `(() => { const e = new Event("beforeunload", {cancelable: true}); dispatchEvent(e); return e.defaultPrevented })()`
	if eval[bool](tb, asks) {
		t.Error("asks before unload with no unsaved change")
	}
	if _, err := run(tb, chromedp.SendKeys(chromedp.CSS("#name"), "Ada")); err != nil {
		t.Fatal(err)
	}
	if !eval[bool](tb, asks) {
		t.Error("does not ask before unload with an unsaved change")
	}
	tb.waitJS("presence leaves on expiry without asking", `location.pathname == "/logged-out"`, 8*time.Second)
}

// TestWakeAfterSleep: when a wake event finds the known deadline passed
// (the laptop slept, the tab's timers did not run), the content hides at
// once and the tab reconnects; the server's state shows it again.
func TestWakeAfterSleep(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("sleep", spaTags(map[string]any{"token": mint(t, testSecret, sid, 10, 30)}, nil))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the tab joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
	hidden := eval[bool](tb, `T.skew = 60000, dispatchEvent(new Event("focus")),
		document.documentElement.classList.contains("presence-checking") &&
		getComputedStyle(document.getElementById("content")).display == "none"`)
	if !hidden {
		t.Error("the content is not hidden at once when a wake event finds the deadline passed")
	}
	tb.waitJS("the content shows again once the server answers", `!document.documentElement.className &&
		getComputedStyle(document.getElementById("content")).display != "none"`, 5*time.Second)
	if n := s.node().ws.Load(); n != 2 {
		t.Errorf("%d WebSocket requests, want 2 (the reconnect after the wake)", n)
	}
	if got := eval[int](tb, `T.events.filter(e => e.type == "state").length`); got != 2 {
		t.Errorf("%d state events, want 2", got)
	}
}

// TestWakeFindsSessionEnded: a session that ended while the tab slept
// expires at once on wake, with no warning first.
func TestWakeFindsSessionEnded(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("slept", spaTags(map[string]any{"token": mint(t, testSecret, sid, 10, 30)}, map[string]string{"data-prevent": "1"}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the tab joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
	// The session ends behind the hub's back, as it would by the clock
	// while the tab's connection was dead.
	lim := session.Limits{WarnAfter: 10 * time.Second, ExpireAfter: 30 * time.Second}
	if _, err := s.node().store.End(context.Background(), sid, session.ReasonIdle, lim); err != nil {
		t.Fatal(err)
	}
	eval[bool](tb, `T.skew = 60000, dispatchEvent(new Event("focus")), true`)
	tb.waitJS("the tab expires", `document.documentElement.classList.contains("presence-expired")`, 5*time.Second)
	types := eval[[]string](tb, `T.events.map(e => e.type)`)
	if want := "connection state connection expire"; strings.Join(types, " ") != want {
		t.Errorf("events %v, want %s: expire at once, no warning", types, want)
	}
}

// TestRequireButton: with data-require-button, keys and mouse moves leave
// the dialog up; only "Stay signed in" dismisses it.
func TestRequireButton(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("button", presenceTag(map[string]string{
		"data-token":          mint(t, testSecret, sid, 1, 8),
		"data-require-button": "",
	}))
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the dialog shows", dialogShown, 5*time.Second)
	shown := time.Now()
	tb.key("a")
	for _, xy := range [][2]float64{{10, 10}, {200, 150}, {400, 300}} {
		if _, err := run(tb, chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1])); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if !eval[bool](tb, dialogShown) {
		t.Fatal("a key press or a mouse move dismissed the dialog")
	}
	if n := len(s.node().store.touchesOf(sid, shown)); n != 0 {
		t.Errorf("%d activity reports while the dialog showed, want none", n)
	}
	clicked := time.Now()
	if _, err := run(tb, chromedp.Click(chromedp.CSS(".presence-stay"))); err != nil {
		t.Fatal(err)
	}
	tb.waitJS("the button dismisses the dialog", dialogHidden, 3*time.Second)
	eventually(t, "the button extends the session", 3*time.Second, func() bool {
		return len(s.node().store.touchesOf(sid, clicked)) > 0
	})
}

// TestLogoutMirrorsToEveryTab: handle.logout() ends the session, and a tab
// of the same browser on the classic ping flow, which would not ask
// presence for another 20 s, follows at once through the BroadcastChannel.
func TestLogoutMirrorsToEveryTab(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok := mint(t, testSecret, sidFor(t), 20, 30)
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(s.page("spa", spaTags(map[string]any{"token": tok}, map[string]string{"data-prevent": "1"})))
	b.open(s.page("classic", presenceTag(map[string]string{"data-token": tok, "data-transport": "ping"})))
	a.waitJS("the first tab joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
	b.waitJS("the classic tab pings", `performance.getEntriesByType("resource").some(e => e.name.includes("/ping?idleFor="))`, 5*time.Second)
	eval[bool](a, `T.handle.logout(), true`)
	a.waitJS("the session ends with reason logout", `T.events.some(e => e.type == "expire" && e.detail.reason == "logout")`, 3*time.Second)
	b.waitJS("the classic tab leaves at once", `location.pathname == "/logged-out"`, 3*time.Second)
	if n := s.node().ws.Load(); n != 1 {
		t.Errorf("%d WebSocket requests, want 1: the classic tab must not open one", n)
	}
	if n := s.node().pings.Load(); n != 1 {
		t.Errorf("%d pings, want 1: the classic tab learned of the logout from the other tab", n)
	}
}

// TestModuleForm: an application that imports presence.mjs gets the same
// client, with no global, presence's URL taken from the module's own.
func TestModuleForm(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	b, _ := json.Marshal(map[string]any{"token": mint(t, testSecret, sid, 2, 30)})
	u := s.page("module", `<script type="module" src="/esm.js" data-options="`+html.EscapeString(string(b))+`"></script>`)
	tb := openTab(t, nil)
	tb.open(u)
	tb.waitJS("the dialog shows", dialogShown, 6*time.Second)
	type look struct {
		Global string   `json:"global"`
		Link   string   `json:"link"`
		Types  []string `json:"types"`
	}
	got := eval[look](tb, `({global: T.global, link: document.querySelector("link.presence-css").href, types: T.events.map(e => e.type)})`)
	if got.Global != "undefined" {
		t.Errorf("window.Presence is %s, want undefined: the module defines no global", got.Global)
	}
	if want := s.url("/presence.css"); got.Link != want {
		t.Errorf("stylesheet link %q, want %q", got.Link, want)
	}
	if want := "connection state warn"; strings.Join(got.Types, " ") != want {
		t.Errorf("events %v, want %s", got.Types, want)
	}
	pressed := time.Now()
	tb.key("a")
	tb.waitJS("the dialog hides after a key press", dialogHidden, 3*time.Second)
	if n := len(s.node().store.touchesOf(sid, pressed)); n == 0 {
		t.Error("the key press did not reach presence")
	}
}
