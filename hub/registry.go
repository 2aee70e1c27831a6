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

// shutdownConcurrency bounds how many tabs Shutdown closes at once.
const shutdownConcurrency = 64

// Registry is one node's set of session hubs and connected tabs. All
// methods may be called concurrently.
type Registry struct {
	opts    Options
	log     *zap.Logger
	metrics *metrics
	wheel   *wheel
	due     *dueQueue

	seed   maphash.Seed
	shards [shardCount]shard
	tabSeq atomic.Uint64

	mu        sync.Mutex     // orders handlers.Add before Shutdown's Wait
	handlers  sync.WaitGroup // ServeWS calls in flight
	closing   atomic.Bool    // no new tabs once set
	closeOnce sync.Once

	stopBroker context.CancelFunc
	brokerDone chan struct{}
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
	}
	for i := range r.shards {
		r.shards[i].hubs = make(map[string]*hub)
		r.shards[i].tabs = make(map[*tab]struct{})
	}
	r.wheel = newWheel(wheelOptions{Tick: opts.Tick, Clock: opts.Clock})
	r.due = newDueQueue(opts.Workers, func(h *hub) { h.check() })
	if opts.Broker != nil {
		ctx, cancel := context.WithCancel(context.Background())
		r.stopBroker, r.brokerDone = cancel, make(chan struct{})
		go func() {
			defer close(r.brokerDone)
			if err := opts.Broker.Run(ctx, r.nudged, r.resync); err != nil {
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
	}
	if sh.hubs[h.sid] == h {
		delete(sh.hubs, h.sid)
		r.metrics.sessions.Dec()
	}
}

// observe brings this node up to date with a snapshot of sid fresh from
// the store: it reports the end if this very call ended the session, and
// hands the snapshot to the session's hub, making one for a live session
// this node did not watch yet (a session seen through /ping or the API),
// so that its warn and expire deadlines are decided here too. lim and uid
// come from the caller's token; they are used for a new hub only.
func (r *Registry) observe(sid string, lim session.Limits, uid string, snap session.Snapshot) {
	h := r.lookup(sid)
	if h == nil && snap.Known && !snap.Ended {
		h = r.hubFor(sid, lim, uid)
	}
	if snap.EndedNow {
		if h != nil {
			if u := h.userID(); u != "" {
				uid = u
			}
		}
		r.reportEnd(sid, uid, snap)
		r.publish(sid)
	}
	if h != nil && h.apply(snap, nil) {
		r.publish(sid)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := r.opts.Broker.Publish(ctx, sid); err != nil {
		r.log.Warn("nudge not published", zap.Error(err))
	}
}

// nudged re-reads sid, if this node holds it, after another node changed
// it.
func (r *Registry) nudged(sid string) {
	if h := r.lookup(sid); h != nil {
		h.queueCheck()
	}
}

// resync re-reads every session this node holds, after nudges may have
// been lost.
func (r *Registry) resync() {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		hubs := make([]*hub, 0, len(sh.hubs))
		for _, h := range sh.hubs {
			hubs = append(hubs, h)
		}
		sh.mu.Unlock()
		for _, h := range hubs {
			h.queueCheck()
		}
	}
}

// reportEnd tells Options.OnEnd that a session ended. Exactly one call,
// on one node, sees a given end (Snapshot.EndedNow).
func (r *Registry) reportEnd(sid, uid string, snap session.Snapshot) {
	r.log.Debug("session ended", zap.String("sid", sid), zap.String("reason", string(snap.Reason)))
	if r.opts.OnEnd != nil {
		r.opts.OnEnd(End{SID: sid, UID: uid, Reason: snap.Reason, At: snap.EndedAt})
	}
}

func (r *Registry) addTab(t *tab) bool {
	if r.closing.Load() {
		return false
	}
	sh := &r.shards[t.seq&(shardCount-1)]
	sh.mu.Lock()
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

// Shutdown stops taking tabs, closes every connected tab with 1012
// (service restart: the client reconnects, to this node once it is back or
// to another) at most 64 at a time, and then stops the registry. It
// returns ctx.Err() if tabs were still open when ctx ended; those are then
// closed at once. Shutdown is idempotent.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing.Store(true)
	r.mu.Unlock()
	sem := make(chan struct{}, shutdownConcurrency)
	var closers sync.WaitGroup
	for _, t := range r.allTabs() {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		closers.Add(1)
		go func() {
			defer closers.Done()
			defer func() { <-sem }()
			t.closeGracefully(statusServiceRestart, "server restarting")
		}()
	}
	done := make(chan struct{})
	go func() {
		closers.Wait()
		r.handlers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	r.Close()
	if err != nil {
		// Close cut every remaining tab; their handlers return promptly.
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
	return err
}

// Close closes every tab at once, without a close handshake, and stops the
// timer wheel and the deadline workers. It is idempotent and does not
// close the store, which the caller owns.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		for _, t := range r.allTabs() {
			t.closeNow()
		}
		if r.stopBroker != nil {
			r.stopBroker()
			<-r.brokerDone
		}
		r.wheel.close()
		r.due.close()
	})
	return nil
}
