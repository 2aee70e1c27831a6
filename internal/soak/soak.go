package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/presence-dev/presence/backend"
	"github.com/presence-dev/presence/session"
)

// The secret and API key of the soak's nodes: test values, on loopback.
var soakSecret = []byte("soak-secret-soak-secret-soak-secret-0123")

const soakAPIKey = "soak-api-key-0123456789"

// claimLease is how long a session claimed by a node that died stays
// with it (hub's claimLease): its end may wait that long.
const claimLease = 5 * time.Second

// Config says what to run.
type Config struct {
	// ServerBin is the presence binary the nodes run.
	ServerBin string
	// RedisServer is the redis-server binary. Empty means the one on PATH.
	RedisServer string
	// People is how many people work at once; each starts a new session
	// after the last one ended. Zero means 2,000.
	People int
	// Nodes is how many presence nodes share the Redis. Zero means 3.
	Nodes int
	// Duration is how long people work; then they all go idle, and the
	// run waits for every session to end and its end to be delivered.
	// Zero means 10 minutes.
	Duration time.Duration
	// WarnAfter and ExpireAfter are every session's limits. Zero means
	// 4 s and 8 s, so that sessions end all through the run.
	WarnAfter, ExpireAfter time.Duration
	// RecoveryGrace is the nodes' -recovery-grace. Zero means 3 s.
	RecoveryGrace time.Duration
	// Faults is the schedule. Nil means Schedule(Duration, Nodes).
	Faults []Fault
	// Seed fixes the people's scripts. Zero means a random one, printed.
	Seed uint64
	// Dir receives the servers' logs and Redis's data. Required.
	Dir string
	// Progress receives the schedule and a line per fault. Nil means
	// none.
	Progress io.Writer
}

func (c *Config) fill() error {
	if c.ServerBin == "" || c.Dir == "" {
		return errors.New("soak: Config.ServerBin and Config.Dir are required")
	}
	if c.RedisServer == "" {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			return errors.New("soak: redis-server is not installed; the soak runs its own Redis")
		}
		c.RedisServer = bin
	}
	c.People = cmpOr(c.People, 2000)
	c.Nodes = cmpOr(c.Nodes, 3)
	c.Duration = cmpOr(c.Duration, 10*time.Minute)
	c.WarnAfter = cmpOr(c.WarnAfter, 4*time.Second)
	c.ExpireAfter = cmpOr(c.ExpireAfter, 8*time.Second)
	c.RecoveryGrace = cmpOr(c.RecoveryGrace, 3*time.Second)
	if c.Faults == nil {
		c.Faults = Schedule(c.Duration, c.Nodes)
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// run is one soak in progress.
type run struct {
	cfg        Config
	start      time.Time
	redis      *process
	nodes      []*node
	receiver   *receiver
	app        *app
	faults     *injector
	httpClient *http.Client
	clients    []*backend.Client

	mu        sync.Mutex
	histories []*history
	tabs      map[*tab]bool
	tabsEver  int
	notes     []string

	sessions atomic.Int64
}

// Run runs a soak and returns its report. It returns an error only when
// the soak itself cannot run (a server that does not start); what
// presence did wrong is in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, tabs: map[*tab]bool{}, receiver: newReceiver(soakSecret),
		httpClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	r.app = newApp(r)
	r.faults = &injector{run: r, done: map[FaultKind]int{}}
	if err := r.startServers(ctx); err != nil {
		r.stopServers()
		return nil, err
	}
	defer r.stopServers()

	fmt.Fprintf(cfg.Progress, "soak: %d people on %d nodes for %v, seed %d; limits %v/%v; logs in %s\n",
		cfg.People, cfg.Nodes, cfg.Duration, cfg.Seed, cfg.WarnAfter, cfg.ExpireAfter, cfg.Dir)
	for _, f := range cfg.Faults {
		fmt.Fprintf(cfg.Progress, "  %s\n", f)
	}

	start := time.Now()
	r.start = start
	workCtx, stopWork := context.WithTimeout(ctx, cfg.Duration)
	defer stopWork()
	appCtx, stopApp := context.WithCancel(ctx)
	defer stopApp()
	tabsCtx, stopTabs := context.WithCancel(ctx)
	defer stopTabs()

	var background sync.WaitGroup
	background.Go(func() { r.app.work(appCtx) })
	background.Go(func() { r.faults.inject(workCtx, start, cfg.Faults) })
	var people sync.WaitGroup
	for p := range cfg.People {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(p)))
		people.Go(func() { r.person(workCtx, tabsCtx, rng, p) })
	}
	people.Wait()
	workEnd := time.Now()
	r.progress("people stopped working after %v; waiting for every end", workEnd.Sub(start).Round(time.Second))
	r.drain(ctx, workEnd)
	stopTabs()
	stopApp()
	background.Wait()
	return r.check(ctx, start, workEnd), nil
}

