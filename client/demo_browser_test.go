package client_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/internal/demo"
	"github.com/presence-dev/presence/session"
)

// demoServer runs presence with its demo application, warning after 4 s
// and logging out after 8 s, as -demo does with shorter timings: long
// enough for a second tab to load on a busy machine before the end.
func demoServer(t *testing.T) string {
	t.Helper()
	limits := session.Limits{WarnAfter: 4 * time.Second, ExpireAfter: 8 * time.Second}
	store := session.NewMemoryStore(session.MemoryOptions{})
	verifier, err := session.NewVerifier(session.VerifierOptions{Secret: testSecret, Defaults: limits})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := hub.New(hub.Options{Store: store, Verifier: verifier, Tick: 20 * time.Millisecond, RecoveryGrace: -1})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Options{
		Registry: reg,
		Verifier: verifier,
		Store:    store,
		Demo:     demo.Handler(demo.Options{Secret: testSecret, WarnAfter: limits.WarnAfter, ExpireAfter: limits.ExpireAfter}),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		reg.Close()
		srv.Close()
		store.Close()
	})
	return srv.URL
}

// The demo, as a newcomer uses it: log in, open a second tab of the
// session, see both warn, dismiss the warning from one, see both log out;
// log in again and log out from one tab's link, which ends both.
func TestDemo(t *testing.T) {
	t.Parallel()
	base := demoServer(t)
	one := openTab(t, nil)
	one.open(base + "/demo/")
	one.waitJS("login page", `document.querySelector("#login")`, step)
	eval[bool](one, `document.querySelector("#login").click(), true`)
	one.waitJS("the app page with presence running", `document.querySelector("#notes") && document.querySelector(".presence-root")`, step)

	two := openTab(t, one) // same browser: same login cookie, same channel
	two.open(base + "/demo/")
	two.waitJS("second tab running", `document.querySelector(".presence-root")`, step)

	for _, tb := range []*tab{one, two} {
		tb.waitJS("warning shown", `document.documentElement.classList.contains("presence-warning")`, 7*time.Second)
	}
	if role := eval[string](one, `document.querySelector(".presence-dialog").getAttribute("role")`); role != "alertdialog" {
		t.Errorf("dialog role = %q", role)
	}
	one.key("x")
	for _, tb := range []*tab{one, two} {
		tb.waitJS("warning dismissed", `!document.documentElement.classList.contains("presence-warning")`, 2*time.Second)
	}
	for _, tb := range []*tab{one, two} {
		tb.waitJS("logged out", `location.pathname === "/demo/logged-out" && document.querySelector("#logged-out")`, 12*time.Second)
	}

	// Log in again (a new login session) and use the page's Log out link.
	eval[bool](one, `document.querySelector("#login").click(), true`)
	one.waitJS("logged in again", `document.querySelector("#notes") && document.querySelector(".presence-root")`, step)
	two.open(base + "/demo/passive")
	two.waitJS("passive page running", `document.querySelector(".presence-root")`, step)
	eval[bool](one, `document.querySelector("#logout").click(), true`)
	for _, tb := range []*tab{one, two} {
		tb.waitJS("logged out by the link", `location.pathname === "/demo/logged-out"`, 3*time.Second)
		// No request failed on any page: not even /favicon.ico, which
		// the pages declare an icon in place of.
		if errs := tb.networkErrors(); len(errs) != 0 {
			t.Errorf("failed requests: %q", errs)
		}
	}
}

// TestDemoColourScheme: the demo's pages follow the browser's colour
// scheme, as presence's dialog does, so that a dark dialog never shows
// over a light page.
func TestDemoColourScheme(t *testing.T) {
	t.Parallel()
	base := demoServer(t)
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			tb := openTab(t, nil)
			tb.colourScheme(scheme)
			tb.open(base + "/demo/")
			eval[bool](tb, `document.querySelector("#login").click(), true`)
			tb.waitJS("the warning shows", `document.documentElement.classList.contains("presence-warning")`, 8*time.Second)
			type look struct {
				Page     float64 `json:"page"`
				Text     float64 `json:"text"`
				Notes    float64 `json:"notes"`
				Dialog   float64 `json:"dialog"`
				Question float64 `json:"question"`
			}
			got := eval[look](tb, `(() => {
				const bright = `+brightness+`, style = s => getComputedStyle(document.querySelector(s));
				return {page: bright(style("body").backgroundColor), text: bright(style("body").color),
					notes: bright(style("#notes").backgroundColor),
					dialog: bright(style(".presence-dialog").backgroundColor), question: bright(style(".presence-dialog").color)};
			})()`)
			dark := func(v float64) bool { return v < 80 }
			light := func(v float64) bool { return v > 180 }
			background, foreground := light, dark
			if scheme == "dark" {
				background, foreground = dark, light
			}
			if !background(got.Page) || !background(got.Notes) || !background(got.Dialog) || !foreground(got.Text) || !foreground(got.Question) {
				t.Errorf("%s: brightness %+v, want %s backgrounds and text in contrast", scheme, got, scheme)
			}
		})
	}
}
