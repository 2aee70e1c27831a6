package backend

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestEnded(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		add     [2]string // sid and reason to add, if not zero
		has     string    // the sid to look up
		want    string    // its reason, or "" for not ended
	}
	cases := []struct {
		name  string
		opts  EndedOptions
		steps []step
	}{
		{"unknown", EndedOptions{}, []step{{has: "a"}}},
		{"added", EndedOptions{}, []step{{add: [2]string{"a", "idle"}, has: "a", want: "idle"}, {has: "b"}}},
		{"remembered until Keep", EndedOptions{Keep: time.Hour}, []step{
			{add: [2]string{"a", "idle"}},
			{advance: time.Hour - time.Nanosecond, has: "a", want: "idle"},
			{advance: time.Nanosecond, has: "a"},
			{has: "a"},
		}},
		{"default Keep is 12h", EndedOptions{}, []step{
			{add: [2]string{"a", "idle"}},
			{advance: 12*time.Hour - time.Second, has: "a", want: "idle"},
			{advance: time.Second, has: "a"},
		}},
		{"adding again keeps the first reason and refreshes", EndedOptions{Keep: time.Hour}, []step{
			{add: [2]string{"a", "idle"}},
			{advance: 30 * time.Minute, add: [2]string{"a", "revoked"}, has: "a", want: "idle"},
			{advance: 59 * time.Minute, has: "a", want: "idle"},
			{advance: time.Minute, has: "a"},
		}},
		{"oldest dropped past Max", EndedOptions{Max: 2}, []step{
			{add: [2]string{"a", "idle"}}, {add: [2]string{"b", "logout"}}, {add: [2]string{"c", "revoked"}},
			{has: "a"}, {has: "b", want: "logout"}, {has: "c", want: "revoked"},
		}},
		{"adding again makes it the newest", EndedOptions{Max: 2}, []step{
			{add: [2]string{"a", "idle"}}, {add: [2]string{"b", "logout"}}, {add: [2]string{"a", "idle"}}, {add: [2]string{"c", "revoked"}},
			{has: "b"}, {has: "a", want: "idle"}, {has: "c", want: "revoked"},
		}},
		{"empty sid ignored", EndedOptions{}, []step{{add: [2]string{"", "idle"}, has: ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock()
			c.opts.Now = clk.Now
			e := NewEnded(c.opts)
			for i, s := range c.steps {
				clk.Advance(s.advance)
				if s.add != [2]string{} {
					e.Add(s.add[0], s.add[1])
				}
				reason, ok := e.Has(s.has)
				if reason != s.want || ok != (s.want != "") {
					t.Errorf("step %d: Has(%q) = %q, %v; want %q, %v", i, s.has, reason, ok, s.want, s.want != "")
				}
			}
		})
	}
}

func TestEndedAddDropsExpired(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	e := NewEnded(EndedOptions{Keep: time.Minute, Now: clk.Now})
	for i := range 100 {
		e.Add(fmt.Sprint("old-", i), "idle")
	}
	clk.Advance(time.Minute)
	e.Add("new", "idle")
	if n := e.ends.len(); n != 1 {
		t.Errorf("%d ends remembered after the old ones passed Keep; want 1", n)
	}
}

func TestEndedConcurrent(t *testing.T) {
	t.Parallel()
	e := NewEnded(EndedOptions{Max: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				sid := fmt.Sprint("s-", (g*1000+i)%200)
				e.Add(sid, "idle")
				e.Has(sid)
			}
		})
	}
	wg.Wait()
	if n := e.ends.len(); n != 50 {
		t.Errorf("%d ends remembered; want Max = 50", n)
	}
}

func BenchmarkEndedHas(b *testing.B) {
	e := NewEnded(EndedOptions{})
	sids := make([]string, 100_000)
	for i := range sids {
		sids[i] = SessionID([]byte("bench"), fmt.Sprint(i))
		if i%10 == 0 {
			e.Add(sids[i], "idle")
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			e.Has(sids[i%len(sids)])
			i++
		}
	})
}

func BenchmarkEndedAdd(b *testing.B) {
	e := NewEnded(EndedOptions{Max: 100_000})
	sids := make([]string, 200_000)
	for i := range sids {
		sids[i] = SessionID([]byte("bench"), fmt.Sprint(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.Add(sids[i%len(sids)], "idle")
	}
}
