package soak

import (
	"testing"
	"time"
)

// An act a tab could not report counts from the hello that told presence
// of it, not from when the person was active.
func TestHistoryCountsActsFromWhenPresenceKnew(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	h := newHistory(Script{}, t0)
	h.active(at(1), at(1))       // a frame of a connected tab
	h.active(at(2), time.Time{}) // the tab was disconnected
	h.active(at(3), time.Time{})
	if got := h.lastKnown(at(4)); !got.Equal(at(1)) {
		t.Fatalf("before any hello, the last known act is %v, want %v", got, at(1))
	}
	h.told(at(2.5), at(5)) // a hello at 5 s, idle since 2.5 s
	if got := h.lastAct(at(4.9)); !got.at.Equal(at(1)) {
		t.Errorf("just before the hello, the last known act is %v, want %v", got.at, at(1))
	}
	if got := h.lastAct(at(5)); !got.at.Equal(at(2)) || !got.known.Equal(at(5)) {
		t.Errorf("at the hello, the last known act is %v known from %v, want %v from %v", got.at, got.known, at(2), at(5))
	}
	if got := h.lastOf(); !got.Equal(at(2)) {
		t.Errorf("the act after the hello's idle time counts: lastOf is %v, want %v", got, at(2))
	}
}
