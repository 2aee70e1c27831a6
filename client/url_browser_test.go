package client_test

import (
	"strings"
	"testing"
	"time"
)

// TestURLForms: the url option names presence by its base URL or by its
// WebSocket URL, with or without a trailing slash, and the page joins
// either way.
func TestURLForms(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	host := strings.TrimPrefix(s.url(""), "http://")
	for name, u := range map[string]string{
		"base":      "http://" + host,
		"slash":     "http://" + host + "/",
		"websocket": "ws://" + host + "/ws",
		"relative":  "/",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tb := openTab(t, nil)
			tb.open(s.page("url-"+name, spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 20, 30), "url": u}, nil)))
			tb.waitJS("the page joins", `T.events.some(e => e.type == "state")`, 5*time.Second)
			if errs := tb.consoleErrors(); len(errs) != 0 {
				t.Errorf("console errors %q", errs)
			}
		})
	}
}

// TestURLRefused: a url the client cannot use is said once, on the
// console naming the option and the form it wants, and as an error event;
// the page then fails closed, covered at the token's expire_after.
func TestURLRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	before := s.node().ws.Load() + s.node().pings.Load()
	tb := openTab(t, nil)
	tb.open(s.page("url-ftp", spaTags(map[string]any{"token": mint(t, testSecret, sidFor(t), 1, 3), "url": "ftp://presence.example/"}, nil)))
	tb.waitJS("the refusal is an error event", `T.events.some(e => e.type == "error" && e.detail.code == "url_invalid")`, 5*time.Second)
	tb.waitJS("the page is covered at expire_after", covered, 6*time.Second)
	if errs := tb.consoleErrors(); len(errs) != 1 || !strings.Contains(errs[0], "url option (data-url) ftp://presence.example/") || !strings.Contains(errs[0], "https://presence.example.com") {
		t.Errorf("console errors %q, want one naming the url option and the form it wants", errs)
	}
	if n := eval[int](tb, `T.events.filter(e => e.type == "error").length`); n != 1 {
		t.Errorf("%d error events, want 1", n)
	}
	if n := s.node().ws.Load() + s.node().pings.Load() - before; n != 0 {
		t.Errorf("%d requests to presence for a url the client cannot use, want none", n)
	}
	if path := eval[string](tb, `location.pathname`); path != "/p/url-ftp" {
		t.Errorf("the page went to %s", path)
	}
}
