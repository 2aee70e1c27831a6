package hub

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/session"
)

// Options configures a Registry. Store and Verifier are required; every
// other field has a default.
type Options struct {
	// Store keeps each session's last activity and ended mark.
	Store session.Store
	// Verifier checks the tokens that tabs and pings present.
	Verifier *session.Verifier

	// Clock is the node's clock. Nil means the system clock.
	Clock clock.Clock
	// Logger receives the node's logs. Nil means no logs.
	Logger *zap.Logger
	// Registerer receives the hub's Prometheus metrics. Nil means the
	// metrics are kept but not registered anywhere.
	Registerer prometheus.Registerer

	// Broker carries nudges to and from the other nodes that share Store.
	// Nil means this node is alone.
	Broker Broker

	// OnEnd is told of every session end this node decides: idle expiry,
	// logout from a tab, logout or revocation through the API. Each end
	// is reported once across all nodes sharing the store, or, with a
	// session.EndConfirmer store, at least once: OnEnd reports whether it
	// handed the end on, and an end not handed on, or whose node died
	// before it could say so, is reported again within a few seconds by
	// some node. It runs on the goroutine that saw the end and must not
	// block for long; ctx ends when the Registry closes. Nil means nobody
	// is told.
	OnEnd func(ctx context.Context, e End) bool

	// PassivePaths lists page paths whose hello is not activity, as
	// django-session-security's PASSIVE_URLS: exact paths ("/poll") and
	// prefixes ending in "*" ("/api/live/*").
	PassivePaths []string

	// OriginPatterns lists the browser origins, besides the server's own
	// host, allowed to open /ws: host patterns such as "*.example.com" or
	// origins with a scheme such as "https://app.example.com".
	OriginPatterns []string

	// Tick is the timer wheel's resolution: a deadline is acted on at most
	// about a Tick after it passes, never before. Zero means 10 ms, which
	// keeps warnings well within 100 ms of their deadline while waking the
	// wheel a hundred times a second.
	Tick time.Duration
	// HelloTimeout is how long a new tab has to send hello. Zero means 10 s.
	HelloTimeout time.Duration
	// PingEvery is the mean interval between server pings to a tab; each is
	// jittered by up to a fifth either way. Zero means 25 s.
	PingEvery time.Duration
	// SilenceTimeout closes a tab that sent nothing for this long. Zero
	// means 60 s.
	SilenceTimeout time.Duration
	// WriteTimeout bounds one write to a tab; a tab that cannot take a
	// frame in time is dropped. Zero means 10 s.
	WriteTimeout time.Duration
	// SendQueue is how many frames may wait for one tab before it counts
	// as too slow and is dropped. Zero means 16.
	SendQueue int
	// ReadLimit is the largest frame a tab may send, in bytes. Zero means
	// 4096.
	ReadLimit int64
	// Workers is how many goroutines re-read the store when deadlines
	// fire. Zero means 8.
	Workers int
	// FlushEvery lets a tab's activity wait in this node up to this long
	// before it is written to the store, so that the activity of a busy
	// session costs one write per interval rather than one per frame; the
	// latest activity replaces what waits, and the writes of many sessions
	// go out together. A session's activity is written at once while its
	// warn deadline, by the store's last word, is less than two intervals
	// away or past, and before the node decides anything about it. A
	// session's interval is at most a tenth of its warn_after. Zero writes
	// every report at once, which suits a store in the process.
	FlushEvery time.Duration
	// MaxTabs caps the tabs the node holds in all, so that it stays within
	// its open files. Zero means no cap.
	MaxTabs int
	// MaxTabsPerSession caps the tabs of one session on the node. Zero
	// means 100.
	MaxTabsPerSession int
	// MaxTabsPerAddress caps the tabs of one client address on the node.
	// Zero means no cap: intranets put many people behind one address.
	MaxTabsPerAddress int
	// ClientAddress names the client of a request, for MaxTabsPerAddress.
	// Nil means the connection's peer.
	ClientAddress func(*http.Request) string

	// RecoveryGrace is how long the node ends no session for idleness
	// after it starts and after its store answers again, so that the tabs
	// and applications that could not reach presence meanwhile can report
	// their activity first (session.Store.HoldIdleEnds). Zero means 8 s;
	// a negative value means no grace.
	RecoveryGrace time.Duration

	// MaxLifetime, when positive, gives every session an absolute end
	// that long after this node first reports it to the store, unless
	// its token or its application gives an earlier one (session.Terms
	// .EndAt). The store keeps the first end it learns of: one kept in
	// Redis holds across restarts of the nodes; the memory store forgets
	// it with its sessions.
	MaxLifetime time.Duration
}

// End is one session's end, as Options.OnEnd receives it.
type End struct {
	SID    string
	UID    string // from the tokens this node saw; may be empty
	Reason session.Reason
	At     time.Time // when the session ended, on the store's clock
}

// withDefaults returns a copy of o with every zero field filled in.
func (o Options) withDefaults() (Options, error) {
	if o.Store == nil {
		return o, errors.New("hub: Options.Store is required")
	}
	if o.Verifier == nil {
		return o, errors.New("hub: Options.Verifier is required")
	}
	if o.Clock == nil {
		o.Clock = clock.System()
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Tick <= 0 {
		o.Tick = defaultWheelTick
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = 10 * time.Second
	}
	if o.PingEvery <= 0 {
		o.PingEvery = 25 * time.Second
	}
	if o.SilenceTimeout <= 0 {
		o.SilenceTimeout = 60 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 16
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4096
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxTabsPerSession <= 0 {
		o.MaxTabsPerSession = 100
	}
	if o.ClientAddress == nil {
		o.ClientAddress = remoteAddress
	}
	switch {
	case o.RecoveryGrace == 0:
		o.RecoveryGrace = defaultRecoveryGrace
	case o.RecoveryGrace < 0:
		o.RecoveryGrace = 0
	}
	return o, nil
}
