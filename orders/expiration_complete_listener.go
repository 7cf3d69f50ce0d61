package main

import (
	"context"
	"errors"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/orders/order"
)

// expirationComplete cancels the order if it is still waiting for payment.
// An order that is complete or already cancelled changes nothing and emits
// nothing (the original cancelled even those).
func (a *api) expirationComplete(ctx context.Context, e events.ExpirationComplete) error {
	return a.onOrder(ctx, e.OrderID, func(o order.Order) error {
		if _, err := a.cancelOrder(ctx, o); !errors.Is(err, errCompleted) {
			return err
		}
		return nil
	})
}
