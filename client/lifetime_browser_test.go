package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/presence-dev/presence/session"
)

// TestLifetimeWarningAndEnd: before a session's absolute end (the token's
// end_at), every tab shows when it comes, with a single "OK", however
// active its person; OK hides it in that tab only; at the end every tab
// leaves.
func TestLifetimeWarningAndEnd(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	end := time.Now().Add(6 * time.Second).Truncate(time.Second)
	tok, err := session.Mint(testSecret, session.Claims{SID: sidFor(t), WarnAfter: 3, ExpireAfter: 6, EndAt: end.Unix(), LogoutURL: "/logged-out"})
	if err != nil {
		t.Fatal(err)
	}
	u := s.page("lifetime", presenceTag(map[string]string{"data-token": tok}))
	a := openTab(t, nil)
	b := openTab(t, a)
	a.open(u)
	b.open(u)
	defer busy(t, a, b)()
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the dialog shows before the end, though the person is active", dialogShown, 8*time.Second)
		body := eval[string](tb, `document.querySelector(".presence-body").textContent`)
		if !strings.HasPrefix(body, "Your session ends at ") || !strings.HasSuffix(body, "; save your work.") {
			t.Errorf("dialog text %q, want when the session ends", body)
		}
		buttons := eval[[]string](tb, `[...document.querySelectorAll(".presence-actions button")].filter(b => !b.hidden).map(b => b.textContent)`)
		if len(buttons) != 1 || buttons[0] != "OK" {
			t.Errorf("buttons %q, want OK alone", buttons)
		}
	}
	if d := time.Until(end); d < 2*time.Second || d > 3500*time.Millisecond {
		t.Errorf("warned %v before the end, want about expire_after - warn_after (3 s)", d.Round(time.Millisecond))
	}
	a.key("\r") // OK has the focus
	a.waitJS("OK hides the dialog", dialogHidden, 2*time.Second)
	if !eval[bool](b, dialogShown) {
		t.Error("OK in one tab hid the dialog in the other")
	}
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the tab leaves at the end", `location.pathname == "/logged-out"`, 6*time.Second)
	}
	if late := time.Since(end); late > 1500*time.Millisecond {
		t.Errorf("the tabs left %v after the end", late.Round(time.Millisecond))
	}
}

// TestLifetimeAcrossNodes: two nodes on Redis, a browser's tab on each,
// both busy. Both show the absolute end before it, and both leave at it:
// the store keeps the end for every node.
func TestLifetimeAcrossNodes(t *testing.T) {
	t.Parallel()
	r := requireRedis(t)
	one := newServerWith(t, serverOptions{redis: r})
	two := newServerWith(t, serverOptions{redis: r})
	end := time.Now().Add(7 * time.Second).Truncate(time.Second)
	tok, err := session.Mint(testSecret, session.Claims{SID: sidFor(t), WarnAfter: 3, ExpireAfter: 6, EndAt: end.Unix(), LogoutURL: "/logged-out"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := openTab(t, nil), openTab(t, nil)
	a.open(one.page("lifetime", presenceTag(map[string]string{"data-token": tok})))
	b.open(two.page("lifetime", presenceTag(map[string]string{"data-token": tok})))
	defer busy(t, a, b)()
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the dialog says when the session ends, on either node", dialogShown+` && document.querySelector(".presence-body").textContent.startsWith("Your session ends at ")`, 9*time.Second)
	}
	for _, tb := range []*tab{a, b} {
		tb.waitJS("the tab leaves at the end", `location.pathname == "/logged-out"`, 7*time.Second)
	}
	if late := time.Since(end); late > 1500*time.Millisecond {
		t.Errorf("the tabs left %v after the end", late.Round(time.Millisecond))
	}
}
