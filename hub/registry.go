package hub

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/presence-dev/presence/session"
)

// shardCount splits the registry's maps so that tabs of different sessions
// rarely wait on one lock. A power of two.
const shardCount = 64

// Registry is one node's set of session hubs and connected tabs. All
// methods may be called concurrently.
type Registry struct {
	opts    Options
	store   *watchedStore // Options.Store, watched for outages
	log     *zap.Logger
	metrics *metrics
	wheel   *wheel
	due     *dueQueue

	caps caps
	ends *rememberedEnds
	// freshStacks holds a token for each goroutine onFreshStack runs.
	freshStacks chan struct{}
	seed        maphash.Seed
	shards      [shardCount]shard
	tabSeq      atomic.Uint64

	// ctx is the root of every store call, publish and end report the
	// registry makes; Shutdown and Close cancel it, so that nothing
	// outlives the registry waiting on the network. Reads and writes of
	// tabs are bounded by their connections instead, which Close drops.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex     // orders handlers.Add before Shutdown's Wait
	handlers  sync.WaitGroup // tabs served, from their upgrade to their close
	closing   atomic.Bool    // no new tabs once set
	closeOnce sync.Once

	brokerDone chan struct{} // closed when the broker's Run returns; nil without one
	claimer    *claimer      // nil unless the store is a session.Claimer
	prober     *turns        // ask a failed store whether it is back (startProber)

	// unpublished counts the nudges decided under a hub's lock and not
	// yet handed to the broker: nudge publishes them.
	unpublished atomic.Int64
}

type shard struct {
	mu   sync.Mutex
	hubs map[string]*hub
	tabs map[*tab]struct{}
}

// New returns a Registry that serves tabs until Shutdown or Close.
func New(opts Options) (*Registry, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		opts:    opts,
		log:     opts.Logger,
		metrics: m,
		seed:    maphash.MakeSeed(),

		freshStacks: make(chan struct{}, maxFreshStacks),
	}
	r.caps.maxTabs, r.caps.maxPerAddress = opts.MaxTabs, opts.MaxTabsPerAddress
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.store = newWatchedStore(opts.Store, opts.Clock, opts.RecoveryGrace, opts.Logger)
	r.store.back = r.writeKept
	r.ends = newRememberedEnds(opts.Verifier.MaxAge() + session.MaxClockSkew)
	for i := range r.shards {
		r.shards[i].hubs = make(map[string]*hub)
		r.shards[i].tabs = make(map[*tab]struct{})
	}
	r.wheel = newWheel(wheelOptions{Tick: opts.Tick, Clock: opts.Clock})
	r.due = newDueQueue(opts.Workers, r.checkDue)
	if c, ok := opts.Store.(session.Claimer); ok {
		r.claimer = newClaimer(r, c)
	}
	r.prober = startProber(r)
	if opts.Broker != nil {
		r.brokerDone = make(chan struct{})
		go func() {
			defer close(r.brokerDone)
			if err := opts.Broker.Run(r.ctx, r.nudged, r.resync); err != nil {
				r.log.Error("broker stopped; other nodes' changes reach this node only at deadlines", zap.Error(err))
			}
		}()
	}
	return r, nil
}

// Sessions returns how many sessions have tabs on this node.
func (r *Registry) Sessions() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.hubs)
		sh.mu.Unlock()
	}
	return n
}

// Tabs returns how many tabs are connected to this node.
func (r *Registry) Tabs() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.tabs)
		sh.mu.Unlock()
	}
	return n
}

func (r *Registry) shardOf(sid string) *shard {
	return &r.shards[maphash.String(r.seed, sid)&(shardCount-1)]
}

