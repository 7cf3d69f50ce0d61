// Package jsbus is the JetStream transport of the event bus and the only
// importer of nats.go/jetstream.
//
// It keeps NATS Streaming's semantics: one stream holds the six subjects
// (NATS subjects may contain ':', so they are used as they are) with Limits
// retention, so every service's consumer sees every message whenever it
// subscribes; each (queue group, subject) pair is one durable pull consumer
// with explicit acks, the listener's ack wait and unlimited redelivery,
// starting from the first message. Replicas of a service pull from the same
// consumer, which shares the work between them.
package jsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/internal/dispatch"
	"github.com/ticketing-go/ticketing/common/logging"
)

// DefaultStream is the stream that holds every subject.
const DefaultStream = "TICKETING"

// Config says where the bus is and who this replica is.
type Config struct {
	URL string
	// ClientID names the connection (the pod name); JetStream does not
	// need it to be unique, but logs and monitoring are clearer if it is.
	ClientID string
	Log      *slog.Logger
	// AckWait is the default for listeners that set none (5s when zero).
	AckWait time.Duration
	// Stream defaults to DefaultStream.
	Stream string
	// StreamFile, when set, is the JSON definition (JetStream's API form)
	// of the stream to create when it does not exist yet: its replicas and
	// limits. Without it the stream is created with one replica and no
	// limits (a development server). An existing stream is never changed,
	// so services cannot undo the operator's limits.
	StreamFile string
	// User and Password authenticate the connection (both or neither).
	// With a user, replies and pulled messages come to the inbox prefix
	// _INBOX_<user>, so the server can let each service subscribe only to
	// its own inboxes.
	User, Password string
	// ReconnectWait is the longest pause between connection attempts
	// (default 2s); tests shorten it.
	ReconnectWait time.Duration
}

// Bus is a JetStream connection. NATS reconnects by itself; after each
// reconnect the bus makes sure the stream and its consumers still exist (a
// server that lost its store gets them back) and restarts any consumption
// that stopped.
type Bus struct {
	cfg      Config
	stream   jetstream.StreamConfig // created when missing
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	kick     chan struct{} // wakes the supervisor
	done     chan struct{} // closed when the supervisor has stopped
	handlers dispatch.Gate

	setup sync.Mutex // serializes consumer set-up by Subscribe and the supervisor

	mu        sync.Mutex
	listeners []*listener
	settled   bool // stream and consumers checked since the last reconnect
	closed    bool
}

type listener struct {
	events.Listener
	ackWait time.Duration
	cc      jetstream.ConsumeContext // nil until consuming
	// created is when the consumer cc pulls from was created: a consumer of
	// the same name created later (the stream was deleted and declared
	// again) gets none of cc's pull requests, so consumption restarts.
	created time.Time
}

var _ events.Bus = (*Bus)(nil)

// Connect connects and declares the stream, retrying with backoff until ctx
// ends: in a cluster the bus often starts after the services.
func Connect(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.ReconnectWait <= 0 {
		cfg.ReconnectWait = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	stream, err := streamConfig(cfg)
	if err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg, stream: stream, log: cfg.Log.With("bus", "jetstream"), kick: make(chan struct{}, 1), done: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	auth := []nats.Option{}
	if cfg.User != "" {
		auth = append(auth, nats.UserInfo(cfg.User, cfg.Password), nats.CustomInboxPrefix("_INBOX_"+cfg.User))
	}
	nc, err := backoff.Retry(ctx, func() (*nats.Conn, error) {
		nc, err := nats.Connect(cfg.URL, append(auth,
			nats.Name(cfg.ClientID),
			nats.MaxReconnects(-1),
			nats.ReconnectWait(cfg.ReconnectWait),
			// Fail publishes while disconnected instead of buffering them:
			// the caller was told they failed and will publish again.
			nats.ReconnectBufSize(-1),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil { // nil: our own Close
					b.log.Warn("event bus disconnected", "err", err)
				}
			}),
			nats.ReconnectHandler(func(*nats.Conn) {
				b.log.Info("event bus reconnected")
				b.unsettle()
			}),
		)...)
		if err != nil {
			return nil, err
		}
		b.nc, b.js = nc, mustJetStream(nc)
		if err := b.ensureStream(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		return nc, nil
	}, dispatch.Retry(cfg.ReconnectWait), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		b.log.Warn("event bus not reachable yet", "url", cfg.URL, "err", err, "retry_in", next)
	}))
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("jsbus: connect %s: %w", cfg.URL, err)
	}
	b.nc, b.settled = nc, true
	go b.supervise()
	return b, nil
}

func mustJetStream(nc *nats.Conn) jetstream.JetStream {
	js, err := jetstream.New(nc)
	if err != nil {
		panic(err) // only fails on invalid options, and none are passed
	}
	return js
}

