package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/expiration/timer"
)

// scheduler fires timers when they fall due. It sleeps until the earliest
// one, wakes early when a new timer is scheduled, and looks again at least
// every maxSleep — other replicas may have added timers it was not told of.
// Once a minute it deletes the timers that fired more than retain ago.
type scheduler struct {
	store     *timer.Store
	relay     *outbox.Relay
	log       *slog.Logger
	wake      chan struct{}
	maxSleep  time.Duration
	retain    time.Duration
	lastPurge time.Time
}

const purgeEvery = time.Minute

func newScheduler(store *timer.Store, relay *outbox.Relay, log *slog.Logger, retain time.Duration) *scheduler {
	return &scheduler{store: store, relay: relay, log: log, wake: make(chan struct{}, 1), maxSleep: time.Second, retain: retain}
}

// Wake makes the scheduler look again now.
func (s *scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		sleep := s.tick(ctx)
		t.Stop()
		t.Reset(sleep)
	}
}

// tick fires what is due (overdue ones at once after a restart) and returns
// how long to sleep.
func (s *scheduler) tick(ctx context.Context) time.Duration {
	fired, err := s.store.FireDue(ctx, time.Now())
	if len(fired) > 0 {
		s.relay.Kick(fired...)
	}
	if err != nil {
		s.log.Warn("firing due expirations", "err", err)
		return s.maxSleep
	}
	if now := time.Now(); now.Sub(s.lastPurge) >= min(purgeEvery, s.retain) {
		s.lastPurge = now
		if _, err := s.store.Purge(ctx, now.Add(-s.retain)); err != nil {
			s.log.Warn("purging fired expirations", "err", err)
		}
	}
	next, ok, err := s.store.Next(ctx)
	if err != nil {
		s.log.Warn("finding the next expiration", "err", err)
		return s.maxSleep
	}
	if !ok {
		return s.maxSleep
	}
	return min(max(time.Until(next), 0), s.maxSleep)
}
