// Package outbox is the transactional outbox (docs/contract.md, "Events"):
// an entity's state change and the events it causes are stored in the same
// single-document write (MongoDB makes that atomic without transactions),
// and a relay publishes them afterwards — in order per entity, and only
// removed once the bus acknowledged them. A write therefore never waits on
// the bus and no event is lost while the bus is down.
//
// Each entity document carries its pending events in an array field:
//
//	{_id, ..., version, outbox: [{id, subject, data, requestId?}, ...]}
//
// requestId is the id of the request whose write stored the event (taken
// from the write's context): the relay and the sweep publish the event with
// it in their context, so the bus carries it on (JetStream: a header), even
// when the event goes out after a restart.
//
// Stores write through the Relay (Insert, Update): the write stores the
// events with the entity and, once it succeeded, hands them to the relay,
// which publishes them at once from memory — no handler has to remember a
// second step, and nothing re-reads the document just written. A sweep,
// guarded by a lease so one replica makes it, publishes what a writer that
// died left behind.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/lease"
	"github.com/ticketing-go/ticketing/common/logging"
)

// Field is the document field that holds pending events.
const Field = "outbox"

// Event is one pending event.
type Event struct {
	ID      bson.ObjectID `bson:"id"`
	Subject string        `bson:"subject"`
	Data    string        `bson:"data"`
	// RequestID is the request the event was caused by; Insert and Update
	// take it from their context when it is empty.
	RequestID string `bson:"requestId,omitempty"`
}

// NewEvent is payload as the topic's event, ready to be stored.
func NewEvent[T any](topic events.Topic[T], payload T) (Event, error) {
	data, err := topic.Marshal(payload)
	if err != nil {
		return Event{}, err
	}
	return Event{ID: bson.NewObjectID(), Subject: topic.Subject(), Data: string(data)}, nil
}

// Config is the relay's timing, from the environment.
type Config struct {
	// Interval is how soon events left behind (the bus is down, a publish
	// failed, another replica holds the sweep's lease) are tried again.
	Interval time.Duration `env:"OUTBOX_INTERVAL" envDefault:"1s"`
	// IdleInterval is how often, while all is well, the sweep looks for
	// events no write handed over (a replica crashed between its write and
	// its publish). Every write hands its events to its own replica's relay,
	// which publishes them at once, so the sweep is only a safety net.
	IdleInterval time.Duration `env:"OUTBOX_IDLE_INTERVAL" envDefault:"1s"`
}

// written is one write's events, handed to the relay.
type written struct {
	id  any
	evs []Event
}

// maxWritten bounds the events kept in memory while the bus is down; older
// hand-overs beyond it are dropped from memory only (they stay in their
// documents) and left to the sweep.
const maxWritten = 10_000

// Relay writes the documents of one collection with their events and
// publishes the events.
type Relay struct {
	coll  *mongo.Collection
	pub   events.Publisher
	log   *slog.Logger
	cfg   Config
	lease Guard
	kick  chan struct{}

	mu      sync.Mutex
	written []written // handed over, not yet published, in write order
	queued  int       // events in written

	published prometheus.Counter
	failed    prometheus.Counter
	backlog   prometheus.Gauge
}

// leaseFor is how long a sweep's lease lasts after each renewal: a
// replica that died without releasing it is replaced after this long.
const leaseFor = 10 * time.Second

// Guard is what lets one relay at a time sweep a collection: a
// *lease.Lease, unless a test plants another.
type Guard interface {
	Hold(ctx context.Context) (bool, error)
	Release(ctx context.Context) error
}

// GuardWith replaces the sweep's lease (the contract tests plant a broken
// one to show that they catch it) and returns r.
func (r *Relay) GuardWith(g Guard) *Relay {
	r.lease = g
	return r
}

// LeaseName is the name of the sweep's lease of collection coll.
func LeaseName(coll string) string { return "outbox:" + coll }

// NewRelayWith returns a relay for coll that publishes on pub and sweeps on
// a timer (cfg).
func NewRelayWith(coll *mongo.Collection, pub events.Publisher, log *slog.Logger, cfg Config) *Relay {
	name := coll.Name()
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.IdleInterval <= 0 {
		cfg.IdleInterval = cfg.Interval
	}
	return &Relay{
		coll: coll, pub: pub, log: log, cfg: cfg, kick: make(chan struct{}, 1),
		lease: lease.New(coll.Database().Collection(lease.Collection), LeaseName(name), leaseFor),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_published_total",
			Help: "Events the outbox relay published.", ConstLabels: prometheus.Labels{"collection": name}}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "outbox_publish_failures_total",
			Help: "Publish attempts that failed and will be retried.", ConstLabels: prometheus.Labels{"collection": name}}),
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "outbox_backlog",
			Help: "Events waiting to be published at the end of the last pass.", ConstLabels: prometheus.Labels{"collection": name}}),
	}
}

