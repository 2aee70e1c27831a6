package session

import (
	"slices"
	"testing"
	"time"

	"github.com/presence-dev/presence/internal/clock"
)

// A session's absolute end (Terms.EndAt) is its first, whatever later
// calls say; activity never moves it; it ends the session then, held idle
// ends or not, with reason lifetime, unless the idle end came first.
func testLifetime(t *testing.T, h storeHarness) {
	ctx := t.Context()
	t0 := h.now()
	end := t0.Add(30 * time.Minute)
	if s := must(t)(h.Touch(ctx, "l", 0, Terms{Limits: longLim, EndAt: end})); !s.EndsAt.Equal(end) {
		t.Fatalf("EndsAt = %v, want %v", s.EndsAt, end)
	}
	for _, other := range []time.Time{end.Add(time.Hour), end.Add(-time.Minute)} {
		if s := must(t)(h.Touch(ctx, "l", 0, Terms{Limits: longLim, EndAt: other})); !s.EndsAt.Equal(end) {
			t.Errorf("a later token's end %v moved EndsAt to %v", other, s.EndsAt)
		}
	}
	if s := must(t)(h.Check(ctx, "l", Limits{})); !s.EndsAt.Equal(end) {
		t.Errorf("Check: EndsAt = %v, want %v", s.EndsAt, end)
	}
	// A session without one takes the first it is given.
	if s := must(t)(h.Touch(ctx, "n", 0, Terms{Limits: longLim})); !s.EndsAt.IsZero() {
		t.Errorf("EndsAt = %v with none given", s.EndsAt)
	}
	if s := must(t)(h.Touch(ctx, "n", 0, Terms{Limits: longLim, EndAt: end})); !s.EndsAt.Equal(end) {
		t.Errorf("EndsAt = %v, want the first given, %v", s.EndsAt, end)
	}
	// The idle end comes first: it stands.
	must(t)(h.Touch(ctx, "i", 0, Terms{Limits: Limits{WarnAfter: time.Minute, ExpireAfter: 10 * time.Minute}, EndAt: end}))

	h.advance(29 * time.Minute)
	wantEnded(t, must(t)(h.Check(ctx, "i", Limits{})), t0.Add(10*time.Minute), ReasonIdle, true)
	confirmed(t, h, "i")
	wantActive(t, h, must(t)(h.Touch(ctx, "l", 0, Terms{Limits: longLim})), h.now())
	h.HoldIdleEnds(h.now().Add(time.Hour)) // holds idle ends, not this one
	h.advance(time.Minute)
	wantEnded(t, must(t)(h.Touch(ctx, "l", 0, Terms{Limits: longLim})), end, ReasonLifetime, true)
	confirmed(t, h, "l")
	wantEnded(t, must(t)(h.Check(ctx, "n", Limits{})), end, ReasonLifetime, true)
	confirmed(t, h, "n")
	// Created past its end, a session is over at once.
	wantEnded(t, must(t)(h.Touch(ctx, "p", 0, Terms{Limits: longLim, EndAt: end})), end, ReasonLifetime, true)
}

// A session due for its absolute end before its idle deadline is due in
// the deadline set then, so that a node claims it though none holds it.
func TestRedisClaimsALifetimeEnd(t *testing.T) {
	t.Parallel()
	c := redisForTest(t)
	clk := clock.NewManual(redisTime(t, c))
	s := newRedisForTest(t, c, RedisOptions{Clock: clk})
	ctx := t.Context()
	end := clk.Now().Add(time.Minute)
	must(t)(s.Touch(ctx, "ends", 0, Terms{Limits: lim, EndAt: end}))
	must(t)(s.Touch(ctx, "lives", 0, Terms{Limits: lim}))
	clk.Advance(time.Minute)
	if got := claimSorted(t, s); !slices.Equal(got, []string{"ends"}) {
		t.Fatalf("claimed %v at the absolute end, want [ends]", got)
	}
	wantEnded(t, must(t)(s.Check(ctx, "ends", Limits{})), unixMicro(end.UnixMicro()), ReasonLifetime, true)
}
