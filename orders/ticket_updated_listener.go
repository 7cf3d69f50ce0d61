package main

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/orders/order"
)

// ticketUpdated moves the replica to the event's version if it is the next
// one; a duplicate is acknowledged, one that skips ahead is not (replica
// returns ErrAhead) and comes back after the ones before it.
func (a *api) ticketUpdated(ctx context.Context, id bson.ObjectID, e events.TicketUpdated) error {
	_, err := a.store.UpdateTicket(ctx, order.Ticket{ID: id, Title: e.Title, Price: e.Price, Version: e.Version, UserID: e.UserID})
	return err
}
