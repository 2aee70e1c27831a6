package main

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// The operations a worker runs on its share of a group of tabs. A group's
// tabs are numbered across workers; worker k of n holds the tabs k, k+n,
// k+2n, ...

// openSpec makes a group and connects its tabs, without hello unless
// Join says.
type openSpec struct {
	Group  string
	Addr   string
	Secret []byte
	Prefix string // session ids are Prefix + the tab's number, over PerSession
	Total  int    // tabs in the group, across workers
	// PerSession is how many tabs, numbered in a row, share a session;
	// zero means one.
	PerSession int
	Stride     int // the workers' count
	Offset     int // this worker's number
	// WarnAfter and ExpireAfter are the tokens' limits in seconds; zero
	// leaves a limit out of the token, for the server's default.
	WarnAfter, ExpireAfter int64
	Sources                []string // local addresses, used in turn
	// Join, when set, has each tab say hello as soon as it is connected,
	// as Join says, and spreads the connects evenly over Join.Pace rather
	// than making them as fast as the server takes them.
	Join *helloSpec
}

type openResult struct {
	Opened, Failed int
	FirstError     string
	// With Join: the tabs that had their state frame, and each one's
	// round trip from hello to state, in ns.
	States     int
	RoundTrips []int64
}

// dialConcurrency bounds a worker's connects in flight.
const dialConcurrency = 128

func (w *worker) open(ctx context.Context, s openSpec, progress func(int)) (openResult, error) {
	if _, ok := w.groups[s.Group]; ok {
		return openResult{}, fmt.Errorf("worker: group %q exists", s.Group)
	}
	g := &group{addr: s.Addr}
	for i := s.Offset; i < s.Total; i += s.Stride {
		claims := session.Claims{SID: s.Prefix + strconv.Itoa(i/max(s.PerSession, 1)), WarnAfter: s.WarnAfter, ExpireAfter: s.ExpireAfter}
		token, err := session.Mint(s.Secret, claims)
		if err != nil {
			return openResult{}, fmt.Errorf("worker: mint: %w", err)
		}
		g.tabs = append(g.tabs, &tab{index: i, sid: claims.SID, token: token, local: s.Sources[i%len(s.Sources)]})
	}
	w.groups[s.Group] = g

	var opened, failed atomic.Int64
	var firstErr atomic.Pointer[string]
	sem := make(chan struct{}, dialConcurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for k, t := range g.tabs {
		if s.Join != nil {
			pauseUntil(start.Add(s.Join.Pace * time.Duration(k) / time.Duration(len(g.tabs))))
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := connectRetrying(ctx, t, s.Addr, time.Now().Add(handshakeTimeout))
			if err == nil && s.Join != nil {
				err = t.hello(helloIdle(t, *s.Join, time.Now().UnixNano()))
			}
			if err != nil {
				failed.Add(1)
				msg := err.Error()
				firstErr.CompareAndSwap(nil, &msg)
				return
			}
			progress(int(opened.Add(1)))
		})
	}
	wg.Wait()
	res := openResult{Opened: int(opened.Load()), Failed: int(failed.Load())}
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	if s.Join != nil && s.Join.Wait {
		res.States = waitStates(ctx, g, time.Now().Add(s.Join.Timeout), progress)
		res.RoundTrips = roundTrips(g)
	}
	return res, nil
}

// pauseUntil sleeps until at, unless at is less than a millisecond away.
func pauseUntil(at time.Time) {
	if d := time.Until(at); d > time.Millisecond {
		time.Sleep(d)
	}
}

