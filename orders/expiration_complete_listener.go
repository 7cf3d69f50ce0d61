package main

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/orders/order"
)

// expirationComplete cancels the order if it is still waiting for payment.
// An order that is complete or already cancelled changes nothing and emits
// nothing (the original cancelled even those).
func (a *api) expirationComplete(ctx context.Context, e events.ExpirationComplete) error {
	id, err := bson.ObjectIDFromHex(e.OrderID)
	if err != nil {
		return nil
	}
	o, err := a.store.Order(ctx, id)
	if errors.Is(err, order.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := a.cancelOrder(ctx, o); err != nil && !errors.Is(err, errCompleted) {
		return err
	}
	return nil
}
