// Command expiration fires expiration:complete when an order's time is up.
// Its timers live in its own MongoDB — not Redis as in the original — so a
// pending expiration survives restarts and crashes with no extra server to
// run, and replicas share them safely through conditional writes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/service"
	"github.com/ticketing-go/ticketing/expiration/timer"
)

type settings struct {
	config.Base
	Bus            eventbus.Config
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "expiration:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	if err := config.Load(&cfg, getenv); err != nil {
		return err
	}
	svc, err := service.Start(ctx, "expiration", cfg.Base, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	store, err := timer.NewStore(ctx, svc.DB)
	if err != nil {
		return err
	}
	bus, err := eventbus.Connect(ctx, cfg.Bus, svc.Log)
	if err != nil {
		return err
	}
	svc.Health.Add("events", bus.Ready)
	relay := outbox.NewRelay(store.Collection(), bus, svc.Log, cfg.OutboxInterval)
	svc.Metrics.Register(relay.Collectors()...)
	sched := newScheduler(store, relay, svc.Log)

	l := &listeners{store: store, sched: sched}
	if err := svc.Listen(bus, l.all(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	// No routes of its own: only health and metrics.
	return svc.Run(ctx, svc.Engine(nil), bus, relay.Run, sched.run)
}
