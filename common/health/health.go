// Package health serves /healthz (the process is alive) and /readyz (every
// named dependency answers and the process is not shutting down).
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Check reports whether one dependency is usable.
type Check func(ctx context.Context) error

type named struct {
	name string
	fn   Check
}

// Checker holds the readiness checks and the draining flag.
type Checker struct {
	mu       sync.RWMutex
	checks   []named
	draining atomic.Bool
	// Timeout bounds each readiness probe.
	Timeout time.Duration
}

// New returns a Checker with a 2 s probe timeout.
func New() *Checker { return &Checker{Timeout: 2 * time.Second} }

// Add registers a named readiness check.
func (h *Checker) Add(name string, fn Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = append(h.checks, named{name, fn})
}

// SetDraining makes readiness fail from now on, so load balancers stop
// sending new requests while in-flight ones finish.
func (h *Checker) SetDraining() { h.draining.Store(true) }

// Draining reports whether shutdown has begun.
func (h *Checker) Draining() bool { return h.draining.Load() }

// Ready runs every check concurrently, except those named in exclude, and
// returns each one's state. Excluding a name no check has fails readiness
// ("exclude:<name>": "no such check"): a misspelt probe must not quietly
// keep the check it meant to leave out.
func (h *Checker) Ready(ctx context.Context, exclude ...string) (map[string]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, h.Timeout)
	defer cancel()
	h.mu.RLock()
	all := append([]named(nil), h.checks...)
	h.mu.RUnlock()

	states := make(map[string]string, len(all)+1)
	ok := true
	var checks []named
	for _, c := range all {
		if !slices.Contains(exclude, c.name) {
			checks = append(checks, c)
		}
	}
	for _, x := range exclude {
		if !slices.ContainsFunc(all, func(c named) bool { return c.name == x }) {
			states["exclude:"+x] = "no such check"
			ok = false
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			state := "ok"
			if err := c.fn(ctx); err != nil {
				state = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			states[c.name] = state
			if state != "ok" {
				ok = false
			}
		})
	}
	wg.Wait()
	if h.Draining() {
		states["shutdown"] = "draining"
		ok = false
	}
	return states, ok
}

// Live is the /healthz handler.
func (h *Checker) Live(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// Readiness is the /readyz handler. A failing probe answers 503 in the
// platform's error envelope, with each check's state beside it.
// /readyz?exclude=events leaves the named checks out (as kube-apiserver's
// /readyz?exclude=etcd): the services' Kubernetes readiness probe uses it,
// so a blip of the bus, which the outbox rides out, does not take every
// replica out of its Service at once; /readyz itself keeps every check.
func (h *Checker) Readiness(w http.ResponseWriter, r *http.Request) {
	states, ok := h.Ready(r.Context(), r.URL.Query()["exclude"]...)
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": states})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{
		"errors": []map[string]string{{"message": "Service not ready"}},
		"checks": states,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
