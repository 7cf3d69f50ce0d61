// Command tickets is the marketplace's inventory (docs/contract.md, "Tickets"): tickets for
// sale, their edits, and their reservation by orders, announced as events
// through a transactional outbox.
package main

import (
	"context"
	"io"

	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/service"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

type settings struct {
	config.Base
	config.Session
	Bus    eventbus.Config
	Outbox outbox.Config
}

func main() { service.Main("tickets", run) }

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	svc, err := service.Boot(ctx, "tickets", &cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	bus, relay, err := svc.OutboxWith(ctx, cfg.Bus, svc.DB.Collection(ticket.Collection), cfg.Outbox)
	if err != nil {
		return err
	}
	store, err := ticket.NewMongoStore(ctx, relay)
	if err != nil {
		return err
	}

	l := &listeners{tickets: store}
	if err := svc.Listen(bus, l.all(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	a := &api{tickets: store}
	return svc.Run(ctx, a.routes(svc.Engine()), bus, relay.Run)
}
