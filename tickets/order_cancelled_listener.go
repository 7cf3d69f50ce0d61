package main

import (
	"context"
	"slices"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

// orderCancelled frees the ticket — but only if that very order still holds
// it. The original freed it unconditionally, so a late cancel of an old order
// released a ticket another order had reserved since.
//
// A cancel can also arrive before its order:created (the bus orders messages
// per subject only); then it is recorded, so that order never reserves.
func (l *listeners) orderCancelled(ctx context.Context, e events.OrderCancelled) error {
	return l.change(ctx, e.Ticket.ID, func(t ticket.Ticket) (bool, error) {
		if t.OrderID == e.ID {
			return true, nil
		}
		if slices.Contains(t.CancelledOrders, e.ID) {
			return false, nil
		}
		return false, l.tickets.RecordCancelled(ctx, t.ID, e.ID)
	}, func(t *ticket.Ticket) { t.OrderID = "" })
}
