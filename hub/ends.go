package hub

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// maxRememberedEnds bounds the ends a node remembers: the newest are
// kept.
const maxRememberedEnds = 100_000

// rememberedEnds are the sessions this node saw end, for as long as the
// store keeps an ended mark (the token max age and the clock skew), so
// that it can give them back to a store that restarted empty: no session
// that ended may come back to life with a token minted before its end.
type rememberedEnds struct {
	mu    sync.Mutex
	keep  time.Duration
	order []endMark // oldest first
	index map[string]int
	first int // order[first:] are live
}

type endMark struct {
	sid    string
	reason session.Reason
	at     time.Time // when this node saw the end
}

func newRememberedEnds(keep time.Duration) *rememberedEnds {
	return &rememberedEnds{keep: keep, index: make(map[string]int)}
}

// add remembers that sid ended for reason, seen at now.
func (m *rememberedEnds) add(sid string, reason session.Reason, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.index[sid]; ok {
		return
	}
	m.index[sid] = len(m.order)
	m.order = append(m.order, endMark{sid, reason, now})
	m.trimLocked(now)
}

// trimLocked forgets the ends past keep, and the oldest past the bound,
// compacting the slice once half of it is forgotten.
func (m *rememberedEnds) trimLocked(now time.Time) {
	for m.first < len(m.order) && (now.Sub(m.order[m.first].at) > m.keep || len(m.order)-m.first > maxRememberedEnds) {
		delete(m.index, m.order[m.first].sid)
		m.order[m.first] = endMark{}
		m.first++
	}
	if m.first > len(m.order)/2 && m.first > 1024 {
		m.order = append([]endMark(nil), m.order[m.first:]...)
		m.first = 0
		for i, e := range m.order {
			m.index[e.sid] = i
		}
	}
}

// all returns the ends remembered now, newest last.
func (m *rememberedEnds) all(now time.Time) []endMark {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.trimLocked(now)
	return append([]endMark(nil), m.order[m.first:]...)
}

// refillEnds gives the store back the ended marks this node remembers, if
// the store lost its data: the newest remembered end tells, for the store
// knows it unless it restarted empty. It runs after the broker
// reconnected, with every hub's re-read, and reports no end again.
func (r *Registry) refillEnds() {
	ends := r.ends.all(r.opts.Clock.Now())
	if len(ends) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
	defer cancel()
	newest := ends[len(ends)-1]
	snap, err := r.store.Check(ctx, newest.sid, session.Limits{})
	if err != nil || snap.Known || snap.Ended {
		return
	}
	r.log.Warn("the store lost the ended sessions; giving back the ones this node remembers", zap.Int("sessions", len(ends)))
	for _, e := range ends {
		ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
		snap, err := r.store.End(ctx, e.sid, e.reason, session.Limits{})
		cancel()
		if err != nil {
			r.storeFailed("ended sessions not all given back", err)
			return
		}
		if snap.EndedNow {
			r.confirmEnd(e.sid) // reported already, when it ended
		}
	}
}
