// Command payments charges for orders through Stripe (docs/contract.md, "Payments"): exactly
// the ticket's price in cents, once per order.
package main

import (
	"context"
	"io"
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
	StripeAPIURL string `env:"STRIPE_API_URL"`
	Outbox       outbox.Config
	// Timeout is how long a payment request waits for the orders service
	// to decide before it answers 503 (the payment then follows the order).
	Timeout time.Duration `env:"PAYMENT_TIMEOUT" envDefault:"10s" check:"positive"`
}

func main() { service.Main("payments", run) }

func run(ctx context.Context, _ []string, getenv func(string) string, stdout, _ io.Writer) error {
	var cfg settings
	svc, err := service.Boot(ctx, "payments", &cfg, getenv, stdout)
	if err != nil {
		return err
	}
	defer svc.Close(ctx)
	bus, relay, err := svc.OutboxWith(ctx, cfg.Bus, svc.DB.Collection(payment.Collection), cfg.Outbox)
	if err != nil {
		return err
	}
	store, err := payment.NewStore(ctx, relay, 2*cfg.Timeout)
	if err != nil {
		return err
	}

	a := &api{log: svc.Log, store: store, charger: newStripeCharger(cfg.StripeKey, cfg.StripeAPIURL), now: time.Now,
		timeout: cfg.Timeout, staleAfter: 2 * cfg.Timeout, repairEvery: cfg.Timeout, refunds: newRefunds()}
	svc.Metrics.Register(a.refunds)
	if err := svc.Listen(bus, a.listeners(cfg.Bus.AckWait, svc.Log)...); err != nil {
		return err
	}
	return svc.Run(ctx, a.routes(svc.Engine()), bus, relay.Run, a.repair)
}
