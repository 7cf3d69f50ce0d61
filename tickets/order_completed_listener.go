package main

import (
	"context"
	"errors"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

// errNotYetReserved: order:completed overtook its order:created (subjects
// are not ordered among themselves). Not acknowledging brings it back after
// the reservation.
var errNotYetReserved = errors.New("ticket is not reserved by the completed order yet")

// orderCompleted marks the ticket sold. It is a change of the ticket, so it
// takes the next version and announces it with a ticket:updated that keeps
// the orderId: the orders replica applies it as a no-op, and every version
// of a ticket is still announced exactly once (docs/contract.md, "Tickets" and "Events").
func (l *listeners) orderCompleted(ctx context.Context, e events.OrderCompleted) error {
	return l.change(ctx, e.Ticket.ID, func(t ticket.Ticket) (bool, error) {
		switch {
		case t.OrderID == e.ID:
			return !t.Sold, nil // sold already: a duplicate
		case t.Sold:
			return false, nil // sold by another order: nothing of ours to do
		default:
			return false, errNotYetReserved
		}
	}, func(t *ticket.Ticket) { t.Sold = true })
}
