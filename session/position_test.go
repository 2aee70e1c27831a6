package session

import (
	"testing"
	"time"
)

func TestLimitsAt(t *testing.T) {
	lim := Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}
	cases := []struct {
		idle time.Duration
		want Position
	}{
		{-time.Second, Position{Status: StatusActive, Idle: 0, ExpireIn: 10 * time.Second}},
		{0, Position{Status: StatusActive, Idle: 0, ExpireIn: 10 * time.Second}},
		{4999 * time.Millisecond, Position{Status: StatusActive, Idle: 4999 * time.Millisecond, ExpireIn: 5001 * time.Millisecond}},
		{5 * time.Second, Position{Status: StatusWarning, Idle: 5 * time.Second, ExpireIn: 5 * time.Second}},
		{9999 * time.Millisecond, Position{Status: StatusWarning, Idle: 9999 * time.Millisecond, ExpireIn: time.Millisecond}},
		{10 * time.Second, Position{Status: StatusWarning, Idle: 10 * time.Second, ExpireIn: 0}},
		{time.Hour, Position{Status: StatusWarning, Idle: time.Hour, ExpireIn: 0}},
	}
	for _, c := range cases {
		if got := lim.At(c.idle); got != c.want {
			t.Errorf("At(%v) = %+v, want %+v", c.idle, got, c.want)
		}
	}
}

func TestSnapshotPosition(t *testing.T) {
	lim := Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}
	now := time.Unix(1000, 0)
	cases := []struct {
		name string
		snap Snapshot
		want Position
	}{
		{"unknown", Snapshot{Now: now}, Position{Status: StatusUnknown}},
		{"active", Snapshot{Now: now, Known: true, Last: now.Add(-2 * time.Second)},
			Position{Status: StatusActive, Idle: 2 * time.Second, ExpireIn: 8 * time.Second}},
		{"warning", Snapshot{Now: now, Known: true, Last: now.Add(-6 * time.Second)},
			Position{Status: StatusWarning, Idle: 6 * time.Second, ExpireIn: 4 * time.Second}},
		{"ended", Snapshot{Now: now, Known: true, Last: now.Add(-11 * time.Second), Ended: true, Reason: ReasonIdle},
			Position{Status: StatusExpired, Idle: 11 * time.Second}},
		{"ended before any activity", Snapshot{Now: now, Ended: true, Reason: ReasonRevoked},
			Position{Status: StatusExpired}},
	}
	for _, c := range cases {
		if got := c.snap.Position(lim); got != c.want {
			t.Errorf("%s: Position = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestLimitsOr(t *testing.T) {
	own := Limits{WarnAfter: time.Second, ExpireAfter: 2 * time.Second}
	def := Limits{WarnAfter: 540 * time.Second, ExpireAfter: 600 * time.Second}
	if got := own.Or(def); got != own {
		t.Errorf("own.Or(def) = %v, want own", got)
	}
	if got := (Limits{}).Or(def); got != def {
		t.Errorf("zero.Or(def) = %v, want def", got)
	}
	if got := (Limits{}).Or(Limits{}).Or(def); got != def {
		t.Errorf("zero.Or(zero).Or(def) = %v, want def", got)
	}
}

func TestIdleClamping(t *testing.T) {
	cases := []struct {
		name string
		got  time.Duration
		want time.Duration
	}{
		{"negative millis", IdleMillis(-5), 0},
		{"zero millis", IdleMillis(0), 0},
		{"millis", IdleMillis(1500), 1500 * time.Millisecond},
		{"huge millis", IdleMillis(1 << 62), MaxIdle},
		{"negative seconds", IdleSeconds(-7), 0},
		{"seconds", IdleSeconds(9), 9 * time.Second},
		{"seconds at the cap", IdleSeconds(int64(MaxIdle / time.Second)), MaxIdle},
		{"huge seconds", IdleSeconds(1 << 62), MaxIdle},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

// An absolute end that comes before the idle deadline is what ExpireIn
// counts down to, with the warning as long before it as the idle one.
func TestLimitsUntil(t *testing.T) {
	lim := Limits{WarnAfter: 5 * time.Second, ExpireAfter: 10 * time.Second}
	cases := []struct {
		idle, endIn time.Duration
		want        Position
	}{
		{0, time.Hour, Position{Status: StatusActive, ExpireIn: 10 * time.Second, EndIn: time.Hour, HasEnd: true}},
		{0, 10 * time.Second, Position{Status: StatusActive, ExpireIn: 10 * time.Second, EndIn: 10 * time.Second, HasEnd: true}},
		{0, 5001 * time.Millisecond, Position{Status: StatusActive, ExpireIn: 5001 * time.Millisecond, Lifetime: true, EndIn: 5001 * time.Millisecond, HasEnd: true}},
		{0, 5 * time.Second, Position{Status: StatusWarning, ExpireIn: 5 * time.Second, Lifetime: true, EndIn: 5 * time.Second, HasEnd: true}},
		{6 * time.Second, 3 * time.Second, Position{Status: StatusWarning, Idle: 6 * time.Second, ExpireIn: 3 * time.Second, Lifetime: true, EndIn: 3 * time.Second, HasEnd: true}},
		{6 * time.Second, time.Hour, Position{Status: StatusWarning, Idle: 6 * time.Second, ExpireIn: 4 * time.Second, EndIn: time.Hour, HasEnd: true}},
		{0, -time.Second, Position{Status: StatusWarning, ExpireIn: 0, Lifetime: true, EndIn: 0, HasEnd: true}},
	}
	for _, c := range cases {
		if got := lim.Until(c.idle, c.endIn); got != c.want {
			t.Errorf("Until(%v, %v) = %+v, want %+v", c.idle, c.endIn, got, c.want)
		}
	}
}
