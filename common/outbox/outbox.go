// Package outbox is the transactional outbox of CONTRACT §7: an entity's
// state change and the events it causes are stored in the same
// single-document write (MongoDB makes that atomic without transactions),
// and a relay publishes them afterwards — in order per entity, and only
// removed once the bus acknowledged them. A write therefore never waits on
// the bus and no event is lost while the bus is down.
//
// Each entity document carries its pending events in an array field:
//
//	{_id, ..., version, outbox: [{id, subject, data}, ...]}
//
// Writers append with Push in the same update that changes the entity; the
// array order is the write order, which is the version order.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Field is the document field that holds pending events.
const Field = "outbox"

// Event is one pending event.
type Event struct {
	ID      bson.ObjectID `bson:"id"`
	Subject string        `bson:"subject"`
	Data    string        `bson:"data"`
}

// NewEvent marshals payload for subject.
func NewEvent(subject string, payload any) (Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("outbox: marshal %s: %w", subject, err)
	}
	return Event{ID: bson.NewObjectID(), Subject: subject, Data: string(data)}, nil
}

// Push is the update operator that appends e to a document's outbox; put it
// in the same UpdateOne as the state change.
func Push(e Event) bson.E {
	return bson.E{Key: "$push", Value: bson.D{{Key: Field, Value: e}}}
}

// Publisher is the part of the event bus the relay needs: Publish returns
// once the bus has acknowledged the message.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// Config is the relay's timing, from the environment.
type Config struct {
	// Interval is how soon a pass that left events behind (the bus is
	// down, a publish failed, another replica holds the lease) is retried.
	Interval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
	// IdleInterval is how often the relay looks for events no write kicked
	// it for (a replica crashed between its write and its publish) while
	// all is well. Every write kicks the relay of the replica that wrote
	// it, which publishes at once, so this pass is only a safety net; on
	// FerretDB it is a collection scan that holds up every other command of
	// that database, so the local stack runs it less often.
	IdleInterval time.Duration `env:"OUTBOX_IDLE_INTERVAL" envDefault:"1s"`
}

// Relay publishes the pending events of one collection.
type Relay struct {
	coll   *mongo.Collection
	pub    Publisher
	log    *slog.Logger
	cfg    Config
	kick   chan struct{}
	kickMu sync.Mutex
	kicked map[any]struct{} // documents written since the last pass
	full   bool             // a Kick without ids asks for a full pass
	owner  string           // this relay's lease name
	mu     sync.Mutex       // one pass at a time, so per-entity order holds

	published prometheus.Counter
	failed    prometheus.Counter
	backlog   prometheus.Gauge
}

// NewRelay returns a relay for coll that also runs every interval, to pick up
// what a crash or an outage left behind.
//
// Deprecated: use NewRelayWith, which can space out the idle safety pass.
func NewRelay(coll *mongo.Collection, pub Publisher, log *slog.Logger, interval time.Duration) *Relay {
	return NewRelayWith(coll, pub, log, Config{Interval: interval, IdleInterval: interval})
}

// NewRelayWith returns a relay for coll that also runs on a timer (cfg), to
// pick up what a crash or an outage left behind.
func NewRelayWith(coll *mongo.Collection, pub Publisher, log *slog.Logger, cfg Config) *Relay {
	name := coll.Name()
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.IdleInterval <= 0 {
		cfg.IdleInterval = cfg.Interval
	}
	return &Relay{
		coll: coll, pub: pub, log: log, cfg: cfg, kick: make(chan struct{}, 1), owner: bson.NewObjectID().Hex(),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_published_total",
			Help: "Events the outbox relay published.", ConstLabels: prometheus.Labels{"collection": name}}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_publish_failures_total",
			Help: "Publish attempts that failed and will be retried.", ConstLabels: prometheus.Labels{"collection": name}}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outbox_backlog",
			Help: "Events waiting to be published at the end of the last pass.", ConstLabels: prometheus.Labels{"collection": name}}),
	}
}

// Collectors returns the relay's metrics for the service's registry.
func (r *Relay) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.published, r.failed, r.backlog}
}

