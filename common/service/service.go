// Package service is the start-up and shut-down sequence every service
// shares, so each main.go only wires its own stores, routes and listeners.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/health"
	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/logging"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/mongox"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/server"
	"github.com/ticketing-go/ticketing/common/session"
)

// Service is a started service's shared parts.
type Service struct {
	Name string
	// Signer verifies and issues sessions; nil for a service without them.
	Signer  *session.Signer
	Log     *slog.Logger
	Mongo   *mongo.Client
	DB      *mongo.Database
	Health  *health.Checker
	Metrics *metrics.Metrics
	base    config.Base
}

// Settings is a service's configuration: a pointer to a struct that embeds
// config.Base, and config.Session if the service has sessions. When it has
// a Validate method, Boot calls it: the checks config.Load cannot make, done
// before anything connects.
type Settings interface {
	BaseSettings() config.Base
}

// Boot is every service's start: it loads settings from getenv, checks
// them, builds the session signer (settings that embed config.Session), and
// starts the service (Start). The caller closes it.
func Boot(ctx context.Context, name string, settings Settings, getenv func(string) string, stdout io.Writer) (*Service, error) {
	if err := config.Load(settings, getenv); err != nil {
		return nil, err
	}
	if v, ok := settings.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, err
		}
	}
	var signer *session.Signer
	if s, ok := settings.(interface{ SessionSettings() config.Session }); ok {
		var err error
		if signer, err = Signer(s.SessionSettings()); err != nil {
			return nil, err
		}
	}
	svc, err := Start(ctx, name, settings.BaseSettings(), stdout)
	if err != nil {
		return nil, err
	}
	svc.Signer = signer
	return svc, nil
}

// Start builds the logger and connects the database (waiting for it).
func Start(ctx context.Context, name string, base config.Base, stdout io.Writer) (*Service, error) {
	level, err := config.Level(base.LogLevel)
	if err != nil {
		return nil, err
	}
	for i, p := range base.TrustedProxies {
		base.TrustedProxies[i] = strings.TrimSpace(p)
	}
	if err := httpx.CheckProxies(base.TrustedProxies); err != nil {
		return nil, fmt.Errorf("config: invalid TRUSTED_PROXIES=%q: %w", strings.Join(base.TrustedProxies, ","), err)
	}
	s := &Service{Name: name, Log: logging.New(stdout, level, name), Health: health.New(), Metrics: metrics.New(name), base: base}
	start := time.Now()
	s.Mongo, s.DB, err = mongox.Connect(ctx, base.MongoURI, name, s.Log)
	if err != nil {
		return nil, err
	}
	s.Log.Info("database connected", "db", s.DB.Name(), "took", time.Since(start))
	s.Health.Add("database", mongox.Ping(s.Mongo))
	return s, nil
}

// Signer returns the session signer for the session settings.
func Signer(cfg config.Session) (*session.Signer, error) {
	s, err := session.NewSigner(cfg.JWTKey, cfg.JWTTTL)
	if err != nil {
		return nil, fmt.Errorf("JWT_KEY/JWT_TTL: %w", err)
	}
	return s, nil
}

// Engine returns a gin engine with the shared middleware and health routes
// (sessions read with s.Signer, if the service has one).
func (s *Service) Engine() *gin.Engine {
	return httpx.New(httpx.Options{Logger: s.Log, Health: s.Health, Metrics: s.Metrics, Signer: s.Signer, Unavailable: mongox.IsUnavailable,
		TrustedProxies: s.base.TrustedProxies})
}

// Serve runs the HTTP server until ctx ends, then drains and shuts it down.
func (s *Service) Serve(ctx context.Context, h http.Handler) error {
	return server.Run(ctx, server.Options{
		Addr: net.JoinHostPort(s.base.Host, strconv.Itoa(s.base.Port)), Handler: h, Logger: s.Log, Health: s.Health,
		Drain: s.base.Drain, ShutdownTimeout: s.base.ShutdownTimeout,
	})
}

// Close disconnects the database.
func (s *Service) Close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Mongo.Disconnect(ctx); err != nil {
		s.Log.Warn("database disconnect", "err", err)
	}
}

// Run serves h and runs the background loops (outbox relays, schedulers)
// until ctx ends. Shutdown goes in dependency order: HTTP drains and stops
// first, then the loops, then the bus closes (Close, keeping durable
// subscriptions). bus may be nil.
func (s *Service) Run(ctx context.Context, h http.Handler, bus events.Bus, loops ...func(context.Context) error) error {
	loopCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoops()
	var g errgroup.Group
	for _, loop := range loops {
		g.Go(func() error { return loop(loopCtx) })
	}
	err := s.Serve(ctx, h)
	stopLoops()
	err = errors.Join(err, g.Wait())
	if bus != nil {
		if cerr := bus.Close(); cerr != nil {
			s.Log.Warn("closing the event bus", "err", cerr)
		}
	}
	return err
}

// Listen subscribes the listeners, counting what they do in the service's
// metrics. On failure it closes the bus.
func (s *Service) Listen(bus events.Bus, listeners ...events.Listener) error {
	m := events.NewMetrics()
	s.Metrics.Register(m.Collectors()...)
	for _, l := range listeners {
		if err := bus.Subscribe(m.Instrument(l)); err != nil {
			_ = bus.Close()
			return err
		}
	}
	return nil
}

// Main is a service's main: run with the process's arguments and
// environment until SIGINT or SIGTERM, exiting 1 with the error.
func Main(name string, run func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}

// OutboxWith connects the event bus (waiting for it), makes it part of
// readiness, and builds the outbox relay for coll with its metrics.
func (s *Service) OutboxWith(ctx context.Context, cfg eventbus.Config, coll *mongo.Collection, timing outbox.Config) (events.Bus, *outbox.Relay, error) {
	bus, err := eventbus.Connect(ctx, cfg, s.Log)
	if err != nil {
		return nil, nil, err
	}
	s.Health.Add("events", bus.Ready)
	relay := outbox.NewRelayWith(coll, bus, s.Log, timing)
	s.Metrics.Register(relay.Collectors()...)
	return bus, relay, nil
}
