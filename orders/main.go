// Command orders is the purchase flow's core (docs/contract.md, "Orders"): orders that
// reserve a ticket atomically, expire, get cancelled or paid.
package main

import (
	"context"
	"io"
	"time"

	"github.com/ticketing-go/ticketing/common/config"
	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/service"
	"github.com/ticketing-go/ticketing/orders/order"
)

type settings struct {
	config.Base
	config.Session
	Bus eventbus.Config
	// Window is how long an order holds its ticket before it expires.
	Window time.Duration `env:"EXPIRATION_WINDOW" envDefault:"15m" check:"positive"`
	Outbox outbox.Config
}

func main() { service.Main("orders", run) }

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	svc, err := service.Boot(ctx, "orders", &cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	bus, relay, err := svc.OutboxWith(ctx, cfg.Bus, svc.DB.Collection(order.Collection), cfg.Outbox)
	if err != nil {
		return err
	}
	store, err := order.NewStore(ctx, relay)
	if err != nil {
		return err
	}

	a := &api{log: svc.Log, store: store, window: cfg.Window, now: time.Now}
	if err := svc.Listen(bus, a.listeners(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	return svc.Run(ctx, a.routes(svc.Engine()), bus, relay.Run)
}
