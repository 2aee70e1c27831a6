package session

import (
	"math"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lim  Limits
		text string // "" for valid
	}{
		{Limits{540 * time.Second, 600 * time.Second}, ""},
		{Limits{time.Nanosecond, 2 * time.Nanosecond}, ""},
		{Limits{time.Hour, maxLimit}, ""},
		{Limits{}, "warn after is 0s; it must be positive"},
		{Limits{-time.Second, time.Second}, "must be positive"},
		{Limits{time.Minute, time.Minute}, "expire after (1m0s) must be longer than warn after (1m0s)"},
		{Limits{time.Minute, 0}, "must be longer"},
		{Limits{time.Hour, maxLimit + 1}, "at most 8784h0m0s (366 days)"},
	}
	for _, tt := range tests {
		err := tt.lim.Validate()
		switch {
		case tt.text == "" && err != nil:
			t.Errorf("%+v: Validate = %v", tt.lim, err)
		case tt.text != "" && (err == nil || !strings.Contains(err.Error(), tt.text)):
			t.Errorf("%+v: Validate = %v, want %q", tt.lim, err, tt.text)
		}
	}
}

func TestSnapshotIdle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    Snapshot
		want time.Duration
	}{
		{"known", Snapshot{Now: t0, Known: true, Last: t0.Add(-time.Minute)}, time.Minute},
		{"last after now", Snapshot{Now: t0, Known: true, Last: t0.Add(time.Minute)}, 0},
		{"unknown", Snapshot{Now: t0}, 0},
	}
	for _, tt := range tests {
		if got := tt.s.Idle(); got != tt.want {
			t.Errorf("%s: Idle = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The rule tests run at now, with the limits 540 s / 600 s and a
// retention of one hour.
const (
	sec = int64(time.Second)
	ret = int64(time.Hour)
)

var (
	now = t0.UnixNano()
	lim = Limits{WarnAfter: 540 * time.Second, ExpireAfter: 600 * time.Second}
)

func activeAt(last, until int64) entry { return entry{last: last, until: until, flags: hasLast} }

// withEnd is e with the absolute end at.
func withEnd(e entry, at int64) entry {
	e.endedAt = at
	return e
}

// markAt is a session that ended at endedAt, marked at now.
func markAt(last, endedAt int64, r reasonCode) entry {
	return entry{last: last, endedAt: endedAt, until: now + ret, reason: r, flags: hasLast | announced}
}

// swept is what the sweep leaves of a session: ended, not announced.
func swept(e entry) entry { e.flags &^= announced; return e }

func TestTimelineRules(t *testing.T) {
	t.Parallel()
	m := moment{now: now, retention: ret}
	touch := func(idle time.Duration) func(entry, bool) (entry, bool, bool) {
		return func(e entry, known bool) (entry, bool, bool) { return m.touch(e, known, idle, Terms{Limits: lim}) }
	}
	check := func(lim Limits) func(entry, bool) (entry, bool, bool) {
		return func(e entry, known bool) (entry, bool, bool) { return m.check(e, known, lim) }
	}
	end := func(r reasonCode) func(entry, bool) (entry, bool, bool) {
		return func(e entry, known bool) (entry, bool, bool) { return m.end(e, known, r, lim) }
	}
	long := Limits{WarnAfter: time.Hour, ExpireAfter: 2 * time.Hour}
	noLastMark := entry{endedAt: now - sec, until: now + ret, reason: endedLogout, flags: announced}

	tests := []struct {
		name     string
		e        entry
		known    bool
		rule     func(entry, bool) (entry, bool, bool)
		want     entry
		keep     bool
		endedNow bool
	}{
		{"touch creates at now", entry{}, false, touch(0), activeAt(now, now+600*sec), true, false},
		{"touch creates idle ago", entry{}, false, touch(30 * time.Second), activeAt(now-30*sec, now+570*sec), true, false},
		{"touch negative idle counts as 0", entry{}, false, touch(-time.Hour), activeAt(now, now+600*sec), true, false},
		{"touch creates just alive", entry{}, false, touch(599 * time.Second), activeAt(now-599*sec, now+sec), true, false},
		{"touch creates ended", entry{}, false, touch(600 * time.Second), markAt(now-600*sec, now, endedIdle), true, true},
		{"touch creates ended long ago", entry{}, false, touch(time.Hour), markAt(now-3600*sec, now-3000*sec, endedIdle), true, true},
		{"touch smaller idle moves last later", activeAt(now-100*sec, now+500*sec), true, touch(10 * time.Second), activeAt(now-10*sec, now+590*sec), true, false},
		{"touch larger idle changes nothing", activeAt(now-100*sec, now+500*sec), true, touch(200 * time.Second), activeAt(now-100*sec, now+500*sec), true, false},
		{"touch negative idle moves last to now", activeAt(now-100*sec, now+500*sec), true, touch(-time.Second), activeAt(now, now+600*sec), true, false},
		{"touch keeps the longest deadline", activeAt(now-100*sec, now+7000*sec), true, touch(0), activeAt(now, now+7000*sec), true, false},
		{"touch at the deadline ends", activeAt(now-600*sec, now), true, touch(0), markAt(now-600*sec, now, endedIdle), true, true},
		{"touch past the deadline ends there", activeAt(now-900*sec, now-300*sec), true, touch(0), markAt(now-900*sec, now-300*sec, endedIdle), true, true},
		{"touch past the caller's deadline ends", activeAt(now-900*sec, now+5000*sec), true, touch(0), markAt(now-900*sec, now-300*sec, endedIdle), true, true},
		{"touch leaves ended", markAt(now-900*sec, now-300*sec, endedIdle), true, touch(0), markAt(now-900*sec, now-300*sec, endedIdle), true, false},
		{"touch leaves logged out", markAt(now-9*sec, now-sec, endedLogout), true, touch(-time.Hour), markAt(now-9*sec, now-sec, endedLogout), true, false},
		{"touch leaves a mark without last", noLastMark, true, touch(0), noLastMark, true, false},
		{"touch announces a swept end", swept(markAt(now-900*sec, now-300*sec, endedIdle)), true, touch(0), markAt(now-900*sec, now-300*sec, endedIdle), true, true},

		{"check unknown", entry{}, false, check(lim), entry{}, false, false},
		{"check alive", activeAt(now-100*sec, now+500*sec), true, check(lim), activeAt(now-100*sec, now+500*sec), true, false},
		{"check with longer limits", activeAt(now-100*sec, now+500*sec), true, check(long), activeAt(now-100*sec, now+7100*sec), true, false},
		{"check at the deadline ends", activeAt(now-600*sec, now), true, check(lim), markAt(now-600*sec, now, endedIdle), true, true},
		{"check past the deadline, alive by longer limits", activeAt(now-900*sec, now-300*sec), true, check(long), activeAt(now-900*sec, now+6300*sec), true, false},
		{"check leaves ended", markAt(now-9*sec, now-sec, endedRevoked), true, check(long), markAt(now-9*sec, now-sec, endedRevoked), true, false},
		{"check announces a swept end", swept(markAt(now-900*sec, now-300*sec, endedIdle)), true, check(lim), markAt(now-900*sec, now-300*sec, endedIdle), true, true},

		{"end unknown marks it", entry{}, false, end(endedLogout), entry{endedAt: now, until: now + ret, reason: endedLogout, flags: announced}, true, true},
		{"end active", activeAt(now-100*sec, now+500*sec), true, end(endedRevoked), markAt(now-100*sec, now, endedRevoked), true, true},
		{"end past the deadline ends idle", activeAt(now-900*sec, now-300*sec), true, end(endedLogout), markAt(now-900*sec, now-300*sec, endedIdle), true, true},
		{"end leaves ended", markAt(now-9*sec, now-sec, endedIdle), true, end(endedLogout), markAt(now-9*sec, now-sec, endedIdle), true, false},
		{"end announces a swept end", swept(markAt(now-900*sec, now-300*sec, endedIdle)), true, end(endedLogout), markAt(now-900*sec, now-300*sec, endedIdle), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, keep, endedNow := tt.rule(tt.e, tt.known)
			// The limits an entry keeps have tests of their own below.
			got.warn, got.expire = 0, 0
			if got != tt.want || keep != tt.keep || endedNow != tt.endedNow {
				t.Errorf("got %+v, keep %v, endedNow %v;\nwant %+v, keep %v, endedNow %v", got, keep, endedNow, tt.want, tt.keep, tt.endedNow)
			}
		})
	}
}

func TestTimelineSweep(t *testing.T) {
	t.Parallel()
	m := moment{now: now, retention: ret}
	tests := []struct {
		name string
		e    entry
		want entry
		keep bool
	}{
		{"active before its deadline", activeAt(now-100*sec, now+sec), activeAt(now-100*sec, now+sec), true},
		{"active at its deadline", activeAt(now-600*sec, now), swept(markAt(now-600*sec, now, endedIdle)), true},
		{"active past its deadline", activeAt(now-900*sec, now-300*sec), swept(markAt(now-900*sec, now-300*sec, endedIdle)), true},
		{"active at its absolute end", withEnd(activeAt(now-100*sec, now+sec), now), swept(markAt(now-100*sec, now, endedLifetime)), true},
		{"active before its absolute end", withEnd(activeAt(now-100*sec, now+sec), now+sec/2), withEnd(activeAt(now-100*sec, now+sec), now+sec/2), true},
		{"idle end before the absolute end", withEnd(activeAt(now-900*sec, now-300*sec), now-sec), swept(markAt(now-900*sec, now-300*sec, endedIdle)), true},
		{"mark within retention", markAt(now-9*sec, now-sec, endedLogout), markAt(now-9*sec, now-sec, endedLogout), true},
		{"mark at its end of retention", entry{endedAt: now - ret, until: now, reason: endedLogout}, entry{endedAt: now - ret, until: now, reason: endedLogout}, false},
	}
	for _, tt := range tests {
		got, keep := m.sweep(tt.e)
		if keep != tt.keep || keep && got != tt.want {
			t.Errorf("%s: sweep = %+v, %v; want %+v, %v", tt.name, got, keep, tt.want, tt.keep)
		}
	}
}

func TestTimelineSnapshot(t *testing.T) {
	t.Parallel()
	m := moment{now: now, retention: ret}
	at := func(ns int64) time.Time { return time.Unix(0, ns).UTC() }
	tests := []struct {
		name     string
		e        entry
		keep     bool
		endedNow bool
		want     Snapshot
	}{
		{"not kept", entry{}, false, false, Snapshot{Now: t0}},
		{"active", activeAt(now-sec, now+599*sec), true, false, Snapshot{Now: t0, Known: true, Last: at(now - sec)}},
		{"ended", markAt(now-sec, now, endedRevoked), true, true,
			Snapshot{Now: t0, Known: true, Last: at(now - sec), Ended: true, EndedAt: t0, Reason: ReasonRevoked, EndedNow: true}},
		{"ended before any touch", entry{endedAt: now, reason: endedLogout}, true, false,
			Snapshot{Now: t0, Ended: true, EndedAt: t0, Reason: ReasonLogout}},
	}
	for _, tt := range tests {
		if got := m.snapshot(tt.e, tt.keep, tt.endedNow); got != tt.want {
			t.Errorf("%s: snapshot = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestSizes keeps an entry small and a memory shard one cache line.
func TestSizes(t *testing.T) {
	t.Parallel()
	if n := unsafe.Sizeof(entry{}); n != 64 {
		t.Errorf("entry is %d bytes, want 64", n)
	}
	if n := unsafe.Sizeof(memoryShard{}); n != 64 {
		t.Errorf("memoryShard is %d bytes, want 64", n)
	}
}

func TestReasonCodes(t *testing.T) {
	t.Parallel()
	for _, r := range []Reason{ReasonIdle, ReasonLogout, ReasonRevoked} {
		c, ok := codeOf(r)
		if !ok || c == active || c.reason() != r {
			t.Errorf("codeOf(%q) = %v, %v; reason() = %q", r, c, ok, c.reason())
		}
	}
	if _, ok := codeOf("expired"); ok {
		t.Error(`codeOf("expired") is ok`)
	}
}

func TestSaturation(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want int64 }{
		{add(1, 2), 3},
		{add(math.MaxInt64-1, 2), math.MaxInt64},
		{add(math.MinInt64, math.MaxInt64), -1},
		{sub(1, 2), -1},
		{sub(math.MinInt64+1, 2), math.MinInt64},
		{sub(math.MaxInt64, math.MaxInt64), 0},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %d, want %d", i, tt.got, tt.want)
		}
	}
}

// TestTimelineKeepsLimits: every call that gives limits leaves them in the
// entry; a call without limits runs with the entry's, or, when it has
// none, with the latest deadline any call computed.
func TestTimelineKeepsLimits(t *testing.T) {
	t.Parallel()
	m := moment{now: int64(1_800_000_000) * sec, retention: ret}
	lim := Limits{WarnAfter: 540 * time.Second, ExpireAfter: 600 * time.Second}
	long := Limits{WarnAfter: time.Hour, ExpireAfter: 2 * time.Hour}
	kept := func(e entry) Limits { return Limits{time.Duration(e.warn), time.Duration(e.expire)} }

	e, _, _ := m.touch(entry{}, false, 0, Terms{Limits: long})
	if kept(e) != long {
		t.Fatalf("touch kept %+v, want %+v", kept(e), long)
	}
	later := moment{now: m.now + 3600*sec, retention: ret}
	e2, _, endedNow := later.check(e, true, Limits{})
	if endedNow || e2.reason != active || kept(e2) != long {
		t.Errorf("check without limits an hour later = %+v, endedNow %v; want active, keeping %+v", e2, endedNow, long)
	}
	e3, _, _ := later.check(e2, true, lim)
	if kept(e3) != lim || e3.reason != endedIdle {
		t.Errorf("check with shorter limits = %+v; want them kept, and the session ended by them", e3)
	}
	if s := later.snapshot(e2, true, false); s.Limits != long {
		t.Errorf("snapshot Limits = %+v, want %+v", s.Limits, long)
	}
	bare := entry{last: m.now, until: m.now + 100*sec, flags: hasLast} // no limits kept
	if e4, _, endedNow := m.check(bare, true, Limits{}); endedNow || e4.reason != active {
		t.Errorf("before until, without any limits: %+v, endedNow %v; want active", e4, endedNow)
	}
	past := moment{now: m.now + 100*sec, retention: ret}
	if e5, _, endedNow := past.check(bare, true, Limits{}); !endedNow || e5.endedAt != bare.until {
		t.Errorf("at until, without any limits: %+v, endedNow %v; want ended at until", e5, endedNow)
	}
	if e6, _, _ := m.end(entry{}, false, endedRevoked, Limits{}); kept(e6) != (Limits{}) {
		t.Errorf("end of an unknown session without limits kept %+v", kept(e6))
	}
}