// Collection is the relay's collection, for the store's reads.
func (r *Relay) Collection() *mongo.Collection { return r.coll }

// Collectors returns the relay's metrics for the service's registry.
func (r *Relay) Collectors() []prometheus.Collector {
	return []prometheus.Collector{r.published, r.failed, r.backlog}
}

// Insert stores doc (a struct or document with an _id equal to id) with
// evs as its pending events, and hands evs to the relay.
func (r *Relay) Insert(ctx context.Context, id any, doc any, evs ...Event) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("%s: insert: %w", r.coll.Name(), err)
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%s: insert: %w", r.coll.Name(), err)
	}
	evs = withRequestID(ctx, evs)
	d = append(d, bson.E{Key: Field, Value: evs})
	if _, err := r.coll.InsertOne(ctx, d); err != nil {
		return err
	}
	r.handOver(id, evs)
	return nil
}

// Update applies update to the document id while it also matches cond,
// appending evs to its pending events in the same write, and reports whether
// it matched; only then are evs handed to the relay.
func (r *Relay) Update(ctx context.Context, id any, cond bson.D, update bson.D, evs ...Event) (bool, error) {
	evs = withRequestID(ctx, evs)
	switch len(evs) {
	case 0:
	case 1:
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: Field, Value: evs[0]}}})
	default:
		update = append(update, bson.E{Key: "$push", Value: bson.D{{Key: Field, Value: bson.D{{Key: "$each", Value: evs}}}}})
	}
	res, err := r.coll.UpdateOne(ctx, append(bson.D{{Key: "_id", Value: id}}, cond...), update)
	if err != nil {
		return false, err
	}
	if res.MatchedCount == 0 {
		return false, nil
	}
	r.handOver(id, evs)
	return true, nil
}

// withRequestID is evs, each naming the request id ctx carries unless it
// names one already (a copy: the caller's events are left as they are).
func withRequestID(ctx context.Context, evs []Event) []Event {
	id := logging.RequestID(ctx)
	if id == "" || len(evs) == 0 {
		return evs
	}
	out := slices.Clone(evs)
	for i := range out {
		if out[i].RequestID == "" {
			out[i].RequestID = id
		}
	}
	return out
}

// handOver queues a successful write's events for the relay and wakes it;
// it never blocks.
func (r *Relay) handOver(id any, evs []Event) {
	if len(evs) == 0 {
		return
	}
	r.mu.Lock()
	r.written = append(r.written, written{id: id, evs: evs})
	r.queued += len(evs)
	for r.queued > maxWritten && len(r.written) > 1 {
		r.queued -= len(r.written[0].evs)
		r.written = r.written[1:]
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends: the events writes hand over, at once; the
// sweep at start and then every cfg.IdleInterval (cfg.Interval after a
// sweep that left events behind); events a failed publish left in memory
// again after cfg.Interval.
func (r *Relay) Run(ctx context.Context) error {
	if err := r.EnsureIndex(ctx); err != nil {
		r.log.Warn("outbox: creating index", "collection", r.coll.Name(), "err", err)
	}
	sweep := time.NewTimer(0)
	defer sweep.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			r.releaseLease()
			return nil
		case <-r.kick:
		case <-retry.C:
		case <-sweep.C:
			behind, err := r.Sweep(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("outbox: sweep incomplete, will retry", "collection", r.coll.Name(), "err", err)
			}
			if behind || err != nil {
				sweep.Reset(r.cfg.Interval)
			} else {
				sweep.Reset(r.cfg.IdleInterval)
			}
		}
		if err := r.PublishWritten(ctx); err != nil {
			if ctx.Err() == nil {
				r.log.Warn("outbox: publish failed, will retry", "collection", r.coll.Name(), "err", err)
			}
			retry.Reset(r.cfg.Interval)
		}
	}
}

