package hub

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/presence-dev/presence/protocol"
)

// metrics are the hub's Prometheus collectors. Label values come from
// closed sets (frame types, error codes, reasons) so that no client can
// grow the number of series.
type metrics struct {
	tabs      prometheus.Gauge
	sessions  prometheus.Gauge
	warnings  prometheus.Counter
	expiries  *prometheus.CounterVec
	framesIn  *prometheus.CounterVec
	framesOut *prometheus.CounterVec
	errors    *prometheus.CounterVec
	dropped   prometheus.Counter
	lateness  prometheus.Histogram
	nudgesOut prometheus.Counter
	nudgesIn  prometheus.Counter
	refused   *prometheus.CounterVec
	capped    *prometheus.CounterVec

	// in and out hold framesIn's and framesOut's counters by type,
	// resolved once: every frame counts, and a broadcast counts one per
	// tab. inOther counts the frames of types outside the protocol.
	in, out map[protocol.Type]prometheus.Counter
	inOther prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		tabs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "presence_tabs_connected",
			Help: "WebSocket tabs connected to this node.",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "presence_sessions_live",
			Help: "Sessions with at least one tab on this node.",
		}),
		warnings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_warnings_total",
			Help: "Sessions warned of their coming expiry.",
		}),
		expiries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_expiries_total",
			Help: "Sessions whose end this node told their tabs of, or decided for a session without tabs, by reason.",
		}, []string{"reason"}),
		framesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_frames_in_total",
			Help: "Frames received from tabs, by type (other for undecodable frames).",
		}, []string{"type"}),
		framesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_frames_out_total",
			Help: "Frames queued to tabs, by type.",
		}, []string{"type"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_errors_total",
			Help: "Errors reported to tabs and pings, by code.",
		}, []string{"code"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_tabs_dropped_total",
			Help: "Tabs closed because they could not keep up with their frames.",
		}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "presence_wheel_lateness_seconds",
			Help:    "How long after its deadline a session's timer wheel entry fired.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .15, .2, .3, .5, 1, 2.5, 5},
		}),
		nudgesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_nudges_published_total",
			Help: "Nudges this node published to the other nodes sharing its store.",
		}),
		nudgesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "presence_nudges_received_total",
			Help: "Nudges this node received from the other nodes, for its sessions or not.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_refused_total",
			Help: "Pages refused by presence, by reason: origin (not in -allowed-origins), token (missing, invalid or too old), cross_site (a cookie ping from another site).",
		}, []string{"reason"}),
	}
	m.capped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "presence_tabs_refused_total",
		Help: "Tabs closed with 1013 for a cap: node (-max-tabs), session (-max-tabs-per-session), address (-max-tabs-per-address).",
	}, []string{"cap"})
	for _, c := range []string{capNode, capSession, capAddress} {
		m.capped.WithLabelValues(c)
	}
	for _, reason := range []string{RefusedOrigin, RefusedToken, RefusedCrossSite} {
		m.refused.WithLabelValues(reason) // present from the start, at 0
	}
	// Every series of a closed set is shown from the start, at zero, so
	// that alerts on a series that is absent do not misfire.
	for _, code := range protocol.Codes {
		m.errors.WithLabelValues(code)
	}
	for _, reason := range []string{"idle", "logout", "revoked", "lifetime"} {
		m.expiries.WithLabelValues(reason)
	}
	m.in = make(map[protocol.Type]prometheus.Counter)
	for _, t := range []protocol.Type{protocol.TypeHello, protocol.TypeActivity, protocol.TypeExtend, protocol.TypeLogout, protocol.TypePong, protocol.TypeTabs, protocol.TypeJoin} {
		m.in[t] = m.framesIn.WithLabelValues(string(t))
	}
	m.inOther = m.framesIn.WithLabelValues("other")
	m.out = make(map[protocol.Type]prometheus.Counter)
	for _, t := range []protocol.Type{protocol.TypeState, protocol.TypeWarn,
		protocol.TypeExpire, protocol.TypePing, protocol.TypeError, protocol.TypeToken} {
		m.out[t] = m.framesOut.WithLabelValues(string(t))
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.tabs, m.sessions, m.warnings,
			m.expiries, m.framesIn, m.framesOut, m.errors, m.dropped,
			m.lateness, m.nudgesOut, m.nudgesIn, m.refused, m.capped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("hub: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

// frameIn counts a received frame. Types outside the protocol count as
// "other", so a client cannot create series.
func (m *metrics) frameIn(t protocol.Type) {
	if c, ok := m.in[t]; ok {
		c.Inc()
		return
	}
	m.inOther.Inc()
}

// frameOut counts a frame queued to a tab.
func (m *metrics) frameOut(t protocol.Type) {
	if c, ok := m.out[t]; ok {
		c.Inc()
	}
}
