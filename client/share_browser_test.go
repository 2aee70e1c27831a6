package client_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/presence-dev/presence/session"
)

// The expressions that tell what a tab of a shared socket is.
const (
	// live: the tab heard presence's state.
	live = `T.events.some(e => e.type == "state")`
	// leads: the tab holds the browser's WebSocket.
	leads = `!!T.socket && T.socket.readyState == 1`
)

// sharedTabs opens n tabs of one browser on u, one after another, and
// waits until each has heard presence.
func sharedTabs(t *testing.T, n int, u string) []*tab {
	t.Helper()
	tabs := []*tab{openTab(t, nil)}
	for range n - 1 {
		tabs = append(tabs, openTab(t, tabs[0]))
	}
	for _, tb := range tabs {
		tb.open(u)
	}
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("tab %d hears presence", i+1), live, 5*time.Second)
	}
	return tabs
}

// leaders returns the tabs that hold a WebSocket.
func leaders(tabs []*tab) []*tab {
	var l []*tab
	for _, tb := range tabs {
		if eval[bool](tb, leads) {
			l = append(l, tb)
		}
	}
	return l
}

// leaderOf returns the one tab of tabs that holds a WebSocket, and the
// others; the test fails unless exactly one does.
func leaderOf(t *testing.T, tabs []*tab) (lead *tab, rest []*tab) {
	t.Helper()
	l := leaders(tabs)
	if len(l) != 1 {
		t.Fatalf("%d tabs hold a WebSocket, want 1", len(l))
	}
	for _, tb := range tabs {
		if tb != l[0] {
			rest = append(rest, tb)
		}
	}
	return l[0], rest
}

// counted reports whether node n counts sid's tabs and sockets as given.
func counted(t *testing.T, n *node, sid string, tabs, sockets int) func() bool {
	return func() bool {
		st, err := n.reg.Lookup(t.Context(), sid)
		return err == nil && st.Tabs == tabs && st.Sockets == sockets
	}
}

// TestSharedSocket: five tabs of one session in one browser, with
// shareSocket, hold one WebSocket. The warning reaches every tab; activity
// in a tab that does not hold the socket dismisses it in all; the end
// ends all five.
func TestSharedSocket(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("shared", spaTags(map[string]any{"token": mint(t, testSecret, sid, 4, 8), "shareSocket": true}, nil))
	tabs := sharedTabs(t, 5, u)
	n := s.node()
	eventually(t, "presence counts 5 tabs on 1 socket", 3*time.Second, counted(t, n, sid, 5, 1))
	if got := n.ws.Load(); got != 1 {
		t.Errorf("%d WebSockets asked of presence, want 1", got)
	}
	_, followers := leaderOf(t, tabs)
	opened := 0
	for _, tb := range tabs {
		opened += eval[int](tb, `T.sockets`)
	}
	if opened != 1 {
		t.Errorf("the tabs opened %d WebSockets, want 1", opened)
	}

	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("tab %d shows the warning", i+1), dialogShown, 6*time.Second)
	}
	followers[0].key("a")
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("activity in a follower dismisses the warning in tab %d", i+1), dialogHidden, 2*time.Second)
	}
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("tab %d ends", i+1), `document.documentElement.classList.contains("presence-expired") || location.pathname != "/p/shared"`, 10*time.Second)
	}
	st, err := n.reg.Lookup(t.Context(), sid)
	if err != nil || st.Status != session.StatusExpired {
		t.Errorf("presence says %+v, %v; want expired", st, err)
	}
}

