// Package stanbus is the NATS Streaming transport of the event bus and the
// only importer of stan.go.
//
// stan.go neither retries a connect nor restores a lost session, so this
// package does both: Connect retries with backoff, and when stan declares the
// session lost (pings unanswered, or a restarted server no longer knows this
// client) a supervisor reconnects with backoff and resubscribes every
// listener. Short outages need none of that: the NATS connection reconnects by
// itself and the server keeps the session.
package stanbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/stan.go"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/internal/dispatch"
)

// Config says where the bus is and who this replica is.
type Config struct {
	URL       string
	ClusterID string
	// ClientID must be unique per running replica (the pod name): the
	// server refuses a second live connection with the same id.
	ClientID string
	Log      *slog.Logger
	// AckWait is the default for listeners that set none (5s when zero).
	AckWait time.Duration
	// PingInterval (whole seconds, at least 1; default 2) and PingMaxOut
	// (at least 2; default 3) decide how fast a lost server is noticed;
	// stan's defaults take minutes.
	PingInterval int
	PingMaxOut   int
	// ReconnectWait is the longest pause between connection attempts
	// (default 2s); tests shorten it.
	ReconnectWait time.Duration
	// User and Password authenticate the NATS connection (both or neither).
	User, Password string
}

// ErrLost is wrapped by Ready while the session is lost and being
// re-established (as opposed to a NATS connection that is reconnecting).
var ErrLost = errors.New("streaming session lost")

// clientIDs are what the server accepts.
var clientIDs = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Bus is a NATS Streaming connection that reconnects and resubscribes by
// itself when the session is lost.
type Bus struct {
	cfg      Config
	log      *slog.Logger
	ctx      context.Context // ends at Close: stops reconnect attempts
	cancel   context.CancelFunc
	lostCh   chan struct{} // wakes the supervisor
	done     chan struct{} // closed when the supervisor has stopped
	handlers dispatch.Gate

	mu        sync.Mutex
	sc        stan.Conn // nil while the session is lost
	lostErr   error
	listeners []*listener
	closed    bool
}

type listener struct {
	events.Listener
	ackWait time.Duration
	sub     stan.Subscription // nil until subscribed on the current session
}

var _ events.Bus = (*Bus)(nil)

// Connect connects, retrying with backoff until ctx ends: in a cluster the
// bus often starts after the services.
func Connect(ctx context.Context, cfg Config) (*Bus, error) {
	if !clientIDs.MatchString(cfg.ClientID) {
		return nil, fmt.Errorf("stanbus: client id %q: use letters, digits, - and _", cfg.ClientID)
	}
	if cfg.PingInterval < 1 {
		cfg.PingInterval = 2
	}
	if cfg.PingMaxOut < 2 {
		cfg.PingMaxOut = 3
	}
	if cfg.ReconnectWait <= 0 {
		cfg.ReconnectWait = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{cfg: cfg, log: cfg.Log.With("bus", "stan"), lostCh: make(chan struct{}, 1), done: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := b.establish(ctx); err != nil {
		b.cancel()
		return nil, err
	}
	go b.supervise()
	return b, nil
}

// establish connects and subscribes every listener, retrying until it
// succeeds or ctx ends.
func (b *Bus) establish(ctx context.Context) error {
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		sc, err := b.dial(ctx)
		if err != nil {
			return struct{}{}, backoff.Permanent(err)
		}
		return struct{}{}, b.attach(sc)
	}, dispatch.Retry(b.cfg.ReconnectWait), backoff.WithMaxElapsedTime(0))
	return err
}

// dial connects with backoff until it succeeds or ctx ends.
// userInfo authenticates the connection when a user is configured.
func (b *Bus) userInfo() nats.Option {
	if b.cfg.User == "" {
		return func(*nats.Options) error { return nil }
	}
	return nats.UserInfo(b.cfg.User, b.cfg.Password)
}

func (b *Bus) dial(ctx context.Context) (stan.Conn, error) {
	sc, err := backoff.Retry(ctx, func() (stan.Conn, error) {
		return stan.Connect(b.cfg.ClusterID, b.cfg.ClientID,
			stan.NatsURL(b.cfg.URL),
			stan.NatsOptions(nats.Name(b.cfg.ClientID), nats.ReconnectWait(b.cfg.ReconnectWait), b.userInfo()),
			stan.PubAckWait(10*time.Second),
			stan.Pings(b.cfg.PingInterval, b.cfg.PingMaxOut),
			stan.SetConnectionLostHandler(b.lost),
		)
	}, dispatch.Retry(b.cfg.ReconnectWait), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		b.log.Warn("event bus not reachable yet", "url", b.cfg.URL, "err", err, "retry_in", next)
	}))
	if err != nil {
		return nil, fmt.Errorf("stanbus: connect %s: %w", b.cfg.URL, err)
	}
	return sc, nil
}

// lost runs when stan gives the session up. It flips readiness and wakes the
// supervisor.
func (b *Bus) lost(sc stan.Conn, reason error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || sc != b.sc {
		return // closing, or a session that never became current
	}
	b.sc, b.lostErr = nil, reason
	for _, l := range b.listeners {
		l.sub = nil
	}
	b.log.Warn("event bus session lost, reconnecting", "err", reason)
	select {
	case b.lostCh <- struct{}{}:
	default:
	}
}

// supervise re-establishes the session each time it is lost.
func (b *Bus) supervise() {
	defer close(b.done)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.lostCh:
		}
		if err := b.establish(b.ctx); err == nil {
			b.log.Info("event bus session re-established")
		}
	}
}

