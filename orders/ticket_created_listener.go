package main

import (
	"context"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/replica"
	"github.com/ticketing-go/ticketing/orders/order"
)

func (a *api) listeners(ackWait time.Duration, log *slog.Logger) []events.Listener {
	return []events.Listener{
		events.On(events.TopicTicketCreated, events.GroupOrders, ackWait, log, replica.ByID(a.ticketCreated)),
		events.On(events.TopicTicketUpdated, events.GroupOrders, ackWait, log, replica.ByID(a.ticketUpdated)),
		events.On(events.TopicExpirationComplete, events.GroupOrders, ackWait, log, a.expirationComplete),
		events.On(events.TopicPaymentCreated, events.GroupOrders, ackWait, log, a.paymentCreated),
		events.On(events.TopicPaymentAuthorized, events.GroupOrders, ackWait, log, a.paymentAuthorized),
	}
}

// ticketCreated adds the ticket to the replica (a duplicate is ignored).
func (a *api) ticketCreated(ctx context.Context, id bson.ObjectID, e events.TicketCreated) error {
	_, err := a.store.CreateTicket(ctx, order.Ticket{ID: id, Title: e.Title, Price: e.Price, Version: e.Version, UserID: e.UserID})
	return err
}
