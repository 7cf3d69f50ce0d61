package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

type listeners struct {
	tickets ticket.Store
}

func (l *listeners) all(ackWait time.Duration, log *slog.Logger) []events.Listener {
	return []events.Listener{
		events.On(events.TopicOrderCreated, events.GroupTickets, ackWait, log, l.orderCreated),
		events.On(events.TopicOrderCancelled, events.GroupTickets, ackWait, log, l.orderCancelled),
		events.On(events.TopicOrderCompleted, events.GroupTickets, ackWait, log, l.orderCompleted),
	}
}

// errHeld: another order still holds the ticket — its order:cancelled has not
// arrived yet. Not acknowledging makes the bus retry after it.
var errHeld = errors.New("ticket is held by another order")

// orderCreated reserves the ticket for the order (version + 1, and a
// ticket:updated with the orderId).
func (l *listeners) orderCreated(ctx context.Context, e events.OrderCreated) error {
	return l.change(ctx, e.Ticket.ID, func(t ticket.Ticket) (bool, error) {
		if slices.Contains(t.CancelledOrders, e.ID) {
			return false, nil // cancelled before it got here
		}
		switch t.OrderID {
		case e.ID:
			return false, nil // a duplicate: already reserved by this order
		case "":
			return true, nil
		default:
			return false, errHeld
		}
	}, func(t *ticket.Ticket) { t.OrderID = e.ID })
}

// change applies fn to the ticket when want says so, as one versioned write
// with its ticket:updated event; a concurrent edit is re-read and retried.
func (l *listeners) change(ctx context.Context, hexID string, want func(ticket.Ticket) (bool, error), fn func(*ticket.Ticket)) error {
	id, err := bson.ObjectIDFromHex(hexID)
	if err != nil {
		return nil // cannot refer to any ticket of ours: nothing to do
	}
	for range 5 {
		t, err := l.tickets.Get(ctx, id)
		if errors.Is(err, ticket.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		ok, err := want(t)
		if errors.Is(err, ticket.ErrConflict) {
			continue // it changed under us: decide again on a fresh read
		}
		if !ok || err != nil {
			return err
		}
		next := t.Next(fn)
		ev, err := outbox.NewEvent(events.TopicTicketUpdated, next.Updated())
		if err != nil {
			return err
		}
		err = l.tickets.Save(ctx, next, ev)
		if errors.Is(err, ticket.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("ticket %s keeps changing; retrying later", hexID)
}
