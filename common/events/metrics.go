package events

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what a service's listeners do with the events they get.
type Metrics struct {
	handled     *prometheus.CounterVec
	redelivered *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics returns the listener metrics; register Collectors with the
// service's registry and wrap each listener with Instrument.
func NewMetrics() *Metrics {
	return &Metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_consumed_total",
			Help: "Events handled by listeners, by subject and outcome (ack: done; retry: not acknowledged, comes back).",
		}, []string{"subject", "group", "outcome"}),
		redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "events_redelivered_total",
			Help: "Deliveries that were redeliveries of an unacknowledged event.",
		}, []string{"subject", "group"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "events_handler_duration_seconds",
			Help:    "Time listeners spent on one event.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"subject", "group"}),
	}
}

// Collectors returns the metrics to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.handled, m.redelivered, m.duration}
}

// Instrument wraps a listener's handler with the counters.
func (m *Metrics) Instrument(l Listener) Listener {
	next := l.Handler
	l.Handler = func(ctx context.Context, msg Message) error {
		if msg.Redelivered {
			m.redelivered.WithLabelValues(l.Subject, l.QueueGroup).Inc()
		}
		start := time.Now()
		err := next(ctx, msg)
		m.duration.WithLabelValues(l.Subject, l.QueueGroup).Observe(time.Since(start).Seconds())
		outcome := "ack"
		if err != nil {
			outcome = "retry"
		}
		m.handled.WithLabelValues(l.Subject, l.QueueGroup, outcome).Inc()
		return err
	}
	return l
}
