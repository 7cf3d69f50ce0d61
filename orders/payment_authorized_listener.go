package main

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

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
	id, err := bson.ObjectIDFromHex(e.OrderID)
	if err != nil {
		return nil
	}
	for {
		o, err := a.store.Order(ctx, id)
		if errors.Is(err, order.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if o.Status == order.Complete || o.Status == order.Cancelled {
			return nil
		}
		now := a.now()
		if !now.Before(o.ExpiresAt) {
			_, err := a.cancelOrder(ctx, o)
			if errors.Is(err, errCompleted) {
				return nil
			}
			return err
		}
		paid := o
		paid.Status, paid.PaymentID, paid.Version = order.Complete, e.ID, o.Version+1
		ev, err := outbox.NewEvent(events.SubjectOrderCompleted, paid.Completed())
		if err != nil {
			return err
		}
		_, err = a.store.Pay(ctx, o, e.ID, now, ev)
		if errors.Is(err, order.ErrConflict) {
			continue // cancelled, expired or paid meanwhile: decide again
		}
		if err != nil {
			return err
		}
		a.relay.Kick(o.ID)
		return nil
	}
}