// connectRetrying connects t, retrying with a growing pause until by: a
// loaded server's accept queue may overflow, and a restarting one may not
// listen yet.
func connectRetrying(ctx context.Context, t *tab, addr string, by time.Time) error {
	pause := 50 * time.Millisecond
	for {
		err := t.connect(ctx, addr)
		if err == nil || ctx.Err() != nil || time.Now().Add(pause).After(by) {
			return err
		}
		t.reconnects.Add(1)
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}

// helloSpec has every open tab of a group say hello.
type helloSpec struct {
	Group string
	// Pace spreads the hellos evenly over this long; zero sends them at
	// once.
	Pace time.Duration
	// Deadline, in Unix nanoseconds, makes the tabs' sessions due to warn
	// then: each hello's idle_ms is chosen so that tab i's warn falls at
	// Deadline + Spread*i/Total, given the tokens' WarnAfter. Zero says
	// hello with idle_ms 0.
	Deadline  int64
	Spread    time.Duration
	Total     int
	WarnAfter time.Duration
	// Wait waits up to Timeout for a state frame on every tab.
	Wait    bool
	Timeout time.Duration
	// Refusals lets tabs go without their state (the server refused them,
	// or was too slow): they count in the scenario's figures, as sessions
	// not warned, rather than failing the run. The coordinator's alone.
	Refusals bool `json:"-"`
	// Shares, when above one, has each tab say after its hello that its
	// connection speaks for that many tabs of a browser, as the leader
	// of a shared socket does.
	Shares int
}

type helloResult struct {
	Sent, States, Failed int
	// RoundTrips are the times from each hello to its state, in ns.
	RoundTrips []int64
}

func (w *worker) hello(ctx context.Context, s helloSpec, progress func(int)) (helloResult, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return helloResult{}, err
	}
	// Tabs say hello in the order they connected, so that none waits
	// longer than the connects or the hellos take: presence closes a tab
	// silent for 10 s after its connect.
	tabs := slices.Clone(g.tabs)
	slices.SortFunc(tabs, func(a, b *tab) int { return cmp.Compare(a.openedAt.Load(), b.openedAt.Load()) })
	var res helloResult
	start := time.Now()
	for k, t := range tabs {
		if !t.open.Load() {
			res.Failed++
			continue
		}
		if s.Pace > 0 {
			pauseUntil(start.Add(s.Pace * time.Duration(k) / time.Duration(len(tabs))))
		}
		if err := t.hello(helloIdle(t, s, time.Now().UnixNano())); err != nil {
			res.Failed++
			continue
		}
		if s.Shares > 1 {
			if err := t.write(textFrame(protocol.ClientFrame{Type: protocol.TypeTabs, Tabs: s.Shares})); err != nil {
				res.Failed++
				continue
			}
		}
		res.Sent++
		progress(res.Sent)
	}
	if s.Wait {
		res.States = waitStates(ctx, g, time.Now().Add(s.Timeout), progress)
	}
	res.RoundTrips = roundTrips(g)
	return res, nil
}

// helloIdle returns the clock's reading now and the idle_ms of t's
// hello as s says, and sets t's deadline and last activity to match.
func helloIdle(t *tab, s helloSpec, now int64) (int64, int64) {
	idle := int64(0)
	if s.Deadline != 0 {
		due := s.Deadline + int64(s.Spread)*int64(t.index)/int64(max(s.Total, 1))
		idle = max(now+int64(s.WarnAfter)-due, 0) / int64(time.Millisecond)
		t.deadline.Store(now - idle*int64(time.Millisecond) + int64(s.WarnAfter))
	}
	t.lastActive.Store(now - idle*int64(time.Millisecond))
	return now, idle
}

// roundTrips returns, for each tab of g with its state frame, the time
// from its hello to the state, in ns.
func roundTrips(g *group) []int64 {
	var trips []int64
	for _, t := range g.tabs {
		if at := t.stateAt.Load(); at != 0 {
			trips = append(trips, at-t.helloAt.Load())
		}
	}
	return trips
}

