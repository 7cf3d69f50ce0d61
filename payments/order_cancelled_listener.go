package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/payments/payment"
)

// orderCancelled marks the replica cancelled, in version order, and lets go
// of any money the order's payment holds. A duplicate settles too: settling
// twice moves nothing twice.
func (a *api) orderCancelled(ctx context.Context, id bson.ObjectID, e events.OrderCancelled) error {
	if _, err := a.store.CancelOrder(ctx, id, e.Version); err != nil {
		return err
	}
	return a.settleListener(ctx, payment.Order{ID: id, Status: payment.Cancelled})
}