// TestSharedSocketHandover: when the tab that holds a shared socket
// leaves, another tab of the browser opens one within a second, with no
// warning on the way; the warning then comes on time in every tab.
func TestSharedSocketHandover(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("handover", spaTags(map[string]any{"token": mint(t, testSecret, sid, 4, 8), "shareSocket": true}, nil))
	tabs := sharedTabs(t, 3, u)
	lead, rest := leaderOf(t, tabs)
	rest[0].key("a")
	active := time.Now()
	lead.open("about:blank") // the leader's page goes away
	left := time.Now()
	n := s.node()
	eventually(t, "another tab holds the WebSocket", time.Second, func() bool { return len(leaders(rest)) == 1 })
	t.Logf("handed over within %v", time.Since(left).Round(time.Millisecond))
	eventually(t, "presence counts 2 tabs on 1 socket", 2*time.Second, counted(t, n, sid, 2, 1))
	for i, tb := range rest {
		tb.waitJS(fmt.Sprintf("tab %d shows the warning", i+1), dialogShown, 6*time.Second)
		warned := time.UnixMilli(int64(eval[float64](tb, `T.warnedAt`)))
		if d := warned.Sub(active); d < 3800*time.Millisecond || d > 5*time.Second {
			t.Errorf("tab %d warned %v after the last activity, want about warn_after (4 s)", i+1, d.Round(time.Millisecond))
		}
	}
}

// sharedRedis is the Redis that the nodes of a test site share, under a
// prefix of the test's own.
type sharedRedis struct {
	client *redis.Client
	prefix string
}

// requireRedis returns the Redis at PRESENCE_TEST_REDIS, or
// 127.0.0.1:6379, skipping the test without one unless CI=true.
func requireRedis(t *testing.T) *sharedRedis {
	t.Helper()
	addr := cmp.Or(os.Getenv("PRESENCE_TEST_REDIS"), "127.0.0.1:6379")
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Redis at %s: %v", addr, err)
		}
		t.Skipf("skipped: no Redis at %s", addr)
	}
	return &sharedRedis{client: c, prefix: fmt.Sprintf("presence-test:%s:%d:", t.Name(), time.Now().UnixNano())}
}

// TestSharedSocketAcrossNodes: two nodes on Redis. One browser's three
// tabs share a WebSocket to the first node; another browser's tab has one
// of its own to the second. The warning reaches all four; activity in a
// tab that shares the socket dismisses it in all, across the nodes; when
// the sharing tabs' leader leaves, another opens the socket; the end
// ends every tab.
func TestSharedSocketAcrossNodes(t *testing.T) {
	t.Parallel()
	r := requireRedis(t)
	one := newServerWith(t, serverOptions{redis: r})
	two := newServerWith(t, serverOptions{redis: r})
	sid := sidFor(t)
	tok := mint(t, testSecret, sid, 4, 8)
	shared := sharedTabs(t, 3, one.page("shared", spaTags(map[string]any{"token": tok, "shareSocket": true}, nil)))
	other := openTab(t, nil)
	other.open(two.page("own", spaTags(map[string]any{"token": tok}, nil)))
	other.waitJS("the other browser's tab hears presence", live, 5*time.Second)
	eventually(t, "the first node counts 3 tabs on 1 socket", 3*time.Second, counted(t, one.node(), sid, 3, 1))
	eventually(t, "the second node counts 1 tab on 1 socket", 3*time.Second, counted(t, two.node(), sid, 1, 1))

	all := append(slices.Clone(shared), other)
	for i, tb := range all {
		tb.waitJS(fmt.Sprintf("tab %d shows the warning", i+1), dialogShown, 6*time.Second)
	}
	lead, rest := leaderOf(t, shared)
	rest[0].key("a")
	for i, tb := range all {
		tb.waitJS(fmt.Sprintf("activity in a follower dismisses the warning in tab %d", i+1), dialogHidden, 2*time.Second)
	}
	lead.open("about:blank")
	eventually(t, "another sharing tab holds the WebSocket", time.Second, func() bool { return len(leaders(rest)) == 1 })
	eventually(t, "the first node counts 2 tabs on 1 socket", 2*time.Second, counted(t, one.node(), sid, 2, 1))
	for i, tb := range append(rest, other) {
		tb.waitJS(fmt.Sprintf("tab %d ends", i+1), `location.pathname == "/logged-out" || document.documentElement.classList.contains("presence-expired")`, 12*time.Second)
	}
}

