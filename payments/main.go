// Command payments charges for orders through Stripe (CONTRACT §6): exactly
// the ticket's price in cents, once per order.
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
	"github.com/ticketing-go/ticketing/payments/payment"
)

type settings struct {
	config.Base
	config.Session
	Bus       eventbus.Config
	StripeKey string `env:"STRIPE_KEY,required,notEmpty"`
	// StripeAPIURL points the client at another Stripe API peer
	// (stripe-mock locally and in tests).
	StripeAPIURL   string        `env:"STRIPE_API_URL"`
	OutboxInterval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "payments:", err)
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
	svc, err := service.Start(ctx, "payments", cfg.Base, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	store, err := payment.NewStore(ctx, svc.DB)
	if err != nil {
		return err
	}
	bus, err := eventbus.Connect(ctx, cfg.Bus, svc.Log)
	if err != nil {
		return err
	}
	svc.Health.Add("events", bus.Ready)
	relay := outbox.NewRelay(store.Payments(), bus, svc.Log, cfg.OutboxInterval)
	svc.Metrics.Register(relay.Collectors()...)

	a := &api{store: store, relay: relay, charger: newStripeCharger(cfg.StripeKey, cfg.StripeAPIURL), now: time.Now}
	if err := svc.Listen(bus, a.listeners(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	return svc.Run(ctx, a.routes(svc.Engine(signer)), bus, relay.Run)
}
