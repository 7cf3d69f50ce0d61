// Command tickets is the marketplace's inventory (CONTRACT §4): tickets for
// sale, their edits, and their reservation by orders, announced as events
// through a transactional outbox.
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
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

type settings struct {
	config.Base
	config.Session
	Bus eventbus.Config
	// OutboxInterval is how often the relay looks for events a crash or an
	// outage left unpublished.
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tickets:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	if err := config.Load(&cfg, getenv); err != nil {
		return err
	}
	signer, err := service.Signer(cfg.Session)
	if err != nil {
		return err
	}
	svc, err := service.Start(ctx, "tickets", cfg.Base, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	store, err := ticket.NewMongoStore(ctx, svc.DB)
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

	l := &listeners{tickets: store, relay: relay}
	if err := svc.Listen(bus, l.all(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	a := &api{tickets: store, relay: relay}
	return svc.Run(ctx, a.routes(svc.Engine(signer)), bus, relay.Run)
}
