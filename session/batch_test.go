package session

import (
	"errors"
	"testing"
	"time"
)

// testBatch: a batch answers each call as its own method would, in order,
// and one call's error leaves the others alone.
func testBatch(t *testing.T, h storeHarness) {
	ctx := t.Context()
	must(t)(h.Touch(ctx, "old", 0, Terms{Limits: lim}))
	must(t)(h.End(ctx, "gone", ReasonLogout, lim))
	h.advance(2 * time.Second)
	results := Batch(ctx, h.Store, []Call{
		{SID: "old", Touch: true, Idle: time.Second, Terms: Terms{Limits: lim, UID: "u1"}},
		{SID: "new", Touch: true, Idle: 500 * time.Millisecond, Terms: Terms{Limits: lim}},
		{SID: "", Touch: true, Terms: Terms{Limits: lim}},
		{SID: "unknown", Terms: Terms{Limits: lim}},
		{SID: "gone", Touch: true, Terms: Terms{Limits: lim}},
		{SID: "bad-limits", Touch: true, Terms: Terms{}},
		{SID: "old", Terms: Terms{}},
	})
	if len(results) != 7 {
		t.Fatalf("%d results for 7 calls", len(results))
	}
	for i, want := range []bool{false, false, true, false, false, true, false} {
		if (results[i].Err != nil) != want {
			t.Errorf("call %d: error %v, want an error: %v", i, results[i].Err, want)
		}
	}
	wantActive(t, h, results[0].Snapshot, h.now().Add(-time.Second))
	if results[0].Snapshot.UID != "u1" {
		t.Errorf("touch's user: %q, want u1", results[0].Snapshot.UID)
	}
	wantActive(t, h, results[1].Snapshot, h.now().Add(-500*time.Millisecond))
	if s := results[3].Snapshot; s.Known || s.Ended {
		t.Errorf("check of an unknown session: %+v, want unknown", s)
	}
	if s := results[4].Snapshot; !s.Ended || s.Reason != ReasonLogout {
		t.Errorf("touch of an ended session: %+v, want it ended by logout", s)
	}
	wantActive(t, h, results[6].Snapshot, h.now().Add(-time.Second))
	if s := must(t)(h.Check(ctx, "new", lim)); !s.Known {
		t.Errorf("the batch's touch created nothing: %+v", s)
	}
	if len(Batch(ctx, h.Store, nil)) != 0 {
		t.Error("an empty batch answered something")
	}
	h.Close()
	if r := Batch(ctx, h.Store, []Call{{SID: "old", Terms: Terms{Limits: lim}}}); !errors.Is(r[0].Err, ErrClosed) {
		t.Errorf("a batch on a closed store: %v, want ErrClosed", r[0].Err)
	}
}
