package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/httpapi"
	"github.com/presence-dev/presence/hub"
	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/internal/demo"
	"github.com/presence-dev/presence/session"
	"github.com/presence-dev/presence/webhook"
)

// shutdownGrace bounds a graceful stop of the tabs and the HTTP server,
// and shutdownBudget the whole stop, queued webhook deliveries included,
// so that the process exits within 10 s of a signal even when some tab
// never answers the close handshake or the webhook's receiver hangs.
const (
	shutdownGrace  = 8 * time.Second
	shutdownBudget = 9500 * time.Millisecond
)

// run parses the configuration, listens, and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := parseConfig(args, getenv, os.Stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // nothing to do if stderr is gone
	redis.SetLogger(redisLogger{log.Named("redis")})

	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return &configError{fmt.Sprintf("listen on %s: another program listens there already; choose another address with -addr or PRESENCE_ADDR, such as -addr 127.0.0.1:8766", cfg.Addr)}
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serve(ctx, cfg, ln, deps{log: log, clock: clock.System(), out: os.Stdout, hup: hup})
}

// redisLogger sends go-redis's own messages (failed dials while Redis is
// away, several per call) to the JSON log at debug: the outage is logged
// at warn once when it starts and once when it ends.
type redisLogger struct{ log *zap.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...))
}

// deps are what tests replace: the logger, the clock and where the demo's
// address is printed.
type deps struct {
	log   *zap.Logger
	clock clock.Clock
	out   io.Writer
	ready func(addr string) // called once the server serves; may be nil
	hup   <-chan os.Signal  // SIGHUP, which reloads the TLS certificate; may be nil
}

