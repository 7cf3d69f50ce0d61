package main

import (
	"context"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

// orderCancelled frees the ticket — but only if that very order still holds
// it. The original freed it unconditionally, so a late cancel of an old order
// released a ticket another order had reserved since.
func (l *listeners) orderCancelled(ctx context.Context, e events.OrderCancelled) error {
	return l.change(ctx, e.Ticket.ID, func(t ticket.Ticket) (bool, error) {
		return t.OrderID == e.ID, nil
	}, func(t *ticket.Ticket) { t.OrderID = "" })
}
