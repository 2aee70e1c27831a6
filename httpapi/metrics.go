package httpapi

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP surfaces' own Prometheus collectors; errors they
// answer with are counted by the Registry beside those of the tabs.
type metrics struct {
	pings *prometheus.CounterVec
}

// The answers of the classic ping, as presence_classic_pings_total counts
// them.
const (
	pingIdle    = "idle"
	pingLogout  = "logout"
	pingRefused = "refused" // a token refused to presence.js, with 401
	pingError   = "error"
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		pings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "presence_classic_pings_total",
			Help: "Classic /ping requests, by answer (idle, logout, refused, error).",
		}, []string{"answer"}),
	}
	for _, answer := range []string{pingIdle, pingLogout, pingRefused, pingError} {
		m.pings.WithLabelValues(answer) // present from the start, at 0
	}
	if reg != nil {
		if err := reg.Register(m.pings); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
