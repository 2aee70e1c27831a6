package soak

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is how a session's person works.
type Kind int

const (
	// OneTab: active in one tab.
	OneTab Kind = iota
	// ManyTabs: tabs on different nodes, the activity in any of them.
	ManyTabs
	// AppOnly: a tab that sees no activity, the person working in pages
	// without the script, reported by the application through the API.
	AppOnly
	// NoTab: registered at login and reported through the API only, as a
	// session of a browser without JavaScript.
	NoTab
	// LogsOut: active in one tab, then logging out through the
	// application.
	LogsOut
	kinds
)

func (k Kind) String() string {
	return [...]string{"one tab", "tabs on several nodes", "application requests only", "no tab", "logs out"}[k]
}

// Script is a session's truth, fixed before it starts: when its person
// is active, and how it should end.
type Script struct {
	SID  string
	Kind Kind
	// Tabs is how many tabs the session opens, each on the next node.
	Tabs int
	// ActiveFor is how long after login the person works; past the run's
	// end means throughout.
	ActiveFor time.Duration
	// Every is the pause between two activities while working.
	Every time.Duration
	// FirstNode is the node of the session's first tab.
	FirstNode int
}

// newScript draws the script of a person's n-th session.
func newScript(rng *rand.Rand, person, n, nodes int, run time.Duration) Script {
	s := Script{
		SID:       fmt.Sprintf("soak-%d-%d-%08x", person, n, rng.Uint32()),
		Kind:      Kind(rng.IntN(int(kinds))),
		Tabs:      1,
		Every:     700*time.Millisecond + time.Duration(rng.Int64N(int64(600*time.Millisecond))),
		FirstNode: rng.IntN(nodes),
	}
	switch s.Kind {
	case ManyTabs:
		s.Tabs = 2 + rng.IntN(nodes-1)
	case NoTab:
		s.Tabs = 0
	}
	// A fifth work through the whole run; the others stop after up to a
	// quarter of it, and a new session of theirs starts after the end.
	if rng.IntN(5) == 0 {
		s.ActiveFor = 2 * run
	} else {
		s.ActiveFor = time.Second + time.Duration(rng.Int64N(int64(run/4)))
	}
	return s
}