// attach makes sc the current session and resubscribes every listener on it;
// on failure sc is closed and the caller retries.
func (b *Bus) attach(sc stan.Conn) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = sc.Close()
		return backoff.Permanent(events.ErrClosed)
	}
	// stan marks a session closed before calling the lost handler, which
	// ignores sessions that are not current yet: catch that case here.
	if sc.NatsConn() == nil {
		return ErrLost
	}
	for _, l := range b.listeners {
		sub, err := b.subscribe(sc, l)
		if err != nil {
			b.log.Warn("resubscribing", "subject", l.Subject, "group", l.QueueGroup, "err", err)
			for _, l := range b.listeners {
				l.sub = nil
			}
			_ = sc.Close()
			return err
		}
		l.sub = sub
	}
	b.sc, b.lostErr = sc, nil
	return nil
}

// Publish stores a message on the bus, returning once the server acked it.
// NATS Streaming has no message headers, so a request id in ctx is not
// carried (JetStream carries it; the payload stays exactly the contract's).
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if !events.Known(subject) {
		return fmt.Errorf("stanbus: unknown subject %q", subject)
	}
	b.mu.Lock()
	sc, closed := b.sc, b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return events.ErrClosed
	case sc == nil:
		return fmt.Errorf("stanbus: publish %s: %w: %w", subject, events.ErrUnavailable, ErrLost)
	}
	acked := make(chan error, 1)
	// While NATS reconnects, stan.go has no reconnect buffer, so this fails
	// at once rather than sending a message the caller was told had failed.
	if _, err := sc.PublishAsync(subject, data, func(_ string, err error) { acked <- err }); err != nil {
		return fmt.Errorf("stanbus: publish %s: %w: %w", subject, events.ErrUnavailable, err)
	}
	select {
	case err := <-acked:
		if err != nil {
			return fmt.Errorf("stanbus: publish %s: %w: %w", subject, events.ErrUnavailable, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stanbus: publish %s: %w", subject, ctx.Err())
	}
}

// Subscribe starts a durable queue subscription for l (durable name = queue
// group, all available messages, manual acks) and keeps it across
// reconnects. While the session is lost it only registers l; the
// re-established session subscribes it.
func (b *Bus) Subscribe(l events.Listener) error {
	if err := l.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return events.ErrClosed
	}
	if slices.ContainsFunc(b.listeners, func(o *listener) bool { return o.Subject == l.Subject && o.QueueGroup == l.QueueGroup }) {
		return fmt.Errorf("stanbus: %s already subscribed for %s", l.Subject, l.QueueGroup)
	}
	ls := &listener{Listener: l, ackWait: dispatch.AckWait(l, b.cfg.AckWait)}
	if b.sc != nil {
		sub, err := b.subscribe(b.sc, ls)
		if err != nil {
			return err
		}
		ls.sub = sub
	}
	b.listeners = append(b.listeners, ls)
	return nil
}

func (b *Bus) subscribe(sc stan.Conn, l *listener) (stan.Subscription, error) {
	sub, err := sc.QueueSubscribe(l.Subject, l.QueueGroup, func(m *stan.Msg) { b.deliver(l, m) },
		stan.DurableName(l.QueueGroup), stan.DeliverAllAvailable(), stan.SetManualAckMode(), stan.AckWait(l.ackWait))
	if err != nil {
		return nil, fmt.Errorf("stanbus: subscribe %s/%s: %w", l.Subject, l.QueueGroup, err)
	}
	return sub, nil
}

func (b *Bus) deliver(l *listener, m *stan.Msg) {
	if !b.handlers.Enter() {
		return // closing: left unacknowledged, so it is redelivered
	}
	defer b.handlers.Leave()
	// NATS Streaming messages have no headers: no request id comes with
	// them, and the handler's context carries none.
	err := dispatch.Call(context.Background(), l.Handler, l.ackWait, events.Message{Subject: m.Subject, Data: m.Data, Sequence: m.Sequence, Redelivered: m.Redelivered})
	if err != nil {
		b.log.Warn("event not acknowledged", "subject", m.Subject, "group", l.QueueGroup, "seq", m.Sequence, "err", err)
		return
	}
	if err := m.Ack(); err != nil {
		b.log.Warn("ack failed", "subject", m.Subject, "group", l.QueueGroup, "seq", m.Sequence, "err", err)
	}
}

// Ready reports an error while the session is lost or the NATS connection is
// down.
func (b *Bus) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return events.ErrClosed
	case b.sc == nil:
		return fmt.Errorf("stanbus: %w: %w: %v", events.ErrUnavailable, ErrLost, b.lostErr)
	}
	if nc := b.sc.NatsConn(); nc == nil || !nc.IsConnected() {
		return fmt.Errorf("stanbus: %w: reconnecting", events.ErrUnavailable)
	}
	return nil
}

// Close waits for running handlers (so their acks are sent), then closes the
// subscriptions — Close, never Unsubscribe, so the durable queue groups keep
// their position — and the connection.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	<-b.done
	b.handlers.Close()

	b.mu.Lock()
	sc, listeners := b.sc, b.listeners
	b.sc, b.listeners = nil, nil
	b.mu.Unlock()
	if sc == nil {
		return nil
	}
	var errs []error
	if nc := sc.NatsConn(); nc != nil && nc.IsConnected() {
		// The acks just sent must reach the server before the subscriptions
		// close, or their messages would come back.
		_ = nc.FlushTimeout(time.Second)
		for _, l := range listeners {
			if l.sub != nil {
				errs = append(errs, l.sub.Close())
			}
		}
	}
	errs = append(errs, sc.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stanbus: close: %w", err)
	}
	return nil
}