// streamConfig is the stream to create when it is missing: cfg.StreamFile's,
// or one replica with the production stream's limits
// (infra/k8s/components/jetstream-cluster/ticketing-stream.json; natskit's
// tests keep the two equal), so a dev stack's stream does not grow without
// bound either.
func streamConfig(cfg Config) (jetstream.StreamConfig, error) {
	sc := jetstream.StreamConfig{
		Name:     cfg.Stream,
		Subjects: events.Subjects,
		// Limits, not WorkQueue or Interest: each service has its own
		// consumer, and one that subscribes later must still find the
		// messages published before.
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		// A consumer down for a week, or half a GiB of events behind,
		// loses the oldest: the outbox has long published them, and a
		// bounded stream is what keeps the disk from filling.
		MaxAge:     7 * 24 * time.Hour,
		MaxBytes:   512 << 20,
		MaxMsgSize: 64 << 10,
		Discard:    jetstream.DiscardOld,
		Duplicates: 2 * time.Minute,
	}
	if cfg.StreamFile == "" {
		return sc, nil
	}
	data, err := os.ReadFile(cfg.StreamFile)
	if err != nil {
		return sc, fmt.Errorf("jsbus: stream definition: %w", err)
	}
	var file jetstream.StreamConfig
	if err := json.Unmarshal(data, &file); err != nil {
		return sc, fmt.Errorf("jsbus: stream definition %s: %w", cfg.StreamFile, err)
	}
	switch {
	case file.Name != cfg.Stream:
		return sc, fmt.Errorf("jsbus: stream definition %s names stream %q, want %q", cfg.StreamFile, file.Name, cfg.Stream)
	case file.Retention != jetstream.LimitsPolicy:
		return sc, fmt.Errorf("jsbus: stream definition %s: retention must be limits (every service has its own consumer)", cfg.StreamFile)
	}
	for _, s := range events.Subjects {
		if !slices.Contains(file.Subjects, s) {
			return sc, fmt.Errorf("jsbus: stream definition %s lacks subject %s", cfg.StreamFile, s)
		}
	}
	return file, nil
}

// ensureStream creates the stream when it does not exist. An existing one is
// left as it is (its replicas and limits are the operator's), except that a
// development stream missing a subject gets it added.
func (b *Bus) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := b.js.Stream(ctx, b.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = b.js.CreateStream(ctx, b.stream)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another service created it meanwhile
		}
	} else if err == nil {
		cfg := s.CachedInfo().Config
		if missing := slices.DeleteFunc(slices.Clone(events.Subjects), func(sub string) bool { return slices.Contains(cfg.Subjects, sub) }); len(missing) > 0 {
			cfg.Subjects = append(cfg.Subjects, missing...)
			_, err = b.js.UpdateStream(ctx, cfg)
		}
	}
	if err != nil {
		return fmt.Errorf("jsbus: stream %s: %w", b.cfg.Stream, err)
	}
	return nil
}

// unsettle marks readiness down until the supervisor has checked the stream
// and consumers again.
func (b *Bus) unsettle() {
	b.mu.Lock()
	b.settled = false
	b.mu.Unlock()
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

func (b *Bus) supervise() {
	defer close(b.done)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.kick:
		}
		_, err := backoff.Retry(b.ctx, func() (struct{}, error) {
			if err := b.ensureStream(b.ctx); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, b.consumeAll()
		}, dispatch.Retry(b.cfg.ReconnectWait), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
			b.log.Warn("event bus set-up failed", "err", err, "retry_in", next)
		}))
		if err == nil {
			b.mu.Lock()
			b.settled = true
			b.mu.Unlock()
		}
	}
}

// consumeAll declares every listener's consumer again and restarts the
// consumption of those whose consumption stopped.
func (b *Bus) consumeAll() error {
	b.setup.Lock()
	defer b.setup.Unlock()
	b.mu.Lock()
	listeners := slices.Clone(b.listeners)
	b.mu.Unlock()
	for _, l := range listeners {
		if err := b.consume(l); err != nil {
			return err
		}
	}
	return nil
}

// consumerName is the durable name of a queue group's consumer of a subject;
// consumer names cannot hold ':'.
func consumerName(l events.Listener) string {
	return l.QueueGroup + "_" + strings.ReplaceAll(l.Subject, ":", "-")
}

