package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
)

// orderCancelled marks the replica cancelled, in version order.
func (a *api) orderCancelled(ctx context.Context, e events.OrderCancelled) error {
	id, err := bson.ObjectIDFromHex(e.ID)
	if err != nil {
		return nil
	}
	_, err = a.store.CancelOrder(ctx, id, e.Version)
	return err
}
