// Command expiration fires expiration:complete when an order's time is up.
// Its timers live in its own MongoDB — not Redis as in the original — so a
// pending expiration survives restarts and crashes with no extra server to
// run, and replicas share them safely through conditional writes.
package main

import (
	"context"
	"io"
	"time"

	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/lease"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/service"
	"github.com/ticketing-go/ticketing/expiration/timer"
)

type settings struct {
	config.Base
	Bus    eventbus.Config
	Outbox outbox.Config
	// FiredRetention is how long a fired timer is kept: while it exists, a
	// redelivered order:created schedules nothing.
	FiredRetention time.Duration `env:"FIRED_TIMER_RETENTION" envDefault:"1h"`
}

func main() { service.Main("expiration", run) }

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	svc, err := service.Boot(ctx, "expiration", &cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	bus, relay, err := svc.OutboxWith(ctx, cfg.Bus, svc.DB.Collection(timer.Collection), cfg.Outbox)
	if err != nil {
		return err
	}
	store, err := timer.NewStore(ctx, relay)
	if err != nil {
		return err
	}
	sched := newScheduler(store, lease.New(svc.DB.Collection(lease.Collection), "expiration-firing", firingLease), svc.Log, cfg.FiredRetention)

	l := &listeners{store: store, sched: sched}
	if err := svc.Listen(bus, l.all(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	// No routes of its own: only health and metrics.
	return svc.Run(ctx, svc.Engine(), bus, relay.Run, sched.run)
}
