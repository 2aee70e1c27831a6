package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress is the line on stderr that says what the run is doing. On a
// terminal it is one line rewritten in place, with counts; elsewhere
// (make's output in a log, a test) each phase is a line of its own and
// counts are left out.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	start time.Time // of the phase
	began time.Time // of the run
	shown bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// phase starts a phase of the run.
func (p *progress) phase(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label = fmt.Sprintf(format, a...)
	p.start = time.Now()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", p.label)
		p.shown = true
	} else {
		fmt.Fprintf(p.w, "presence-bench: %5.1fs %s\n", time.Since(p.began).Seconds(), p.label)
	}
}

// counter returns a function that shows n of total done in the phase.
func (p *progress) counter(total int) func(n int) {
	return func(n int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s: %d/%d (%.1f s)", p.label, n, total, time.Since(p.start).Seconds())
			p.shown = true
		}
	}
}

// done clears the line, before the table is printed.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
