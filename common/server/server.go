// Package server runs an HTTP server until its context ends, then shuts it
// down in the order Kubernetes needs: readiness turns 503, a drain delay lets
// load balancers notice, then in-flight requests get a bounded time to finish.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ticketing-go/ticketing/common/health"
)

// Options configures Run.
type Options struct {
	Addr            string
	Handler         http.Handler
	Logger          *slog.Logger
	Health          *health.Checker
	Drain           time.Duration
	ShutdownTimeout time.Duration
}

// Run serves until ctx is done or serving fails, then drains and shuts down.
func Run(ctx context.Context, o Options) error {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("server: listen on %s: %w", o.Addr, err)
	}
	srv := &http.Server{
		Handler:           o.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	o.Logger.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	if o.Health != nil {
		o.Health.SetDraining()
	}
	o.Logger.Info("draining", "for", o.Drain)
	drain := time.NewTimer(o.Drain)
	select {
	case <-drain.C:
	case err := <-serveErr:
		drain.Stop()
		return fmt.Errorf("server: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	o.Logger.Info("stopped")
	return nil
}