// serve runs presence on ln until ctx ends, then shuts down gracefully:
// the listener closes, every tab gets close 1012, and serve returns.
func serve(ctx context.Context, cfg Config, ln net.Listener, d deps) error {
	store, broker, redisClient, err := openStore(cfg, d)
	if err != nil {
		return err
	}
	defer store.Close()
	var sent redisCommands
	if redisClient != nil {
		redisClient.AddHook(&sent)
	}
	// The stop's deadline, for what still runs once the tabs are closed;
	// set when the stop begins.
	stopBy := time.Now().Add(shutdownBudget)

	// The demo signs with a secret of its own, never the application's:
	// anyone who can reach the demo can log in to it.
	var demoSecret []byte
	oldSecrets := cfg.OldSecrets
	if cfg.Demo {
		demoSecret = make([]byte, 32)
		rand.Read(demoSecret)
		oldSecrets = append(slices.Clip(oldSecrets), demoSecret)
	}
	verifier, err := session.NewVerifier(session.VerifierOptions{
		Secret:     cfg.Secret,
		OldSecrets: oldSecrets,
		MaxAge:     cfg.TokenMaxAge,
		Defaults:   session.Limits{WarnAfter: cfg.WarnAfter, ExpireAfter: cfg.ExpireAfter},
		Clock:      d.clock,
	})
	if err != nil {
		return &configError{err.Error()}
	}

	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if redisClient != nil {
		sent.register(metrics)
	}
	var onEnd func(context.Context, hub.End) bool
	if cfg.WebhookURL != "" {
		sender, err := webhook.NewSender(webhook.Options{
			URL:        cfg.WebhookURL,
			Secret:     cfg.Secret,
			MaxAge:     cfg.WebhookMaxAge,
			Redis:      redisClient, // nil with the memory store
			Prefix:     redisPrefix,
			Logger:     d.log.Named("webhook"),
			Registerer: metrics,
		})
		if err != nil {
			return &configError{err.Error()}
		}
		defer func() {
			// Deliver what is queued until the stop's deadline; with
			// Redis, what is left waits there for the other nodes.
			ctx, cancel := context.WithDeadline(context.Background(), stopBy)
			defer cancel()
			if err := sender.Close(ctx); err != nil {
				d.log.Warn("webhook deliveries cut short by the shutdown", zap.Error(err))
			}
		}()
		onEnd = func(ctx context.Context, e hub.End) bool {
			return sender.Send(ctx, webhook.Event{SID: e.SID, UID: e.UID, Reason: string(e.Reason), At: e.At})
		}
	}
	reg, err := hub.New(hub.Options{
		Store:             store,
		Verifier:          verifier,
		Clock:             d.clock,
		Logger:            d.log,
		Registerer:        metrics,
		OriginPatterns:    cfg.AllowedOrigins,
		PassivePaths:      cfg.PassivePaths,
		OnEnd:             onEnd,
		RecoveryGrace:     recoveryGrace(cfg.RecoveryGrace),
		MaxLifetime:       cfg.MaxLifetime,
		MaxTabs:           cfg.MaxTabs,
		MaxTabsPerSession: cfg.MaxTabsPerSession,
		MaxTabsPerAddress: cfg.MaxTabsPerAddress,
		ClientAddress:     cfg.TrustedProxies.ClientAddress,
		Broker:            broker,
		FlushEvery:        flushEvery,
	})
	if err != nil {
		return err
	}

	httpOpts := httpapi.Options{
		Registry:       reg,
		Verifier:       verifier,
		Store:          store,
		APIKey:         cfg.APIKey,
		OriginPatterns: cfg.AllowedOrigins,
		CookieDomain:   cfg.CookieDomain,
		CookieSecure:   cfg.CookieSecure,
		Proxies:        cfg.TrustedProxies,
		Registerer:     metrics,
		Gatherer:       metrics,
		Logger:         d.log,
	}
	if cfg.Demo {
		httpOpts.Demo = demo.Handler(demo.Options{Secret: demoSecret, WarnAfter: cfg.WarnAfter, ExpireAfter: cfg.ExpireAfter})
	}
	handler, err := httpapi.New(httpOpts)
	if err != nil {
		reg.Close()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          zap.NewStdLog(d.log.Named("http")),
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := loadCertificate(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			reg.Close()
			return &configError{err.Error()}
		}
		srv.TLSConfig = cert.config()
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
		watchDone := make(chan struct{})
		defer close(watchDone)
		go cert.watch(d.hup, watchDone, d.log)
	}
	if cfg.DebugAddr != "" {
		debugCtx, stopDebug := context.WithCancel(context.Background())
		defer stopDebug()
		if err := serveDebug(debugCtx, cfg.DebugAddr, d.log); err != nil {
			reg.Close()
			return err
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	d.log.Info("presence serving",
		zap.String("addr", ln.Addr().String()),
		zap.String("scheme", scheme),
		zap.Duration("warn_after", cfg.WarnAfter),
		zap.Duration("expire_after", cfg.ExpireAfter),
		zap.String("store", storeLabel(cfg.Store)),
		zap.Strings("allowed_origins", append([]string{"its own host"}, cfg.AllowedOrigins...)),
		zap.Bool("api", cfg.APIKey != ""),
		zap.String("webhook", webhookLabel(cfg.WebhookURL)))
	summaryCtx, stopSummary := context.WithCancel(context.Background())
	defer stopSummary()
	go summarize(summaryCtx, metrics, d.clock, d.log)
	if cfg.Demo {
		fmt.Fprintf(d.out, "presence demo: open %s/demo/ in a browser (warn after %s, expire after %s)\n",
			browserURL(scheme, ln.Addr()), cfg.WarnAfter, cfg.ExpireAfter)
	}
	if d.ready != nil {
		d.ready(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		reg.Close()
		return fmt.Errorf("serve: %w", err)
	}

	d.log.Info("presence shutting down")
	stopBy = time.Now().Add(shutdownBudget)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Shutdown(sctx) }()
	regErr := reg.Shutdown(sctx)
	srvErr := <-stopped
	<-served
	if err := errors.Join(regErr, srvErr); err != nil {
		d.log.Warn("shutdown cut short", zap.Error(err))
	}
	return nil
}

// flushEvery is how long a tab's activity may wait in a node before it
// is written to the store: at 4 frames a second, a busy session costs one
// write in 20 frames, a round trip to Redis, or with the memory store a
// store call, a timer and a goroutine start, where a frame otherwise
// costs a few microseconds.
const flushEvery = 5 * time.Second

// recoveryGrace turns the configuration's grace into hub's: zero there
// means none, zero here the default.
func recoveryGrace(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// redisPrefix starts the name of every Redis key and channel presence uses.
const redisPrefix = "presence:"

// openStore returns the configured store and, for a store shared by
// several nodes, the broker that carries their nudges and the Redis
// client, which the webhook's queue shares.
func openStore(cfg Config, d deps) (session.Store, hub.Broker, redis.UniversalClient, error) {
	retention := cfg.TokenMaxAge + session.MaxClockSkew
	if cfg.Store == "memory" {
		return session.NewMemoryStore(session.MemoryOptions{Clock: d.clock, Retention: retention}), nil, nil, nil
	}
	client, err := session.OpenRedis(cfg.Store)
	if err != nil {
		return nil, nil, nil, &configError{"-store: " + err.Error()}
	}
	store, err := session.NewRedisStore(session.RedisOptions{Client: client, OwnClient: true, Prefix: redisPrefix, Retention: retention})
	if err != nil {
		client.Close()
		return nil, nil, nil, &configError{"-store: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		d.log.Warn("Redis is not reachable yet; /readyz answers 503 until it is", zap.Error(err))
	} else if !persistent(ctx, client) {
		d.log.Warn("Redis keeps nothing on disk (appendonly no, save \"\"): a restart of Redis forgets the ended sessions no node remembers, and the webhook deliveries waiting; turn on AOF or RDB snapshots (docs/deploy.md)")
	}
	return store, hub.NewRedisBroker(client, redisPrefix), client, nil
}

// persistent reports whether Redis is configured to keep its data across
// a restart: AOF on, or RDB snapshots scheduled. A Redis that does not say
// (CONFIG disabled, as managed services do) is taken at its word.
func persistent(ctx context.Context, client redis.UniversalClient) bool {
	conf, err := client.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return true
	}
	if conf["appendonly"] == "yes" {
		return true
	}
	save, err := client.ConfigGet(ctx, "save").Result()
	return err != nil || strings.TrimSpace(save["save"]) != ""
}

// storeLabel names the store for logs without the credentials a Redis
// URL may hold.
func storeLabel(store string) string {
	u, err := url.Parse(store)
	if err != nil || u.Scheme == "" {
		return store
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// webhookLabel names the webhook's receiver for logs: its scheme and host.
func webhookLabel(u string) string {
	if u == "" {
		return "none"
	}
	return webhook.Redact(u)
}

// browserURL is the address a person on this machine opens to reach ln.
func browserURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
