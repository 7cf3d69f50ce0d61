package main

import (
	"context"
	"errors"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/orders/order"
)

// paymentAuthorized decides whether the buyer's authorized payment makes the
// order paid (CONTRACT §6: the orders service is the authority). It is one
// conditional write that a cancel or an expiry of the same order can beat,
// and whichever lands first wins:
//   - still payable and before expiresAt: the order becomes complete, with
//     order:completed naming the payment, which payments then captures;
//   - past expiresAt but not yet cancelled by the expiration service: expiry
//     is exact, so the order is cancelled now (order:cancelled), and payments
//     releases the authorization;
//   - already cancelled, or complete: nothing changes and nothing is emitted;
//     payments releases the authorization from the order:cancelled or
//     order:completed it gets (a complete order paid by another payment).
func (a *api) paymentAuthorized(ctx context.Context, e events.PaymentAuthorized) error {
	return a.onOrder(ctx, e.OrderID, func(o order.Order) error {
		if o.Status == order.Complete || o.Status == order.Cancelled {
			return nil
		}
		now := a.now()
		if !now.Before(o.ExpiresAt) {
			if _, err := a.cancelOrder(ctx, o); !errors.Is(err, errCompleted) {
				return err
			}
			return nil
		}
		paid := o
		paid.Status, paid.PaymentID, paid.Version = order.Complete, e.ID, o.Version+1
		ev, err := outbox.NewEvent(events.TopicOrderCompleted, paid.Completed())
		if err != nil {
			return err
		}
		if _, err := a.store.Pay(ctx, o, e.ID, now, ev); err != nil {
			return err // ErrConflict: cancelled, expired or paid meanwhile; decide again
		}
		return nil
	})
}