// lookup returns the hub of sid on this node, or nil.
func (r *Registry) lookup(sid string) *hub {
	sh := r.shardOf(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.hubs[sid]
}

// hubFor returns the hub of sid, making it with lim and uid if this node
// has none.
func (r *Registry) hubFor(sid string, lim session.Limits, uid string) *hub {
	sh := r.shardOf(sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	h := sh.hubs[sid]
	if h == nil {
		h = newHub(r, sid, lim, uid)
		sh.hubs[sid] = h
		r.metrics.sessions.Inc()
	}
	return h
}

// release drops h from the registry once its session has ended and its
// last tab has left. A live session's hub stays without tabs, so that its
// deadlines are still decided and its end still reported.
func (r *Registry) release(h *hub) {
	sh := r.shardOf(h.sid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.tabs) > 0 || !h.ended || h.gone {
		return
	}
	h.gone = true
	if h.timer != nil {
		h.timer.stop()
		h.armed = 0
	}
	if sh.hubs[h.sid] == h {
		delete(sh.hubs, h.sid)
		r.metrics.sessions.Dec()
	}
}

// take brings this node up to date with a snapshot of sid fresh from the
// store, taken outside any tab of this node (a ping, the server API): it
// hands the snapshot to the session's hub, making one for a live session
// this node did not watch yet, so that its warn and expire deadlines are
// decided here too, and reports the end if this very call ended the
// session. lim and uid are the session's as the caller knows them; lim is
// used for a new hub only. It returns the hub, or nil.
func (r *Registry) take(sid string, lim session.Limits, uid string, snap session.Snapshot) *hub {
	h := r.lookup(sid)
	if h == nil && snap.Known && !snap.Ended {
		h = r.hubFor(sid, lim, uid)
	}
	if h == nil {
		if snap.EndedNow {
			r.reportEnd(sid, uid, snap)
			r.publish(sid)
		}
		return nil
	}
	h.noteUser(uid)
	h.take(snap, nil)
	return h
}

// publishTimeout bounds handing a nudge to the broker.
const publishTimeout = time.Second

// publish nudges the other nodes about sid. A failure is logged and
// otherwise ignored: the other nodes still re-read the store at their
// deadlines.
func (r *Registry) publish(sid string) {
	if r.opts.Broker == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, publishTimeout)
	defer cancel()
	if err := r.opts.Broker.Publish(ctx, sid); err != nil {
		if r.ctx.Err() == nil {
			r.log.Debug("nudge not published", zap.Error(err))
		}
		return
	}
	r.metrics.nudgesOut.Inc()
}

// nudge publishes a nudge that applyLocked decided (see unpublished).
func (r *Registry) nudge(sid string) {
	defer r.unpublished.Add(-1)
	r.publish(sid)
}

// nudged re-reads sid, if this node holds it, after another node changed
// it.
func (r *Registry) nudged(sid string) {
	if h := r.lookup(sid); h != nil {
		h.queueCheck()
	}
	r.metrics.nudgesIn.Inc() // after the check is queued: see settle in the tests
}

// writeKept writes, once the store answers again after an outage, the
// activity this node kept meanwhile, at once rather than at each hub's
// next retry: the other nodes decide warnings from the store, once the
// middle of their recovery grace has passed.
func (r *Registry) writeKept() {
	r.eachHub(func(h *hub) {
		h.mu.Lock()
		kept := !h.unsent.IsZero()
		h.mu.Unlock()
		if kept {
			h.queueCheck()
		}
	})
}

// resync re-reads every session this node holds, after nudges may have
// been lost.
func (r *Registry) resync() {
	r.refillEnds()
	r.eachHub(func(h *hub) { h.queueCheck() })
}

// eachHub runs f on every hub this node holds, a shard at a time, with
// no shard's lock held while f runs.
func (r *Registry) eachHub(f func(*hub)) {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		hubs := make([]*hub, 0, len(sh.hubs))
		for _, h := range sh.hubs {
			hubs = append(hubs, h)
		}
		sh.mu.Unlock()
		for _, h := range hubs {
			f(h)
		}
	}
}

// reportEnd tells Options.OnEnd that a session ended, and confirms to a
// session.EndConfirmer store that the end was handed on. One call, on one
// node, sees a given end (Snapshot.EndedNow); with an EndConfirmer, a
// later one too if this node dies or cannot confirm in time. The user is
// the store's, else uid, the one this node knows.
func (r *Registry) reportEnd(sid, uid string, snap session.Snapshot) {
	if snap.UID != "" {
		uid = snap.UID
	}
	r.ends.add(sid, snap.Reason, r.opts.Clock.Now())
	r.log.Debug("session ended", zap.String("sid", sid), zap.String("reason", string(snap.Reason)))
	if r.opts.OnEnd != nil && !r.opts.OnEnd(r.ctx, End{SID: sid, UID: uid, Reason: snap.Reason, At: snap.EndedAt}) {
		return // not handed on: the store announces it again
	}
	r.confirmEnd(sid)
}

// confirmEnd tells a session.EndConfirmer store that sid's end, announced
// to this node, was handed on. A failure is logged: the store then
// announces the end again, and it is reported twice.
func (r *Registry) confirmEnd(sid string) {
	c, ok := r.store.Store.(session.EndConfirmer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, storeTimeout)
	defer cancel()
	err := c.ConfirmEnd(ctx, sid)
	r.store.note(err)
	if err != nil {
		r.storeFailed("an end not confirmed; it will be reported again", err)
	}
}

// addTab registers t, unless the registry is closing. closing is read
// under the shard's lock: Shutdown sets it before it collects the tabs,
// shard by shard, so a tab is either collected, and closed with 1012, or
// refused here; read before the lock, a tab could be added just after
// its shard was collected, and Shutdown would wait for it until its
// deadline.
func (r *Registry) addTab(t *tab) bool {
	sh := &r.shards[t.seq&(shardCount-1)]
	sh.mu.Lock()
	if r.closing.Load() {
		sh.mu.Unlock()
		return false
	}
	sh.tabs[t] = struct{}{}
	sh.mu.Unlock()
	r.metrics.tabs.Inc()
	return true
}

func (r *Registry) removeTab(t *tab) {
	sh := &r.shards[t.seq&(shardCount-1)]
	sh.mu.Lock()
	delete(sh.tabs, t)
	sh.mu.Unlock()
	r.metrics.tabs.Dec()
}

func (r *Registry) allTabs() []*tab {
	var all []*tab
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for t := range sh.tabs {
			all = append(all, t)
		}
		sh.mu.Unlock()
	}
	return all
}
