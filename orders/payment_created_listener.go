package main

import (
	"context"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/orders/order"
)

// paymentCreated marks the order complete; its ticket stays claimed for good.
// Our payments service emits payment:created only once this service made the
// order complete (order:completed), so here it is a duplicate; the listener
// stays for a payments service of the original app, which charges first and
// tells afterwards.
func (a *api) paymentCreated(ctx context.Context, e events.PaymentCreated) error {
	return a.onOrder(ctx, e.OrderID, func(o order.Order) error {
		switch o.Status {
		case order.Complete:
			return nil // a duplicate
		case order.Cancelled:
			// Only a payments service that charges before asking gets here.
			// The ticket may be someone else's by now, so the order stays
			// cancelled; ours refunds such a charge when it hears
			// order:cancelled.
			a.log.ErrorContext(ctx, "payment for a cancelled order", "order", e.OrderID, "payment", e.ID, "stripeId", e.StripeID)
			return nil
		}
		_, err := a.store.Transition(ctx, o, order.Complete, nil)
		return err
	})
}
