package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/expiration/timer"
)

type listeners struct {
	store *timer.Store
	sched *scheduler
}

func (l *listeners) all(ackWait time.Duration, log *slog.Logger) []events.Listener {
	return []events.Listener{
		events.On(events.TopicOrderCreated, events.GroupExpiration, ackWait, log, l.orderCreated),
		events.On(events.TopicOrderCancelled, events.GroupExpiration, ackWait, log, l.orderCancelled),
	}
}

// orderCreated schedules the order's expiration; it is acknowledged only
// once the timer is stored, so it cannot be lost.
func (l *listeners) orderCreated(ctx context.Context, e events.OrderCreated) error {
	if err := l.store.Schedule(ctx, timer.Timer{OrderID: e.ID, ExpiresAt: e.ExpiresAt}); err != nil {
		return err
	}
	l.sched.Wake()
	return nil
}
