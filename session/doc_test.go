package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/session"
)

// TestMain fails the package's tests if a goroutine, such as a store's
// sweeper, outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func ExampleVerifier_Verify() {
	secret := []byte("an example secret of 32 bytes or more")
	token, err := session.Mint(secret, session.Claims{SID: "5f2b9c", LogoutURL: "/accounts/logout/"})
	if err != nil {
		panic(err)
	}
	v, err := session.NewVerifier(session.VerifierOptions{Secret: secret})
	if err != nil {
		panic(err)
	}
	c, err := v.Verify(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.SID, c.Limits(), c.LogoutURL)

	_, err = v.Verify(token[:40])
	fmt.Println(err)
	// Output:
	// 5f2b9c {9m0s 10m0s} /accounts/logout/
	// session: token invalid: its signature does not match: it was minted with another secret, under a cookie name other than "presence", or altered
}

func ExampleMemoryStore() {
	clk := clock.NewManual(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	store := session.NewMemoryStore(session.MemoryOptions{Clock: clk})
	defer store.Close()
	ctx := context.Background()
	lim := session.Limits{WarnAfter: 9 * time.Minute, ExpireAfter: 10 * time.Minute}

	// Two tabs report: one saw the person 30 s ago, the other 2 min ago.
	store.Touch(ctx, "5f2b9c", 30*time.Second, session.Terms{Limits: lim})
	s, _ := store.Touch(ctx, "5f2b9c", 2*time.Minute, session.Terms{Limits: lim})
	fmt.Println("idle", s.Idle())

	clk.Advance(10 * time.Minute)
	s, _ = store.Check(ctx, "5f2b9c", lim)
	fmt.Println(s.Ended, s.Reason, s.EndedNow, s.EndedAt.Format(time.TimeOnly))

	s, _ = store.Touch(ctx, "5f2b9c", 0, session.Terms{Limits: lim})
	fmt.Println(s.Ended, s.EndedNow)
	// Output:
	// idle 30s
	// true idle true 09:09:30
	// true false
}
