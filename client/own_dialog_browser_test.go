package client_test

import (
	"encoding/json"
	"html"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests of an application that shows a warning of its own
// (the dialog option false, data-dialog="none"): presence shows no dialog,
// the application drives its own from the handle's events, and the page
// still fails closed.

// presenceDialogHidden holds while presence shows no dialog of its own.
const presenceDialogHidden = `(() => {
	const root = document.querySelector(".presence-root");
	return !root || root.hidden || !document.querySelector(".presence-dialog").offsetParent;
})()`

// TestOwnDialogModule: an application imports presence.mjs and shows its
// own dialog. warn carries the end for its countdown; extend() hides it
// (active); working it is not activity; left alone, the session warns
// again and expires, and the application keeps the page with
// preventDefault while presence hides the content.
func TestOwnDialogModule(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	b, _ := json.Marshal(map[string]any{"token": mint(t, testSecret, sid, 2, 5)})
	tb := openTab(t, nil)
	tb.open(s.page("own", `<script type="module" src="/own.js" data-options="`+html.EscapeString(string(b))+`"></script>`))
	eval[bool](tb, `document.getElementById("before").focus(), true`)
	const ownShown = `!document.getElementById("own-dialog").hidden`
	tb.waitJS("the application's dialog shows", ownShown, 8*time.Second)

	type warned struct {
		Countdown  string  `json:"countdown"`
		ExpireInMs float64 `json:"expireInMs"`
		ExpiresAt  float64 `json:"expiresAt"`
		Now        float64 `json:"now"`
		Classes    string  `json:"classes"`
		Title      string  `json:"title"`
		Focused    string  `json:"focused"`
		Presence   bool    `json:"presenceHidden"`
	}
	w := eval[warned](tb, `(() => {
		const e = T.events.find(e => e.type == "warn");
		return {countdown: document.getElementById("own-countdown").textContent, expireInMs: e.detail.expireInMs,
			expiresAt: e.detail.expiresAt, now: e.now, classes: document.documentElement.className,
			title: document.title, focused: `+focused+`, presenceHidden: `+presenceDialogHidden+`};
	})()`)
	if w.ExpireInMs <= 0 || w.ExpireInMs > 3000 {
		t.Errorf("warn's expireInMs is %.0f, want the 3 s from warn_after to expire_after or a little less", w.ExpireInMs)
	}
	if d := w.ExpiresAt - (w.Now + w.ExpireInMs); math.Abs(d) > 1000 {
		t.Errorf("warn's expiresAt is %+.0f ms from when it arrived plus expireInMs", d)
	}
	if w.Countdown == "" || strings.Trim(w.Countdown, "0123") != "" {
		t.Errorf("the application's countdown reads %q, want the seconds left, 3 or fewer", w.Countdown)
	}
	if !w.Presence || w.Classes != "presence-warning" || w.Title != "\u26a0 Private page" || w.Focused != "before" {
		t.Errorf("while warned: %+v, want presence's dialog hidden, html.presence-warning, the title cue and focus left where it was", w)
	}

	// Working the application's dialog, marked data-presence-dialog, is
	// not activity: the pointer over it leaves the warning up.
	shown := time.Now()
	xy := eval[[2]float64](tb, `(() => { const r = document.getElementById("own-stay").getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] })()`)
	for _, dx := range []float64{-3, 0, 2} {
		if _, err := run(tb, chromedp.MouseEvent(chromedp.MouseMoved, xy[0]+dx, xy[1])); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if !eval[bool](tb, ownShown) {
		t.Fatal("moving the pointer over the application's dialog withdrew the warning")
	}
	if n := len(s.node().store.touchesOf(sid, shown)); n != 0 {
		t.Errorf("%d activity reports while the pointer moved over the application's dialog, want none", n)
	}
	clicked := time.Now()
	if _, err := run(tb, chromedp.Click(chromedp.CSS("#own-stay"))); err != nil {
		t.Fatal(err)
	}
	tb.waitJS("extend() hides the application's dialog", `document.getElementById("own-dialog").hidden && T.events.some(e => e.type == "active")`, 3*time.Second)
	eventually(t, "extend() reaches presence", 3*time.Second, func() bool {
		return len(s.node().store.touchesOf(sid, clicked)) > 0
	})
	if title := eval[string](tb, `document.title`); title != "Private page" {
		t.Errorf("title %q after the warning hid, want %q", title, "Private page")
	}

	tb.waitJS("left alone, the session warns again and expires", `T.events.some(e => e.type == "expire")`, 10*time.Second)
	type ended struct {
		Types  []string `json:"types"`
		Expire struct {
			Reason      string `json:"reason"`
			RedirectURL string `json:"redirectUrl"`
		} `json:"expire"`
		AtExpire struct {
			Classes       string `json:"classes"`
			ContentHidden bool   `json:"contentHidden"`
			OwnHidden     bool   `json:"ownHidden"`
		} `json:"atExpire"`
	}
	time.Sleep(500 * time.Millisecond) // long enough to leave, had preventDefault not kept the page
	e := eval[ended](tb, `({types: T.events.map(e => e.type), expire: T.events.find(e => e.type == "expire").detail, atExpire: T.atExpire})`)
	var prompts []string
	for _, typ := range e.Types {
		if typ == "warn" || typ == "active" || typ == "expire" {
			prompts = append(prompts, typ)
		}
	}
	if want := []string{"warn", "active", "warn", "expire"}; !slices.Equal(prompts, want) {
		t.Errorf("events %v, want %v among them", e.Types, want)
	}
	if e.Expire.Reason != "idle" || e.Expire.RedirectURL != "/logged-out" {
		t.Errorf("expire %+v, want reason idle and redirectUrl /logged-out", e.Expire)
	}
	if a := e.AtExpire; a.Classes != "presence-expired" || !a.ContentHidden || !a.OwnHidden {
		t.Errorf("when expire arrived: %+v, want html.presence-expired with the content and the application's dialog hidden", a)
	}
	if path := eval[string](tb, `location.pathname`); path != "/p/own" {
		t.Errorf("the page went to %s, though the application called preventDefault", path)
	}
	if n := len(s.logoutRequests()); n != 0 {
		t.Errorf("the page went to the logout URL %d times", n)
	}
}

// TestOwnDialogFailsClosed: with data-dialog="none" the warning shows no
// dialog, but the cover still hides the content when the deadline has
// passed and presence has not confirmed the session.
func TestOwnDialogFailsClosed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tb := openTab(t, nil)
	tb.open(s.page("none", presenceTag(map[string]string{"data-token": mint(t, testSecret, sidFor(t), 1, 30), "data-dialog": "none"})))
	tb.waitJS("the warning is on", `document.documentElement.classList.contains("presence-warning")`, 6*time.Second)
	if !eval[bool](tb, presenceDialogHidden) {
		t.Error(`presence shows its dialog with data-dialog="none"`)
	}
	if got := eval[string](tb, `document.title`); got != "\u26a0 Private page" {
		t.Errorf("title %q while warned, want the cue", got)
	}
	// The laptop slept past the end: the cover hides the content at once.
	if !eval[bool](tb, `T.skew = 60000, dispatchEvent(new Event("focus")), `+covered) {
		t.Error("the content is not covered when a wake finds the deadline passed")
	}
}
