package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/orders/order"
)

func (a *api) cancel(c *gin.Context) error {
	o, err := a.owned(c)
	if err != nil {
		return err
	}
	switch _, err := a.cancelOrder(c, o); {
	case errors.Is(err, errCompleted):
		return apperr.BadRequest("Cannot cancel a completed order")
	case err != nil:
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

var errCompleted = errors.New("order is complete")

// cancelOrder cancels o with its order:cancelled event and frees its ticket.
// Cancelling a cancelled order changes nothing and emits nothing (it reports
// false); a complete one is errCompleted. A concurrent change is re-read and
// decided again, so the answer always reflects the stored state.
func (a *api) cancelOrder(ctx context.Context, o order.Order) (bool, error) {
	for {
		switch {
		case o.Status == order.Cancelled:
			return false, nil
		case o.Status == order.Complete:
			return false, errCompleted
		}
		next := o
		next.Status, next.Version = order.Cancelled, o.Version+1
		ev, err := outbox.NewEvent(events.TopicOrderCancelled, next.Cancelled())
		if err != nil {
			return false, err
		}
		_, err = a.store.Transition(ctx, o, order.Cancelled, &ev)
		if errors.Is(err, order.ErrConflict) {
			if o, err = a.store.Order(ctx, o.ID); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		// The order is cancelled either way; a failed release leaves a claim
		// of a cancelled order, which the next order takes over.
		_ = a.store.Release(ctx, o.TicketID, o.ID)
		return true, nil
	}
}
