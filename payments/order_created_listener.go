package main

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/replica"
	"github.com/ticketing-go/ticketing/payments/payment"
)

func (a *api) listeners(ackWait time.Duration, log *slog.Logger) []events.Listener {
	return []events.Listener{
		events.On(events.TopicOrderCreated, events.GroupPayments, ackWait, log, replica.ByID(a.orderCreated)),
		events.On(events.TopicOrderCancelled, events.GroupPayments, ackWait, log, replica.ByID(a.orderCancelled)),
		events.On(events.TopicOrderCompleted, events.GroupPayments, ackWait, log, replica.ByID(a.orderCompleted)),
	}
}

// orderCreated adds the order to the replica with the price to charge.
func (a *api) orderCreated(ctx context.Context, id bson.ObjectID, e events.OrderCreated) error {
	_, err := a.store.CreateOrder(ctx, payment.Order{ID: id, Version: e.Version, Status: e.Status, UserID: e.UserID,
		Price: e.Ticket.Price, ExpiresAt: e.ExpiresAt})
	return err
}
