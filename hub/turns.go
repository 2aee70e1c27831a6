package hub

import (
	"sync/atomic"
	"time"
)

// turns runs work on a goroutine of its own, at the times next gives, on
// a timer of the node's wheel: work waits on the network, and the wheel's
// goroutine must not. A turn whose timer fires while one is under way is
// left to that one. The claims of due sessions and the probes of a
// failed store run on turns.
type turns struct {
	r       *Registry
	next    func() time.Time
	want    func() bool // whether a fired timer asks for a turn; nil: always
	work    func()
	timer   *wheelTimer
	kick    chan struct{} // holds one turn asked for
	pending atomic.Int64  // turns asked for and not yet done
	done    chan struct{} // closed when run returns
}

func startTurns(r *Registry, next func() time.Time, want func() bool, work func()) *turns {
	u := &turns{r: r, next: next, want: want, work: work, kick: make(chan struct{}, 1), done: make(chan struct{})}
	// onTimer reads u.timer: it is set far off first, then moved under
	// the wheel's lock, so that the callback finds it assigned (see
	// wheel.at).
	u.timer = r.wheel.at(r.opts.Clock.Now().Add(time.Hour), u.onTimer)
	u.timer.reset(next())
	go u.run()
	return u
}

// onTimer runs on the wheel's goroutine: it asks for a turn, unless one
// is asked for already, and sets the next.
func (u *turns) onTimer() {
	if u.want == nil || u.want() {
		u.pending.Add(1)
		select {
		case u.kick <- struct{}{}:
		default:
			u.pending.Add(-1) // the turn asked for already does this one's work too
		}
	}
	u.timer.reset(u.next())
}

func (u *turns) run() {
	defer close(u.done)
	for {
		select {
		case <-u.r.ctx.Done():
			return
		case <-u.kick:
			u.work()
			u.pending.Add(-1)
		}
	}
}

// close stops the turns and waits for the one under way; the registry's
// ctx, cancelled first, cuts its store calls short.
func (u *turns) close() {
	u.timer.stop()
	<-u.done
}
