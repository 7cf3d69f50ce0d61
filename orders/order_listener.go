package main

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/orders/order"
)

// onOrder runs decide on the order an event names, and again on a fresh read
// whenever decide reports order.ErrConflict (someone changed the order
// between the read and decide's conditional write). An id that is malformed
// or unknown is acknowledged: nothing can make it one of ours.
func (a *api) onOrder(ctx context.Context, hex string, decide func(order.Order) error) error {
	id, err := bson.ObjectIDFromHex(hex)
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
		if err := decide(o); !errors.Is(err, order.ErrConflict) {
			return err
		}
	}
}
