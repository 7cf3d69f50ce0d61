// Package stanbus is the NATS Streaming transport of the event bus and the
// only importer of stan.go.
package stanbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/stan.go"

	"github.com/ticketing-go/ticketing/common/events"
)

// Config says where the bus is and who this replica is.
type Config struct {
	URL       string
	ClusterID string
	// ClientID must be unique per running replica (the pod name).
	ClientID string
	Log      *slog.Logger
	// PingInterval (whole seconds, at least 1) and PingMaxOut decide how
	// fast a lost server is noticed; stan's default takes minutes.
	PingInterval int
	PingMaxOut   int
}

// Bus is a NATS Streaming connection that reconnects and resubscribes by
// itself when the connection is lost.
type Bus struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	sc        stan.Conn // nil while disconnected
	subs      []stan.Subscription
	listeners []events.Listener
	closed    bool
	lastErr   error
	wg        sync.WaitGroup
}

var _ events.Bus = (*Bus)(nil)

// Connect connects, retrying with backoff until ctx ends: in a cluster the
// bus often starts after the services.
func Connect(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.PingInterval < 1 {
		cfg.PingInterval = 2
	}
	if cfg.PingMaxOut < 2 {
		cfg.PingMaxOut = 3
	}
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &Bus{cfg: cfg, ctx: bctx, cancel: cancel}
	sc, err := b.dial(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	b.sc = sc
	return b, nil
}

func (b *Bus) dial(ctx context.Context) (stan.Conn, error) {
	return backoff.Retry(ctx, func() (stan.Conn, error) {
		sc, err := stan.Connect(b.cfg.ClusterID, b.cfg.ClientID,
			stan.NatsURL(b.cfg.URL),
			stan.NatsOptions(nats.Name(b.cfg.ClientID), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond)),
			stan.ConnectWait(5*time.Second),
			stan.PubAckWait(10*time.Second),
			stan.Pings(b.cfg.PingInterval, b.cfg.PingMaxOut),
			stan.SetConnectionLostHandler(b.lost),
		)
		if err != nil {
			b.cfg.Log.Warn("event bus not reachable yet", "url", b.cfg.URL, "err", err)
		}
		return sc, err
	}, backoff.WithBackOff(&backoff.ExponentialBackOff{
		InitialInterval: 200 * time.Millisecond, RandomizationFactor: 0.3, Multiplier: 2, MaxInterval: 5 * time.Second,
	}), backoff.WithMaxElapsedTime(0))
}

// lost runs when stan gives the connection up (pings unanswered, or the
// server forgot this client). It flips readiness and reconnects.
func (b *Bus) lost(_ stan.Conn, reason error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.sc, b.subs, b.lastErr = nil, nil, reason
	b.wg.Add(1)
	b.mu.Unlock()
	b.cfg.Log.Warn("event bus connection lost, reconnecting", "err", reason)
	go func() {
		defer b.wg.Done()
		b.reconnect()
	}()
}

func (b *Bus) reconnect() {
	sc, err := b.dial(b.ctx)
	if err != nil {
		return // closed meanwhile
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = sc.Close()
		return
	}
	b.sc = sc
	for _, l := range b.listeners {
		sub, err := b.subscribe(sc, l)
		if err != nil {
			// Give up this connection and try again from the start.
			b.cfg.Log.Warn("resubscribing", "subject", l.Subject, "err", err)
			_ = sc.Close()
			b.sc, b.subs = nil, nil
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.reconnect()
			}()
			return
		}
		b.subs = append(b.subs, sub)
	}
	b.lastErr = nil
	b.cfg.Log.Info("event bus reconnected", "subscriptions", len(b.subs))
}

// Publish stores a message on the bus, returning once the server acked it.
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	b.mu.Lock()
	sc := b.sc
	b.mu.Unlock()
	if sc == nil {
		return errors.New("stanbus: not connected")
	}
	acked := make(chan error, 1)
	if _, err := sc.PublishAsync(subject, data, func(_ string, err error) { acked <- err }); err != nil {
		return fmt.Errorf("stanbus: publish %s: %w", subject, err)
	}
	select {
	case err := <-acked:
		if err != nil {
			return fmt.Errorf("stanbus: publish %s: %w", subject, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stanbus: publish %s: %w", subject, ctx.Err())
	}
}

// Subscribe starts a durable queue subscription for l (durable name = queue
// group, all available messages, manual acks) and keeps it across reconnects.
func (b *Bus) Subscribe(l events.Listener) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("stanbus: closed")
	}
	b.listeners = append(b.listeners, l)
	if b.sc == nil {
		return nil // the reconnect subscribes it
	}
	sub, err := b.subscribe(b.sc, l)
	if err != nil {
		return err
	}
	b.subs = append(b.subs, sub)
	return nil
}

func (b *Bus) subscribe(sc stan.Conn, l events.Listener) (stan.Subscription, error) {
	ackWait := l.AckWait
	if ackWait < time.Second {
		ackWait = time.Second // the server's minimum
	}
	sub, err := sc.QueueSubscribe(l.Subject, l.QueueGroup, func(m *stan.Msg) {
		ctx, cancel := context.WithTimeout(b.ctx, ackWait)
		defer cancel()
		err := l.Handler(ctx, events.Message{Subject: m.Subject, Data: m.Data, Sequence: m.Sequence, Redelivered: m.Redelivered})
		if err != nil {
			b.cfg.Log.Debug("event not acknowledged", "subject", m.Subject, "seq", m.Sequence, "err", err)
			return
		}
		if err := m.Ack(); err != nil {
			b.cfg.Log.Warn("ack failed", "subject", m.Subject, "seq", m.Sequence, "err", err)
		}
	}, stan.DurableName(l.QueueGroup), stan.DeliverAllAvailable(), stan.SetManualAckMode(), stan.AckWait(ackWait))
	if err != nil {
		return nil, fmt.Errorf("stanbus: subscribe %s/%s: %w", l.Subject, l.QueueGroup, err)
	}
	return sub, nil
}

// Ready reports an error while the connection is down.
func (b *Bus) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sc == nil || b.sc.NatsConn() == nil || !b.sc.NatsConn().IsConnected() {
		if b.lastErr != nil {
			return fmt.Errorf("event bus disconnected: %w", b.lastErr)
		}
		return errors.New("event bus disconnected")
	}
	return nil
}

// Close closes the subscriptions — Close, never Unsubscribe, so the durable
// queue groups keep their position — and the connection.
func (b *Bus) Close() error {
	b.mu.Lock()
	b.closed = true
	b.cancel()
	subs, sc := b.subs, b.sc
	b.subs, b.sc = nil, nil
	b.mu.Unlock()
	var errs []error
	for _, s := range subs {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if sc != nil {
		if err := sc.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	b.wg.Wait()
	return errors.Join(errs...)
}
