// Package dispatch is what both transports do the same way around a
// listener's handler, so they cannot drift apart: the handler's deadline,
// panics as failures, waiting for running handlers on close, and the retry
// schedule for (re)connecting.
package dispatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/ticketing-go/ticketing/common/events"
)

// DefaultAckWait is used when neither the listener nor the bus sets one.
const DefaultAckWait = 5 * time.Second

// AckWait picks the listener's ack wait, else the bus default.
func AckWait(l events.Listener, busDefault time.Duration) time.Duration {
	switch {
	case l.AckWait > 0:
		return l.AckWait
	case busDefault > 0:
		return busDefault
	}
	return DefaultAckWait
}

// Gate counts running handlers so Close can wait for them: a handler that
// finishes can still acknowledge, instead of its message coming back to
// another replica after the ack wait.
type Gate struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Enter reports whether a handler may start; after Close it may not, and the
// message is left unacknowledged for redelivery.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

// Leave ends a handler started by Enter.
func (g *Gate) Leave() { g.wg.Done() }

// Close refuses new handlers and waits for the running ones.
func (g *Gate) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}

// Call runs h with a deadline of ackWait (after it the message is
// redelivered anyway) and turns a panic into an error, so one bad message
// cannot take the service down. ctx carries what the transport read from
// the message (its request id).
func Call(ctx context.Context, h events.Handler, ackWait time.Duration, m events.Message) (err error) {
	ctx, cancel := context.WithTimeout(ctx, ackWait)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, m)
}

// Retry is the schedule for connecting and reconnecting: quick first tries,
// so a restarted server is found fast, growing to at most max between tries.
func Retry(max time.Duration) backoff.RetryOption {
	return backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: min(100*time.Millisecond, max), RandomizationFactor: 0.3, Multiplier: 2, MaxInterval: max,
	})
}
