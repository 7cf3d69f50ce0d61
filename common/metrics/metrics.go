// Package metrics holds a service's Prometheus registry. Each service gets
// its own registry (not the global default) so in-process tests can boot
// several services without collisions.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry plus the HTTP metrics every service exports.
type Metrics struct {
	Registry *prometheus.Registry
	wrapped  prometheus.Registerer
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns a registry with Go runtime, process and HTTP metrics; every
// series carries the constant label service.
func New(service string) *Metrics {
	reg := prometheus.NewRegistry()
	wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)
	m := &Metrics{
		Registry: reg,
		wrapped:  wrapped,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method and route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	wrapped.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds collectors (event counters, outbox backlog) labelled with the
// service like the rest.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.wrapped.MustRegister(cs...) }

// Observe records one request. route is the template ("/api/tickets/:id"),
// never the raw path, so ids do not explode the series count.
func (m *Metrics) Observe(method, route string, status int, took time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(took.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