// consume declares l's consumer and starts consuming unless it already is.
// The caller holds b.setup.
func (b *Bus) consume(l *listener) error {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	cons, err := b.js.CreateOrUpdateConsumer(ctx, b.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       consumerName(l.Listener),
		FilterSubject: l.Subject,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       l.ackWait,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("jsbus: consumer %s: %w", consumerName(l.Listener), err)
	}
	created := cons.CachedInfo().Created
	if l.cc != nil {
		select {
		case <-l.cc.Closed():
		default:
			if created.Equal(l.created) {
				return nil // still consuming
			}
			l.cc.Stop()
		}
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { b.deliver(l, m) }, jetstream.ConsumeErrHandler(b.consumeErr))
	if err != nil {
		return fmt.Errorf("jsbus: consume %s: %w", consumerName(l.Listener), err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		cc.Stop()
		return backoff.Permanent(events.ErrClosed)
	}
	l.cc, l.created = cc, created
	return nil
}

// consumeErr hears from a running consumption. Missed heartbeats while the
// server is away are routine (nats.go pulls again by itself); a consumer that
// vanished means the server lost its state, so the supervisor declares it
// again.
func (b *Bus) consumeErr(_ jetstream.ConsumeContext, err error) {
	if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		b.log.Warn("event bus consumer gone, declaring it again", "err", err)
		b.unsettle()
		return
	}
	b.log.Debug("event bus consume", "err", err)
}

func (b *Bus) deliver(l *listener, jm jetstream.Msg) {
	if !b.handlers.Enter() {
		return // closing: left unacknowledged, so it is redelivered
	}
	defer b.handlers.Leave()
	m := events.Message{Subject: jm.Subject(), Data: jm.Data()}
	if meta, err := jm.Metadata(); err == nil {
		m.Sequence, m.Redelivered = meta.Sequence.Stream, meta.NumDelivered > 1
	}
	// The request that caused the event rides its header into the
	// handler's context (and so into what the handler logs and stores).
	ctx := logging.WithRequestID(context.Background(), jm.Headers().Get(logging.RequestIDHeader))
	if err := dispatch.Call(ctx, l.Handler, l.ackWait, m); err != nil {
		b.log.WarnContext(ctx, "event not acknowledged", "subject", m.Subject, "group", l.QueueGroup, "seq", m.Sequence, "err", err)
		return
	}
	if err := jm.Ack(); err != nil {
		b.log.WarnContext(ctx, "ack failed", "subject", m.Subject, "group", l.QueueGroup, "seq", m.Sequence, "err", err)
	}
}

// Publish stores a message in the stream, returning once JetStream acked it.
// The request id ctx carries goes with it as the header X-Request-Id (the
// payload stays exactly the contract's).
func (b *Bus) Publish(ctx context.Context, subject string, data []byte) error {
	if !events.Known(subject) {
		return fmt.Errorf("jsbus: unknown subject %q", subject)
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return events.ErrClosed
	}
	msg := &nats.Msg{Subject: subject, Data: data}
	if id := logging.RequestID(ctx); id != "" {
		msg.Header = nats.Header{logging.RequestIDHeader: []string{id}}
	}
	if _, err := b.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(b.cfg.Stream)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("jsbus: publish %s: %w", subject, ctx.Err())
		}
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			// No stream holds the subject: the server lost it (deleted, or
			// a fresh store) and a consumer error may never tell us, so the
			// supervisor declares it and the consumers again.
			b.unsettle()
		}
		return fmt.Errorf("jsbus: publish %s: %w: %w", subject, events.ErrUnavailable, err)
	}
	return nil
}

// Subscribe declares l's durable consumer and starts consuming; the
// supervisor keeps it consuming across reconnects.
func (b *Bus) Subscribe(l events.Listener) error {
	if err := l.Validate(); err != nil {
		return err
	}
	b.setup.Lock()
	defer b.setup.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return events.ErrClosed
	}
	if slices.ContainsFunc(b.listeners, func(o *listener) bool { return o.Subject == l.Subject && o.QueueGroup == l.QueueGroup }) {
		b.mu.Unlock()
		return fmt.Errorf("jsbus: %s already subscribed for %s", l.Subject, l.QueueGroup)
	}
	b.mu.Unlock()
	ls := &listener{Listener: l, ackWait: dispatch.AckWait(l, b.cfg.AckWait)}
	if err := b.consume(ls); err != nil {
		return err
	}
	b.mu.Lock()
	b.listeners = append(b.listeners, ls)
	b.mu.Unlock()
	return nil
}

// Ready reports an error while disconnected or while the stream and
// consumers are being checked after a reconnect.
func (b *Bus) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return events.ErrClosed
	case !b.nc.IsConnected():
		return fmt.Errorf("jsbus: %w: reconnecting", events.ErrUnavailable)
	case !b.settled:
		return fmt.Errorf("jsbus: %w: declaring stream and consumers", events.ErrUnavailable)
	}
	return nil
}

// Close waits for running handlers (so their acks are sent), stops consuming
// — the durable consumers stay, keeping their position — and closes the
// connection.
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

	b.setup.Lock()
	for _, l := range b.listeners {
		if l.cc != nil {
			l.cc.Stop()
		}
	}
	b.setup.Unlock()
	if b.nc.IsConnected() {
		_ = b.nc.FlushTimeout(time.Second) // the acks just sent
	}
	b.nc.Close()
	return nil
}