func (r *run) startServers(ctx context.Context) error {
	var err error
	if r.redis, err = newRedis(r.cfg.RedisServer, r.cfg.Dir); err != nil {
		return err
	}
	if err := r.redis.start(); err != nil {
		return err
	}
	if err := r.redis.waitTCP(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r.receiver}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	for i := range r.cfg.Nodes {
		n, err := newNode(r.cfg, i, r.redis.addr, "http://"+ln.Addr().String()+"/hook", r.cfg.Dir)
		if err != nil {
			return err
		}
		r.nodes = append(r.nodes, n)
		if err := n.start(); err != nil {
			return err
		}
		c, err := backend.NewClient(backend.ClientOptions{BaseURL: n.base(), APIKey: soakAPIKey, HTTP: r.httpClient})
		if err != nil {
			return err
		}
		r.clients = append(r.clients, c)
	}
	for _, n := range r.nodes {
		if err := n.waitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) stopServers() {
	for _, n := range r.nodes {
		n.stop(15 * time.Second)
	}
	if r.redis != nil {
		r.redis.stop(5 * time.Second)
	}
}

// person works through sessions until ctx is done, one after another.
func (r *run) person(ctx, tabsCtx context.Context, rng *rand.Rand, p int) {
	// People arrive over the first seconds, not all at once.
	sleep(ctx, time.Duration(rng.Int64N(int64(3*time.Second))))
	for n := 0; ctx.Err() == nil; n++ {
		s := newScript(rng, p, n, r.cfg.Nodes, r.cfg.Duration)
		r.session(ctx, tabsCtx, s)
		sleep(ctx, time.Duration(rng.Int64N(int64(2*time.Second))))
	}
}

// session plays one session's script: login, work, then idle or log out,
// until its end is due. Its tabs stay open until the run is over or they
// hear of the end.
func (r *run) session(ctx, tabsCtx context.Context, s Script) {
	token, err := session.Mint(soakSecret, session.Claims{SID: s.SID, UID: s.SID,
		WarnAfter: int64(r.cfg.WarnAfter / time.Second), ExpireAfter: int64(r.cfg.ExpireAfter / time.Second)})
	if err != nil {
		r.note("mint: %v", err)
		return
	}
	h := newHistory(s, time.Now())
	r.mu.Lock()
	r.histories = append(r.histories, h)
	r.mu.Unlock()
	r.sessions.Add(1)
	if s.Kind == AppOnly || s.Kind == NoTab {
		r.app.login(h)
	}
	tabs := make([]*tab, s.Tabs)
	for i := range tabs {
		t := newTab(r, h, token, (s.FirstNode+i)%r.cfg.Nodes)
		tabs[i] = t
		r.mu.Lock()
		r.tabs[t] = true
		r.tabsEver++
		r.mu.Unlock()
		go func() {
			t.live(tabsCtx)
			r.mu.Lock()
			delete(r.tabs, t)
			r.mu.Unlock()
		}()
	}
	until := h.login.Add(s.ActiveFor)
	for ctx.Err() == nil && time.Now().Before(until) {
		sleep(ctx, s.Every)
		if ctx.Err() != nil {
			break
		}
		switch s.Kind {
		case AppOnly, NoTab:
			r.app.request(h)
		case ManyTabs:
			tabs[rand.IntN(len(tabs))].activity(ctx)
		default:
			tabs[0].activity(ctx)
		}
	}
	if ctx.Err() != nil {
		return // the run is over: the session ends idle in the drain
	}
	if s.Kind == LogsOut {
		r.app.logout(h)
	}
	sleep(ctx, r.cfg.ExpireAfter+time.Second)
}

// cutTabs drops the connection of every k-th open tab.
func (r *run) cutTabs(k int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, i := 0, 0
	for t := range r.tabs {
		if i%k == 0 {
			t.cut()
			n++
		}
		i++
	}
	return n
}

// call runs fn with the API client of each node in a random order until
// one succeeds, and reports whether one did.
func (r *run) call(ctx context.Context, fn func(*backend.Client) error) bool {
	first := rand.IntN(len(r.clients))
	for i := range r.clients {
		if ctx.Err() != nil {
			return false
		}
		if fn(r.clients[(first+i)%len(r.clients)]) == nil {
			return true
		}
	}
	return false
}

func (r *run) progress(format string, args ...any) {
	fmt.Fprintf(r.cfg.Progress, "soak: "+format+"\n", args...)
}

// note records a problem of the soak itself, shown under the report.
func (r *run) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.notes) < 20 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}
