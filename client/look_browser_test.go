package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// viewport sets the width and height of the tab's window, as a desktop
// browser's.
func (tb *tab) viewport(width, height int64) {
	tb.t.Helper()
	if _, err := run(tb, chromedp.EmulateViewport(width, height)); err != nil {
		tb.t.Fatalf("viewport %dx%d: %v", width, height, err)
	}
}

// colourScheme makes the tab's pages see prefers-color-scheme as scheme,
// light or dark.
func (tb *tab) colourScheme(scheme string) {
	tb.t.Helper()
	set := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
	if _, err := run(tb, set); err != nil {
		tb.t.Fatalf("prefers-color-scheme %s: %v", scheme, err)
	}
}

// brightness is a JavaScript function of a CSS colour: the mean of its
// red, green and blue, from 0 (black) to 255 (white).
const brightness = `(c => { const [r, g, b] = c.match(/\d+(\.\d+)?/g).map(Number); return (r + g + b) / 3 })`

// TestCountdownOneLine: the countdown ("8 seconds") never breaks across
// lines, on a laptop's screen nor at any narrower width down to a phone's
// 320 px, where the dialog's text wraps around it.
func TestCountdownOneLine(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u := s.page("countdown", presenceTag(map[string]string{"data-token": mint(t, testSecret, sidFor(t), 1, 60)}))
	tb := openTab(t, nil)
	tb.viewport(1280, 800)
	tb.open(u)
	tb.waitJS("the dialog shows", dialogShown, 6*time.Second)
	// A width from 320 px up to where the dialog stops growing, in steps
	// of 4 px, puts the line's end at every place in the text.
	widths := []int64{1280}
	for w := int64(320); w <= 540; w += 4 {
		widths = append(widths, w)
	}
	type line struct {
		Text  string `json:"text"`
		Rects int    `json:"rects"`
		Lines int    `json:"lines"`
	}
	for _, w := range widths {
		tb.viewport(w, 800)
		got := eval[line](tb, `(() => {
			const c = document.querySelector(".presence-countdown"), b = document.querySelector(".presence-body");
			return {text: c.textContent, rects: c.getClientRects().length,
				lines: Math.round(b.getBoundingClientRect().height / parseFloat(getComputedStyle(b).lineHeight))};
		})()`)
		if got.Rects != 1 {
			t.Errorf("at %d px the countdown %q breaks into %d lines (the text has %d)", w, got.Text, got.Rects, got.Lines)
		}
	}
	if !eval[bool](tb, dialogShown) {
		t.Error("the dialog hid while the window was resized")
	}
}