// PublishWritten publishes the events writes handed over, in write order,
// and removes each from its document once the bus has it. At the first
// failure it stops, keeping that write's events and the later ones for the
// next try, so per-entity order holds.
func (r *Relay) PublishWritten(ctx context.Context) error {
	r.mu.Lock()
	todo := r.written
	r.written, r.queued = nil, 0
	r.mu.Unlock()
	for i, w := range todo {
		for j, e := range w.evs {
			if err := r.publish(ctx, w.id, e); err != nil {
				r.failed.Inc()
				rest := append([]written{{id: w.id, evs: w.evs[j:]}}, todo[i+1:]...)
				r.mu.Lock()
				r.written = append(rest, r.written...)
				r.queued = 0
				for _, w := range r.written {
					r.queued += len(w.evs)
				}
				r.mu.Unlock()
				return err
			}
		}
	}
	return nil
}

// sweepGrace is how old an event must be before the sweep publishes it: a
// younger one is its writer's to publish (at once, from memory), and a
// sweep racing that would only publish it twice. A writer that died leaves
// its events to the sweep after this long. (Event ids are ObjectIDs, whose
// timestamps have whole seconds.)
const sweepGrace = 3 * time.Second

// renewEvery is how many documents a long sweep publishes between renewals
// of its lease.
const renewEvery = 200

type pending struct {
	ID     any     `bson:"_id"`
	Outbox []Event `bson:"outbox"`
}

// Sweep publishes, if this relay holds the collection's lease, every pending
// event older than the grace its writer has to publish it, in order per
// document, and returns the first error; events after a failed one of the
// same document wait for the next sweep so their order holds. behind
// reports events left for later (too young, failed, or the lease held by
// another replica).
func (r *Relay) Sweep(ctx context.Context) (behind bool, err error) {
	if ok, err := r.lease.Hold(ctx); !ok || err != nil {
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
	mine := r.waiting()
	for i, d := range docs {
		// A long sweep renews the lease as it goes, and stops if it lost it.
		if i > 0 && i%renewEvery == 0 {
			if ok, err := r.lease.Hold(ctx); !ok || err != nil {
				return true, err
			}
		}
		for k, e := range d.Outbox {
			// Too young (its writer publishes it), or this relay's own
			// write still waiting in memory (the bus was down longer than
			// the grace): not the sweep's, or it would go out twice.
			if _, ok := mine[e.ID]; ok || e.ID.Timestamp().After(settled) {
				left += len(d.Outbox) - k
				break
			}
			if err := r.publish(ctx, d.ID, e); err != nil {
				r.failed.Inc()
				left += len(d.Outbox) - k
				if firstErr == nil {
					firstErr = err
				}
				break
			}
		}
	}
	r.backlog.Set(float64(left))
	return left > 0, firstErr
}

// waiting is the ids of the events this relay holds in memory.
func (r *Relay) waiting() map[bson.ObjectID]struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make(map[bson.ObjectID]struct{}, r.queued)
	for _, w := range r.written {
		for _, e := range w.evs {
			ids[e.ID] = struct{}{}
		}
	}
	return ids
}

// releaseLease gives the sweep's lease up on shutdown, so a replacement
// need not wait for it to lapse.
func (r *Relay) releaseLease() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.lease.Release(ctx)
}

// EnsureIndex declares the index the sweep's query uses (multikey on the
// events' ids), so a MongoDB server answers it without a collection scan.
func (r *Relay) EnsureIndex(ctx context.Context) error {
	_, err := r.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: Field + ".id", Value: 1}}, Options: options.Index().SetName("outbox_pending")})
	return err
}

// publish sends e, with the request id it was stored with, and then
// removes it from the outbox.
func (r *Relay) publish(ctx context.Context, id any, e Event) error {
	pctx, cancel := context.WithTimeout(logging.WithRequestID(ctx, e.RequestID), 10*time.Second)
	defer cancel()
	if err := r.pub.Publish(pctx, e.Subject, []byte(e.Data)); err != nil {
		return fmt.Errorf("outbox: publish %s: %w", e.Subject, err)
	}
	r.published.Inc()
	// Only now is the event gone from the outbox. A crash between the
	// publish and this pull publishes it again from the sweep: delivery is
	// at least once, and listeners ignore versions they already applied.
	// The whole event is the value to pull: an exact-match $pull works on
	// every MongoDB-compatible server.
	_, err := r.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$pull", Value: bson.D{{Key: Field, Value: e}}}})
	if err != nil {
		return fmt.Errorf("outbox: mark %s published: %w", e.Subject, err)
	}
	return nil
}
