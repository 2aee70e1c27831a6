package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
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

// shutdownGrace bounds a graceful stop, so that the process exits within
// 10 s of a signal even when some tab never answers the close handshake.
const shutdownGrace = 8 * time.Second

// webhookGrace is how long queued webhook deliveries may still go out at
// shutdown.
const webhookGrace = time.Second

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
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return serve(ctx, cfg, ln, deps{log: log, clock: clock.System(), out: os.Stdout})
}

// redisLogger sends go-redis's own messages (failed dials while Redis is
// away) to the JSON log instead of bare lines on stderr.
type redisLogger struct{ log *zap.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
}

// deps are what tests replace: the logger, the clock and where the demo's
// address is printed.
type deps struct {
	log   *zap.Logger
	clock clock.Clock
	out   io.Writer
	ready func(addr string) // called once the server serves; may be nil
}

// serve runs presence on ln until ctx ends, then shuts down gracefully:
// the listener closes, every tab gets close 1012, and serve returns.
func serve(ctx context.Context, cfg Config, ln net.Listener, d deps) error {
	store, broker, err := openStore(cfg, d)
	if err != nil {
		return err
	}
	defer store.Close()

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
	var onEnd func(context.Context, hub.End)
	if cfg.WebhookURL != "" {
		sender, err := webhook.NewSender(webhook.Options{
			URL:        cfg.WebhookURL,
			Secret:     cfg.Secret,
			Logger:     d.log.Named("webhook"),
			Registerer: metrics,
		})
		if err != nil {
			return &configError{err.Error()}
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), webhookGrace)
			defer cancel()
			if err := sender.Close(ctx); err != nil {
				d.log.Warn("webhook deliveries abandoned at shutdown", zap.Error(err))
			}
		}()
		onEnd = func(_ context.Context, e hub.End) {
			sender.Send(webhook.Event{SID: e.SID, UID: e.UID, Reason: string(e.Reason), At: e.At})
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
		MaxTabs:           cfg.MaxTabs,
		MaxTabsPerSession: cfg.MaxTabsPerSession,
		MaxTabsPerAddress: cfg.MaxTabsPerAddress,
		ClientAddress:     cfg.TrustedProxies.ClientAddress,
		Broker:            broker,
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
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	d.log.Info("presence serving",
		zap.String("addr", ln.Addr().String()),
		zap.Duration("warn_after", cfg.WarnAfter),
		zap.Duration("expire_after", cfg.ExpireAfter),
		zap.String("store", storeLabel(cfg.Store)),
		zap.Bool("api", cfg.APIKey != ""),
		zap.Bool("webhook", cfg.WebhookURL != ""))
	if cfg.Demo {
		fmt.Fprintf(d.out, "presence demo: open %s/demo/ in a browser (warn after %s, expire after %s)\n",
			browserURL(ln.Addr()), cfg.WarnAfter, cfg.ExpireAfter)
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
// several nodes, the broker that carries their nudges.
func openStore(cfg Config, d deps) (session.Store, hub.Broker, error) {
	retention := cfg.TokenMaxAge + session.MaxClockSkew
	if cfg.Store == "memory" {
		return session.NewMemoryStore(session.MemoryOptions{Clock: d.clock, Retention: retention}), nil, nil
	}
	client, err := session.OpenRedis(cfg.Store)
	if err != nil {
		return nil, nil, &configError{"-store: " + err.Error()}
	}
	store, err := session.NewRedisStore(session.RedisOptions{Client: client, OwnClient: true, Prefix: redisPrefix, Retention: retention})
	if err != nil {
		client.Close()
		return nil, nil, &configError{"-store: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := store.Ping(ctx); err != nil {
		d.log.Warn("Redis is not reachable yet; /readyz answers 503 until it is", zap.Error(err))
	}
	return store, hub.NewRedisBroker(client, redisPrefix), nil
}

// storeLabel names the store for logs without the credentials a Redis
// URL may hold.
func storeLabel(store string) string {
	u, err := url.Parse(store)
	if err != nil || u.Scheme == "" {
		return store
	}
	return u.Scheme + "://" + u.Host
}

// browserURL is the address a person on this machine opens to reach ln.
func browserURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