// Kick asks for a pass soon over the documents with these ids (all pending
// documents when none is given); it never blocks, so handlers call it right
// after their write. Naming the document spares the pass a collection scan.
func (r *Relay) Kick(ids ...any) {
	r.kickMu.Lock()
	if len(ids) == 0 {
		r.full = true
	}
	for _, id := range ids {
		if r.kicked == nil {
			r.kicked = map[any]struct{}{}
		}
		r.kicked[id] = struct{}{}
	}
	r.kickMu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// takeKicked returns the kicked ids, or nil when a full pass is due.
func (r *Relay) takeKicked() []any {
	r.kickMu.Lock()
	defer r.kickMu.Unlock()
	if r.full {
		r.full, r.kicked = false, nil
		return nil
	}
	ids := make([]any, 0, len(r.kicked))
	for id := range r.kicked {
		ids = append(ids, id)
	}
	r.kicked = nil
	return ids
}

// Run relays until ctx ends: at start, on every Kick, and on a timer —
// cfg.Interval after a pass that left events behind, cfg.IdleInterval after
// a full pass that left none.
func (r *Relay) Run(ctx context.Context) error {
	if err := r.EnsureIndex(ctx); err != nil {
		r.log.Warn("outbox: creating index", "collection", r.coll.Name(), "err", err)
	}
	t := time.NewTimer(r.cfg.Interval)
	defer t.Stop()
	var ids []any // nil: a full pass
	for {
		var behind bool
		var err error
		if ids == nil {
			behind, err = r.flushAll(ctx)
		} else {
			behind, err = r.flushIDs(ctx, ids)
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("outbox: pass incomplete, will retry", "collection", r.coll.Name(), "err", err)
		}
		// A kicked pass that went well leaves the timer alone.
		switch {
		case behind || err != nil:
			t.Reset(r.cfg.Interval)
		case ids == nil:
			t.Reset(r.cfg.IdleInterval)
		}
		select {
		case <-ctx.Done():
			r.releaseLease()
			return nil
		case <-r.kick:
			ids = r.takeKicked()
		case <-t.C:
			ids = nil
		}
	}
}

// Only one relay per collection publishes at a time: it holds a lease, a
// small document in the "outbox_leases" collection, renewed on every pass;
// a relay that stops gives it up, and if its process dies the lease lapses
// after leaseFor and another replica's relay takes over. So with several replicas each event is published once
// in normal operation (at least once if a relay dies mid-pass). One lease per
// collection, not per document: on FerretDB any conditional write on a big
// collection is a scan, while this one touches a collection of one document.
const leaseCollection = "outbox_leases"

const leaseFor = 10 * time.Second

// sweepGrace is how old an event must be before the sweep publishes it: a
// younger one is its writer's to publish (a kicked pass, at once), and a
// sweep racing that pass would only publish it twice. A writer that died
// leaves its events to the sweep after this long. (Event ids are ObjectIDs,
// whose timestamps have whole seconds.)
const sweepGrace = 3 * time.Second

type pending struct {
	ID     any     `bson:"_id"`
	Outbox []Event `bson:"outbox"`
}

// Flush publishes every pending event once, in order per document, and
// returns the first error; events after a failed one of the same document
// wait for the next pass so their order holds.
func (r *Relay) Flush(ctx context.Context) error {
	_, err := r.flushAll(ctx)
	return err
}

// flushAll is Flush; behind reports events left for a later pass (a failed
// publish, or the lease held by another replica).
func (r *Relay) flushAll(ctx context.Context) (behind bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok, err := r.lease(ctx); !ok || err != nil {
		return true, err
	}
	cur, err := r.coll.Find(ctx, bson.D{{Key: Field + ".id", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: Field, Value: 1}}))
	if err != nil {
		return true, fmt.Errorf("outbox: find pending: %w", err)
	}
	var docs []pending
	if err := cur.All(ctx, &docs); err != nil {
		return true, fmt.Errorf("outbox: read pending: %w", err)
	}
	var firstErr error
	left := 0
	settled := time.Now().Add(-sweepGrace)
	for i, d := range docs {
		// A long pass renews the lease as it goes, and stops if it lost it.
		if i > 0 && i%200 == 0 {
			if ok, err := r.lease(ctx); !ok || err != nil {
				return true, err
			}
		}
		n, err := r.flushDoc(ctx, d, settled)
		left += n
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	r.backlog.Set(float64(left))
	return left > 0, firstErr
}

// FlushIDs publishes the pending events of the given documents.
func (r *Relay) FlushIDs(ctx context.Context, ids []any) error {
	_, err := r.flushIDs(ctx, ids)
	return err
}

// A kicked pass needs no lease: a replica publishes what it wrote itself at
// once, instead of waiting for the lease holder's next sweep (about a second
// per event with two replicas). Per-entity order still holds for consumers:
// they apply versions in order and acknowledge duplicates, which is all a
// sweep racing this pass can cause. The lease guards only the sweep, which
// exists for writes whose writer died before publishing.
func (r *Relay) flushIDs(ctx context.Context, ids []any) (behind bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var firstErr error
	for _, id := range ids {
		n, err := r.flushDoc(ctx, pending{ID: id}, time.Time{})
		behind = behind || n > 0
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return behind, firstErr
}

// lease takes or renews this relay's lease on the collection; false means
// another replica's relay holds it.
func (r *Relay) lease(ctx context.Context) (bool, error) {
	leases := r.coll.Database().Collection(leaseCollection)
	name := r.coll.Name()
	// The lease document must exist for the conditional update to find it.
	if _, err := leases.InsertOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "owner", Value: ""}, {Key: "until", Value: time.Time{}}}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return false, fmt.Errorf("outbox: lease: %w", err)
	}
	now := time.Now()
	res, err := leases.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "owner", Value: r.owner}},
		bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}},
	}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: r.owner}, {Key: "until", Value: now.Add(leaseFor)}}}})
	if err != nil {
		return false, fmt.Errorf("outbox: lease: %w", err)
	}
	return res.MatchedCount == 1, nil
}

