package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ticketing-go/ticketing/common/lease"
	"github.com/ticketing-go/ticketing/common/loop"
	"github.com/ticketing-go/ticketing/expiration/timer"
)

// scheduler fires timers when they fall due. It sleeps until the earliest
// one, wakes early when a new timer is scheduled, and looks again at least
// every maxSleep — other replicas may have added timers it was not told of.
// Once a minute it deletes the timers that fired more than retain ago. Only
// the replica holding the firing lease fires and purges: the others would
// only race it for the same timers (each fire is conditional anyway).
type scheduler struct {
	store     *timer.Store
	lease     *lease.Lease
	log       *slog.Logger
	wake      chan struct{}
	maxSleep  time.Duration
	retain    time.Duration
	lastPurge time.Time
}

const purgeEvery = time.Minute

// firingLease is how long the firing lease lasts after each tick renews
// it: a replica that died is replaced by another's scheduler after this.
const firingLease = 10 * time.Second

func newScheduler(store *timer.Store, l *lease.Lease, log *slog.Logger, retain time.Duration) *scheduler {
	return &scheduler{store: store, lease: l, log: log, wake: make(chan struct{}, 1), maxSleep: time.Second, retain: retain}
}

// Wake makes the scheduler look again now.
func (s *scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) run(ctx context.Context) error { return loop.Run(ctx, 0, s.wake, s.tick) }

// tick fires what is due (overdue ones at once after a restart) and returns
// how long to sleep.
func (s *scheduler) tick(ctx context.Context) time.Duration {
	if held, err := s.lease.Hold(ctx); !held || err != nil {
		if err != nil {
			s.log.Warn("taking the firing lease", "err", err)
		}
		return s.maxSleep
	}
	if _, err := s.store.FireDue(ctx, time.Now()); err != nil {
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