// waitStates waits until every open tab of g has its state frame, or
// until by, and returns how many have.
func waitStates(ctx context.Context, g *group, by time.Time, progress func(int)) int {
	for {
		states, pending := 0, 0
		for _, t := range g.tabs {
			switch {
			case t.stateAt.Load() != 0:
				states++
			case t.open.Load():
				pending++
			}
		}
		progress(states)
		if pending == 0 || time.Now().After(by) || ctx.Err() != nil {
			return states
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// droppedSpec waits until the server has dropped every tab of a group.
type droppedSpec struct {
	Group   string
	Timeout time.Duration
}

type droppedResult struct{ Dropped, Open int }

func (w *worker) dropped(ctx context.Context, s droppedSpec) (droppedResult, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return droppedResult{}, err
	}
	by := time.Now().Add(s.Timeout)
	for {
		var res droppedResult
		for _, t := range g.tabs {
			if t.open.Load() {
				res.Open++
			} else {
				res.Dropped++
			}
		}
		if res.Open == 0 || time.Now().After(by) || ctx.Err() != nil {
			return res, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reconnectSpec has every tab of a group reconnect, as presence's client
// does after losing its connection: each waits a uniformly random time
// up to Jitter, connects, and says hello with its old token and how long
// the person has been idle in it.
type reconnectSpec struct {
	Group   string
	Jitter  time.Duration
	Timeout time.Duration
	// Unanswered is for a server that answers no hello, the reference:
	// a tab is back once its hello is sent, not once its state arrives.
	Unanswered bool
}

type reconnectResult struct {
	Back, Failed, Retries int
	FirstError            string
}

func (w *worker) reconnect(ctx context.Context, s reconnectSpec, progress func(int)) (reconnectResult, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return reconnectResult{}, err
	}
	by := time.Now().Add(s.Timeout)
	var failed, sent atomic.Int64
	var firstErr atomic.Pointer[string]
	var wg sync.WaitGroup
	retriesBefore := 0
	for _, t := range g.tabs {
		retriesBefore += int(t.reconnects.Load())
	}
	for _, t := range g.tabs {
		if t.open.Load() {
			t.close()
		}
		t.stateAt.Store(0)
		wg.Go(func() {
			time.Sleep(rand.N(s.Jitter + 1))
			err := connectRetrying(ctx, t, g.addr, by)
			if err == nil {
				now := time.Now().UnixNano()
				err = t.hello(now, (now-t.lastActive.Load())/int64(time.Millisecond))
			}
			if err != nil {
				failed.Add(1)
				msg := err.Error()
				firstErr.CompareAndSwap(nil, &msg)
				return
			}
			if n := sent.Add(1); s.Unanswered {
				progress(int(n))
			}
		})
	}
	wg.Wait()
	res := reconnectResult{Back: int(sent.Load()), Failed: int(failed.Load())}
	if !s.Unanswered {
		res.Back = waitStates(ctx, g, by, progress)
	}
	res.Retries = -retriesBefore
	for _, t := range g.tabs {
		res.Retries += int(t.reconnects.Load())
	}
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	return res, nil
}

// statsSpec asks what the tabs of a group saw; with CountsOnly, without
// the lateness of each warn.
type statsSpec struct {
	Group      string
	CountsOnly bool
}

type statsResult struct {
	Tabs, Open, States int
	// Warns and Expires count frames over the tabs' lives; Warned counts
	// the tabs warned since their last hello.
	Warns, Expires, Warned int
	Errors                 int
	ErrorCodes             map[string]int
	CloseCodes             map[int]int
	// Lateness holds, for each warned tab whose hello set a deadline, the
	// warn's receipt less the deadline, in ns; Unwarned counts the tabs
	// with a deadline and no warn yet. LatenessLow is the same less the
	// tab's hello→state round trip: the lateness had presence read the
	// hello only just before it sent the state.
	Lateness    []int64
	LatenessLow []int64
	Unwarned    int
}

func (w *worker) stats(s statsSpec) (statsResult, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return statsResult{}, err
	}
	res := statsResult{Tabs: len(g.tabs), ErrorCodes: map[string]int{}, CloseCodes: map[int]int{}}
	for _, t := range g.tabs {
		if t.open.Load() {
			res.Open++
		} else if c := t.closeCode.Load(); c != 0 {
			res.CloseCodes[int(c)]++
		}
		if t.stateAt.Load() != 0 {
			res.States++
		}
		res.Warns += int(t.warns.Load())
		res.Expires += int(t.expires.Load())
		res.Errors += int(t.errors.Load())
		if p := t.lastError.Load(); p != nil {
			res.ErrorCodes[*p]++
		}
		warnAt, due := t.warnAt.Load(), t.deadline.Load()
		if warnAt != 0 {
			res.Warned++
		}
		switch {
		case due != 0 && warnAt != 0:
			if !s.CountsOnly {
				res.Lateness = append(res.Lateness, warnAt-due)
				if stateAt := t.stateAt.Load(); stateAt != 0 {
					res.LatenessLow = append(res.LatenessLow, warnAt-due-(stateAt-t.helloAt.Load()))
				}
			}
		case due != 0:
			res.Unwarned++
		}
	}
	return res, nil
}

// closeSpec closes every tab of a group and forgets the group.
type closeSpec struct{ Group string }

func (w *worker) close(s closeSpec) (int, error) {
	g, err := w.group(s.Group)
	if err != nil {
		return 0, err
	}
	for _, t := range g.tabs {
		t.close()
	}
	delete(w.groups, s.Group)
	return len(g.tabs), nil
}