// TestSharedSocketFrozenLeader: a browser about to freeze the page that
// holds the shared socket (to save energy) gives it to another tab at
// once; resumed, the page follows, and the browser still holds one
// WebSocket.
func TestSharedSocketFrozenLeader(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("frozen", spaTags(map[string]any{"token": mint(t, testSecret, sid, 20, 40), "shareSocket": true}, nil))
	tabs := sharedTabs(t, 3, u)
	lead, rest := leaderOf(t, tabs)
	lifecycle := func(tb *tab, state page.SetWebLifecycleStateState) {
		t.Helper()
		if _, err := chromedp.Call(tb.ctx, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state}); err != nil {
			t.Fatalf("set the page %s: %v", state, err)
		}
	}
	lifecycle(lead, page.SetWebLifecycleStateStateFrozen)
	frozen := time.Now()
	eventually(t, "another tab holds the WebSocket", time.Second, func() bool { return len(leaders(rest)) == 1 })
	t.Logf("handed over within %v of the freeze", time.Since(frozen).Round(time.Millisecond))
	lifecycle(lead, page.SetWebLifecycleStateStateActive)
	n := s.node()
	eventually(t, "the resumed tab follows: 3 tabs on 1 socket", 10*time.Second, counted(t, n, sid, 3, 1))
	if l := leaders(tabs); len(l) != 1 || l[0] == lead {
		t.Errorf("after the resume %d tabs hold a WebSocket, want 1, not the resumed one", len(l))
	}
	lead.waitJS("the resumed tab hears presence again", `T.events.filter(e => e.type == "state").length > 1`, 10*time.Second)
}

// TestSharedSocketManyTabsAfterRestart: twelve tabs share a WebSocket;
// presence restarts (1012), and they come back on one WebSocket, their
// joins within the rate limit of a connection that carries twelve tabs.
func TestSharedSocketManyTabsAfterRestart(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	sid := sidFor(t)
	u := s.page("many", spaTags(map[string]any{"token": mint(t, testSecret, sid, 60, 120), "shareSocket": true}, nil))
	tabs := sharedTabs(t, 12, u)
	eventually(t, "presence counts 12 tabs on 1 socket", 3*time.Second, counted(t, s.node(), sid, 12, 1))
	n := s.restart()
	eventually(t, "after the restart, 12 tabs on 1 socket again", 10*time.Second, counted(t, n, sid, 12, 1))
	time.Sleep(time.Second) // what a flood would close
	if st, err := n.reg.Lookup(t.Context(), sid); err != nil || st.Sockets != 1 || st.Tabs != 12 {
		t.Errorf("a second later: %+v, %v; want 12 tabs on 1 socket", st, err)
	}
	if got := n.ws.Load(); got != 1 {
		t.Errorf("%d WebSockets asked of the restarted node, want 1", got)
	}
	for i, tb := range tabs {
		closes := eval[int](tb, `T.events.filter(e => e.type == "connection" && e.detail.status == "closed").length`)
		if closes > 2 { // the restart, and the hand-over to a tab whose link was up
			t.Errorf("tab %d saw its link close %d times", i+1, closes)
		}
	}
}

// TestSharedSocketPresenceKilled: presence dies under three tabs that
// share a WebSocket. Every tab, the leader and the followers, warns and
// then covers itself by its own clock, and none leaves on its own; once
// presence is back, its word ends the idle session in all three.
func TestSharedSocketPresenceKilled(t *testing.T) {
	t.Parallel()
	s := newServerWith(t, serverOptions{grace: 2 * time.Second})
	// The pages come from the application, which stays up.
	s.pageFor("killed", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 3, 6), "shareSocket": true}, nil))
	tabs := sharedTabs(t, 3, s.foreignURL("/p/killed"))
	leaderOf(t, tabs)
	s.kill()
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("tab %d warns by its own clock", i+1), dialogShown+" || T.warnedAt > 0", 5*time.Second)
	}
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("tab %d covers itself at the end", i+1), covered, 5*time.Second)
	}
	if n := len(s.logoutRequests()); n != 0 {
		t.Errorf("%d tabs went to the logout URL on their own", n)
	}
	s.revive()
	for i, tb := range tabs {
		tb.waitJS(fmt.Sprintf("presence ends the idle session in tab %d", i+1), `location.pathname == "/logged-out"`, 15*time.Second)
	}
}
