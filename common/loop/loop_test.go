package loop

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// within fails the test unless ch delivers before the deadline.
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
}

func TestRunRepeatsAfterTheWaitEachPassReturns(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	passes := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, 0, nil, func(context.Context) time.Duration {
			passes <- struct{}{}
			return time.Millisecond
		})
	}()
	for i := range 3 {
		within(t, passes, fmt.Sprintf("pass %d", i+1))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v when its context ended, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return when its context ended")
	}
}

func TestRunWakesEarly(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	wake := make(chan struct{})
	passes := make(chan struct{}, 10)
	var n atomic.Int32
	go func() {
		_ = Run(ctx, time.Hour, wake, func(context.Context) time.Duration {
			n.Add(1)
			passes <- struct{}{}
			return time.Hour
		})
	}()
	for i := range 2 {
		select {
		case wake <- struct{}{}: // the loop is waiting, an hour away from its pass
		case <-time.After(5 * time.Second):
			t.Fatalf("wake %d not taken", i+1)
		}
		within(t, passes, "pass after a wake")
	}
	if got := n.Load(); got != 2 {
		t.Fatalf("%d passes after 2 wakes", got)
	}
}

func TestEveryWaitsAnIntervalBeforeEachPass(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const interval = 20 * time.Millisecond
	prev := time.Now()
	passes := make(chan time.Time, 10)
	go func() {
		_ = Every(ctx, interval, func(context.Context) { passes <- time.Now() })
	}()
	for i := range 3 {
		select {
		case at := <-passes:
			if gap := at.Sub(prev); gap < interval {
				t.Fatalf("pass %d came %v after the previous one (or the start), want at least %v", i+1, gap, interval)
			}
			prev = at
		case <-time.After(5 * time.Second):
			t.Fatalf("no pass %d within 5s", i+1)
		}
	}
}

func TestRunStopsWithoutAPassWhenCancelledFirst(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	if err := Run(ctx, time.Hour, nil, func(context.Context) time.Duration { called = true; return 0 }); err != nil || called {
		t.Fatalf("Run on an ended context: err %v, pass called %v", err, called)
	}
}
