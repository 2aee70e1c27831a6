package soak

import (
	"sync"
	"time"
)

// history is what happened to one session: what its person did, and what
// presence told its tabs and the application.
type history struct {
	script Script
	login  time.Time

	mu       sync.Mutex
	activity []act       // every instant its person was active, in order
	logout   time.Time   // when the application's logout call succeeded; zero if none
	warns    []time.Time // warn frames, as a tab received them
	expires  []seen      // expire frames, as a tab received them
	status   string      // the API's status at the end of the run
}

// act is an instant the person was active, and when presence could first
// know of it: at once for a frame of a connected tab; at the tab's next
// hello for activity while it was disconnected. The application's
// requests stay unknown: presence knows their reports, whole seconds ago
// as the API takes them, from when the report was answered. No warning or
// end is held against an act presence could not know of yet.
type act struct {
	at, known time.Time
}

// seen is an end as a tab heard of it.
type seen struct {
	at     time.Time
	reason string
}

func newHistory(s Script, login time.Time) *history {
	return &history{script: s, login: login, activity: []act{{login, login}}}
}

// active records that the person was active at t, presence knowing of
// it from known (zero: not yet).
func (h *history) active(t, known time.Time) {
	h.mu.Lock()
	h.activity = append(h.activity, act{t, known})
	h.mu.Unlock()
}

// told records that presence now knows of every act up to until.
func (h *history) told(until, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.activity) - 1; i >= 0; i-- {
		a := &h.activity[i]
		if a.at.After(until) {
			continue
		}
		if !a.known.IsZero() {
			break
		}
		a.known = now
	}
}

// lastKnown returns the person's last activity that presence could know
// of at t.
func (h *history) lastKnown(t time.Time) time.Time {
	return h.lastAct(t).at
}

// lastAct returns the person's last act that presence could know of at t.
func (h *history) lastAct(t time.Time) act {
	h.mu.Lock()
	defer h.mu.Unlock()
	var last act
	for _, a := range h.activity {
		if !a.known.IsZero() && !a.known.After(t) && a.at.After(last.at) {
			last = a
		}
	}
	return last
}

// lastOf returns the person's last activity that presence was told of,
// by the end of the run: the one its end is due from.
func (h *history) lastOf() time.Time {
	return h.lastKnown(time.Now())
}

func (h *history) warned(t time.Time) {
	h.mu.Lock()
	h.warns = append(h.warns, t)
	h.mu.Unlock()
}

func (h *history) expired(t time.Time, reason string) {
	h.mu.Lock()
	h.expires = append(h.expires, seen{t, reason})
	h.mu.Unlock()
}

func (h *history) loggedOut(t time.Time) {
	h.mu.Lock()
	if h.logout.IsZero() {
		h.logout = t
	}
	h.mu.Unlock()
}

// ended reports whether a tab heard of the session's end.
func (h *history) ended() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.expires) > 0
}
