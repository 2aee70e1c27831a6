package main

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/internal/clock"
)

// summaryEvery is how often presence logs, at info, what happened: often
// enough to see a node at work, never a line per session.
const summaryEvery = time.Minute

// summaryFields are the figures of the summary line, each from the sum of
// a metric family's series.
var summaryFields = []struct {
	field, family string
	counter       bool // report the change since the last line, not the value
}{
	{"tabs", "presence_tabs_connected", false},
	{"sessions", "presence_sessions_live", false},
	{"warnings", "presence_warnings_total", true},
	{"ends", "presence_expiries_total", true},
	{"refused", "presence_refused_total", true},
	{"tabs_refused", "presence_tabs_refused_total", true},
	{"pings", "presence_classic_pings_total", true},
	{"webhooks_failed", "presence_webhook_deliveries_total{result=failed}", true},
	{"webhooks_dropped", "presence_webhook_deliveries_total{result=dropped}", true},
}

// summarize logs a summary line every summaryEvery while anything
// happens: tabs connected, or any figure moved. It returns when ctx ends.
func summarize(ctx context.Context, g prometheus.Gatherer, clk clock.Clock, log *zap.Logger) {
	tk := clk.NewTicker(summaryEvery)
	defer tk.Stop()
	last := figures(g)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C():
		}
		now := figures(g)
		fields := make([]zap.Field, 0, len(summaryFields))
		busy := false
		for _, f := range summaryFields {
			v := now[f.field]
			if f.counter {
				v -= last[f.field]
			}
			busy = busy || v != 0
			fields = append(fields, zap.Int64(f.field, int64(v)))
		}
		last = now
		if busy {
			log.Info("presence in the last minute", fields...)
		}
	}
}

// figures reads the summary's figures from g.
func figures(g prometheus.Gatherer) map[string]float64 {
	families, err := g.Gather()
	out := make(map[string]float64, len(summaryFields))
	if err != nil {
		return out
	}
	byName := make(map[string]*dto.MetricFamily, len(families))
	for _, f := range families {
		byName[f.GetName()] = f
	}
	for _, f := range summaryFields {
		name, want := f.family, ""
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, want = name[:i], name[i+1:len(name)-1] // label=value
		}
		fam := byName[name]
		if fam == nil {
			continue
		}
		for _, m := range fam.GetMetric() {
			if want != "" && !hasLabel(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				out[f.field] += m.Counter.GetValue()
			case m.Gauge != nil:
				out[f.field] += m.Gauge.GetValue()
			}
		}
	}
	return out
}

func hasLabel(m *dto.Metric, pair string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName()+"="+l.GetValue() == pair {
			return true
		}
	}
	return false
}
