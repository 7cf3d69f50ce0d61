package main

import (
	"context"

	"github.com/ticketing-go/ticketing/common/events"
)

// orderCancelled removes the pending timer: a cancelled order needs no
// expiration (orders would ignore it anyway).
func (l *listeners) orderCancelled(ctx context.Context, e events.OrderCancelled) error {
	return l.store.Cancel(ctx, e.ID)
}
