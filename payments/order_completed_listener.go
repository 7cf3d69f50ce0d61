package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/payments/payment"
)

// orderCompleted captures the payment the orders service made the order
// paid by (or releases another one of the same order), and then records the
// order as complete in version order. Capture comes first because the
// buyer's request waits on it: the decision is final and named in the
// event, so it needs nothing from the replica; a failure of either step
// withholds the ack, and both are idempotent on redelivery.
func (a *api) orderCompleted(ctx context.Context, id bson.ObjectID, e events.OrderCompleted) error {
	if err := a.settleListener(ctx, payment.Order{ID: id, Status: payment.Complete, PaymentID: e.PaymentID}); err != nil {
		return err
	}
	_, err := a.store.CompleteOrder(ctx, id, e.Version, e.PaymentID)
	return err
}