// releaseLease gives the lease up on shutdown, so a replacement need not
// wait for it to lapse.
func (r *Relay) releaseLease() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = r.coll.Database().Collection(leaseCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: r.coll.Name()}, {Key: "owner", Value: r.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: time.Time{}}}}})
}

// flushDoc publishes one document's events, in order, and returns how many
// it had to leave. With a non-zero settled it stops at the first event
// created after it (a sweep leaves fresh events to their writer).
func (r *Relay) flushDoc(ctx context.Context, d pending, settled time.Time) (int, error) {
	err := r.coll.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, options.FindOne().SetProjection(bson.D{{Key: Field, Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox: read pending: %w", err)
	}
	for i, e := range d.Outbox {
		if !settled.IsZero() && e.ID.Timestamp().After(settled) {
			// Left for now, and counted as left, so a pass that failed
			// to publish while the bus was down is retried soon.
			return len(d.Outbox) - i, nil
		}
		if err := r.publish(ctx, d.ID, e); err != nil {
			r.failed.Inc()
			return len(d.Outbox) - i, err
		}
	}
	return 0, nil
}

// EnsureIndex declares the index the relay's query uses (multikey on the
// events' ids); FerretDB ignores it, MongoDB answers the query from it.
func (r *Relay) EnsureIndex(ctx context.Context) error {
	_, err := r.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: Field + ".id", Value: 1}}, Options: options.Index().SetName("outbox_pending")})
	return err
}

// publish sends e and then removes it from the outbox.
func (r *Relay) publish(ctx context.Context, id any, e Event) error {
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.pub.Publish(pctx, e.Subject, []byte(e.Data)); err != nil {
		return fmt.Errorf("outbox: publish %s: %w", e.Subject, err)
	}
	r.published.Inc()
	// Only now is the event gone from the outbox. A crash between the
	// publish and this pull publishes it again on the next pass: delivery is
	// at least once, and listeners ignore versions they already applied.
	// The whole event is the value to pull: exact-match $pull works on every
	// MongoDB-compatible server, a query-condition $pull does not on FerretDB.
	_, err := r.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$pull", Value: bson.D{{Key: Field, Value: e}}}})
	if err != nil {
		return fmt.Errorf("outbox: mark %s published: %w", e.Subject, err)
	}
	return nil
}
