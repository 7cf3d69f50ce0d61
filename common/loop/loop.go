// Package loop runs a background pass again and again until its context
// ends: the shape of the services' periodic work (expiration's scheduler,
// payments' repair), written once so the timer's stop-and-reset and the
// early wake-up are not re-done, slightly differently, by each.
package loop

import (
	"context"
	"time"
)

// Run calls pass once first has passed, and then again each time the wait
// that pass returned has passed (counted from the end of the pass, so a slow
// pass is never followed by a second one at once), or sooner when wake
// delivers; wake may be nil. It returns nil when ctx ends, the way a task of
// service.Run stops.
func Run(ctx context.Context, first time.Duration, wake <-chan struct{}, pass func(context.Context) time.Duration) error {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-wake:
		}
		next := pass(ctx)
		// Since Go 1.23 Reset on a timer that fired or was stopped drops
		// any stale value: after a wake the next pass is not doubled.
		t.Reset(next)
	}
}

// Every is Run for a pass at a fixed interval, the first one interval after
// the start.
func Every(ctx context.Context, interval time.Duration, pass func(context.Context)) error {
	return Run(ctx, interval, nil, func(ctx context.Context) time.Duration {
		pass(ctx)
		return interval
	})
}
