package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/payments/payment"
)

// orderCompleted records that the orders service made the order paid by
// e.PaymentID, in version order, and captures that payment (or releases
// another one of the same order).
func (a *api) orderCompleted(ctx context.Context, e events.OrderCompleted) error {
	id, err := bson.ObjectIDFromHex(e.ID)
	if err != nil {
		return nil
	}
	if _, err := a.store.CompleteOrder(ctx, id, e.Version, e.PaymentID); err != nil {
		return err
	}
	return a.settleListener(ctx, payment.Order{ID: id, Status: payment.Complete, PaymentID: e.PaymentID})
}
