// Package outboxtest is the contract of common/outbox and common/lease,
// run against the kit's real servers (common itself may not import the
// kit): writes hand their events over, two relays on one collection, a
// relay killed mid-sweep, the bus down, and the lease the sweep rests on.
package outboxtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/lease"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

// patience bounds every wait; generous, as -race on two cores is slow, and
// a lapsed lease takes 10 s.
const patience = 30 * time.Second

var (
	quiet = slog.New(slog.DiscardHandler)
	// never: the sweep waits an hour, so only handed-over events move.
	never = outbox.Config{Interval: time.Hour, IdleInterval: time.Hour}
	fast  = outbox.Config{Interval: 100 * time.Millisecond, IdleInterval: 100 * time.Millisecond}
)

// run runs r until the test ends.
func run(t *testing.T, r *outbox.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func created(t *testing.T, id bson.ObjectID, version int64) outbox.Event {
	t.Helper()
	ev, err := outbox.NewEvent(events.TopicTicketCreated, events.TicketCreated{ID: id.Hex(), Version: version, Title: "x", Price: 100, UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// aged is ev as a writer that died a minute ago left it.
func aged(ev outbox.Event, n int) outbox.Event {
	ev.ID = bson.NewObjectIDFromTimestamp(time.Now().Add(-time.Minute + time.Duration(n)*time.Millisecond))
	return ev
}

func pendingIn(t *testing.T, coll *mongo.Collection) int64 {
	n, err := coll.CountDocuments(t.Context(), bson.D{{Key: outbox.Field + ".id", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type thing struct {
	ID      bson.ObjectID `bson:"_id"`
	Version int64         `bson:"version"`
}

// TestWritesHandTheirEventsOver: Insert and Update store the events with the
// document and the relay publishes them at once (its sweep is an hour
// away); an Update whose condition does not match stores and publishes
// nothing.
func TestWritesHandTheirEventsOver(t *testing.T) {
	coll := mongokit.Database(t).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	rec := svctest.Record(t, bus, events.SubjectTicketCreated)
	r := outbox.NewRelayWith(coll, bus, quiet, never)
	run(t, r)
	ctx := t.Context()

	id := bson.NewObjectID()
	if err := r.Insert(ctx, id, thing{ID: id}, created(t, id, 0)); err != nil {
		t.Fatal(err)
	}
	ok, err := r.Update(ctx, id, bson.D{{Key: "version", Value: 0}}, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 1}}}}, created(t, id, 1))
	if err != nil || !ok {
		t.Fatalf("update: %v, %v", ok, err)
	}
	ok, err = r.Update(ctx, id, bson.D{{Key: "version", Value: 0}}, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 9}}}}, created(t, id, 9))
	if err != nil || ok {
		t.Fatalf("stale update matched: %v, %v", ok, err)
	}
	poll.Until(t, patience, func() bool { return len(rec.Messages(events.SubjectTicketCreated, "id", id.Hex())) == 2 }, "both events published")
	poll.Until(t, patience, func() bool { return pendingIn(t, coll) == 0 }, "the events removed from the outbox")
	got := rec.Messages(events.SubjectTicketCreated, "id", id.Hex())
	if got[0]["version"] != 0.0 || got[1]["version"] != 1.0 {
		t.Fatalf("published %v, want versions 0 then 1 only", got)
	}
	var d thing
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil || d.Version != 1 {
		t.Fatalf("stored %+v, %v", d, err)
	}
}

// TestReplicaPublishesItsOwnWriteAtOnce: two relays on one collection; the
// one that does not hold the sweep's lease publishes what it wrote at once,
// not at the lease holder's next sweep (an hour away here). Before, every
// event written by a second replica waited for the first one's idle pass.
func TestReplicaPublishesItsOwnWriteAtOnce(t *testing.T) {
	coll := mongokit.Database(t).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	rec := svctest.Record(t, bus, events.SubjectTicketCreated)
	holder, other := outbox.NewRelayWith(coll, bus, quiet, never), outbox.NewRelayWith(coll, bus, quiet, never)
	run(t, holder)
	leases := coll.Database().Collection(lease.Collection)
	poll.Until(t, patience, func() bool {
		n, _ := leases.CountDocuments(t.Context(), bson.D{{Key: "_id", Value: outbox.LeaseName("things")}, {Key: "until", Value: bson.D{{Key: "$gt", Value: time.Now()}}}})
		return n == 1
	}, "the first relay to take the lease")
	run(t, other)

	id := bson.NewObjectID()
	if err := other.Insert(t.Context(), id, thing{ID: id}, created(t, id, 0)); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, patience, func() bool { return len(rec.Messages(events.SubjectTicketCreated, "id", id.Hex())) == 1 },
		"the second replica's own write published")
	poll.Until(t, patience, func() bool { return pendingIn(t, coll) == 0 }, "the event removed from the outbox")
}

// log is every publish of some relays, in order.
type log struct {
	mu  sync.Mutex
	got []string
}

func (l *log) add(data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, string(data))
}

func (l *log) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// gated publishes on a bus and logs it; its first publish waits (up to a
// bound) until its partner has reached its own first publish, so two
// sweeps that both run publish over the same documents.
type gated struct {
	bus     events.Publisher
	log     *log
	once    sync.Once
	arrived chan struct{}
	partner *gated
}

func (g *gated) Publish(ctx context.Context, subject string, data []byte) error {
	g.once.Do(func() {
		close(g.arrived)
		select {
		case <-g.partner.arrived:
		case <-time.After(2 * time.Second): // the partner is not sweeping
		case <-ctx.Done():
		}
	})
	g.log.add(data)
	return g.bus.Publish(ctx, subject, data)
}

func gatedPair(bus events.Publisher, l *log) (*gated, *gated) {
	a := &gated{bus: bus, log: l, arrived: make(chan struct{})}
	b := &gated{bus: bus, log: l, arrived: make(chan struct{}), partner: a}
	a.partner = b
	return a, b
}

// leftovers stores n documents whose writer died a minute ago with one
// event each.
func leftovers(t *testing.T, coll *mongo.Collection, n, perDoc int) {
	t.Helper()
	for i := range n {
		id := bson.NewObjectID()
		evs := make([]outbox.Event, perDoc)
		for v := range perDoc {
			evs[v] = aged(created(t, id, int64(v)), i*perDoc+v)
		}
		if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: id}, {Key: outbox.Field, Value: evs}}); err != nil {
			t.Fatal(err)
		}
	}
}

// sweepTogether runs the sweeps of two relays on one collection at the same
// time over 20 leftover events and returns how many were published twice.
// guard, when not nil, replaces the relays' lease.
func sweepTogether(t *testing.T, guard func() outbox.Guard) int {
	coll := mongokit.Database(t).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	leftovers(t, coll, 20, 1)
	var l log
	pa, pb := gatedPair(bus, &l)
	a, b := outbox.NewRelayWith(coll, pa, quiet, never), outbox.NewRelayWith(coll, pb, quiet, never)
	if guard != nil {
		a.GuardWith(guard())
		b.GuardWith(guard())
	}
	var wg sync.WaitGroup
	for _, r := range []*outbox.Relay{a, b} {
		wg.Go(func() {
			if _, err := r.Sweep(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := pendingIn(t, coll); n != 0 {
		t.Fatalf("%d documents still pending after both sweeps", n)
	}
	got := l.all()
	distinct := len(slices.Compact(slices.Sorted(slices.Values(got))))
	if distinct != 20 {
		t.Fatalf("%d distinct events published, want 20", distinct)
	}
	return len(got) - distinct
}

// TestTwoRelaysSweepEachEventOnce: the sweep's lease lets one of two relays
// sweep; the events a dead writer left are published once.
func TestTwoRelaysSweepEachEventOnce(t *testing.T) {
	if dup := sweepTogether(t, nil); dup != 0 {
		t.Fatalf("%d events published twice", dup)
	}
}

// noLease grants every Hold: the sweep without its lease.
type noLease struct{}

func (noLease) Hold(context.Context) (bool, error) { return true, nil }
func (noLease) Release(context.Context) error      { return nil }

// TestSweepWithoutLeaseIsCaught: the check above fails when the lease is
// removed — two unguarded sweeps publish the same events twice.
func TestSweepWithoutLeaseIsCaught(t *testing.T) {
	if dup := sweepTogether(t, func() outbox.Guard { return noLease{} }); dup == 0 {
		t.Fatal("two sweeps without the lease published nothing twice: the check cannot catch a missing lease")
	}
}

// dying publishes until it has published `after` events, then kills its
// relay's pass (its context) as a crashed process would stop.
type dying struct {
	bus   events.Publisher
	log   *log
	after int
	n     int
	kill  context.CancelFunc
}

func (d *dying) Publish(ctx context.Context, subject string, data []byte) error {
	if d.n == d.after {
		d.kill()
		return context.Canceled
	}
	d.n++
	d.log.add(data)
	return d.bus.Publish(ctx, subject, data)
}

type logging struct {
	bus events.Publisher
	log *log
}

func (p logging) Publish(ctx context.Context, subject string, data []byte) error {
	p.log.add(data)
	return p.bus.Publish(ctx, subject, data)
}

// TestRelayKilledMidSweep: a relay dies halfway through its sweep, holding
// the lease; once the lease lapses another relay publishes the rest, every
// event at least once and each document's events in order.
func TestRelayKilledMidSweep(t *testing.T) {
	coll := mongokit.Database(t).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	leftovers(t, coll, 4, 3)
	var l log
	ctx, kill := context.WithCancel(t.Context())
	a := outbox.NewRelayWith(coll, &dying{bus: bus, log: &l, after: 5, kill: kill}, quiet, never)
	if _, err := a.Sweep(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the dying sweep ended with %v", err)
	}
	if pendingIn(t, coll) == 0 {
		t.Fatal("the dying sweep published everything")
	}
	b := outbox.NewRelayWith(coll, logging{bus: bus, log: &l}, quiet, fast)
	run(t, b)
	poll.Until(t, patience, func() bool { return pendingIn(t, coll) == 0 }, "the survivor to sweep the rest once the lease lapsed")

	var seen []events.TicketCreated
	for _, data := range l.all() {
		ev, err := events.Decode[events.TicketCreated](events.Message{Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ev)
	}
	last := map[string]int64{}
	count := map[string]int{}
	for _, ev := range seen {
		if v, ok := last[ev.ID]; ok && ev.Version < v {
			t.Fatalf("ticket %s: version %d published after %d (%v)", ev.ID, ev.Version, v, seen)
		}
		last[ev.ID] = ev.Version
		count[fmt.Sprint(ev.ID, ev.Version)]++
	}
	if len(count) != 12 {
		t.Fatalf("%d of 12 events published", len(count))
	}
}

// TestBusDown: writes while the bus is down are stored and published once
// the bus is back, in write order; nothing is lost and the outbox empties.
func TestBusDown(t *testing.T) {
	coll := mongokit.Database(t).Collection("things")
	srv := natskit.Test(t)
	pub := &counting{bus: svctest.Bus(t, srv)}
	r := outbox.NewRelayWith(coll, pub, quiet, outbox.Config{Interval: 200 * time.Millisecond, IdleInterval: time.Hour})
	run(t, r)

	srv.Stop()
	id := bson.NewObjectID()
	if err := r.Insert(t.Context(), id, thing{ID: id}, created(t, id, 0)); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Update(t.Context(), id, nil, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 1}}}}, created(t, id, 1)); !ok || err != nil {
		t.Fatalf("update: %v, %v", ok, err)
	}
	poll.Until(t, patience, func() bool { _, failed := pub.counts(); return failed >= 2 }, "the relay to retry while the bus is down")
	if n := pendingIn(t, coll); n != 1 {
		t.Fatalf("%d documents pending while the bus is down, want 1", n)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, patience, func() bool { return pendingIn(t, coll) == 0 }, "the event published once the bus is back")
	if ok, _ := pub.counts(); ok != 2 {
		t.Fatalf("published %d times, want 2: versions %v", ok, pub.versions(t))
	}
	if got := pub.versions(t); !slices.Equal(got, []int64{0, 1}) {
		t.Fatalf("published versions %v, want [0 1]", got)
	}
}

// counting counts publishes that the bus acknowledged and that failed.
type counting struct {
	bus        events.Publisher
	mu         sync.Mutex
	ok, failed int
	sent       [][]byte
}

func (c *counting) Publish(ctx context.Context, subject string, data []byte) error {
	err := c.bus.Publish(ctx, subject, data)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failed++
	} else {
		c.ok++
		c.sent = append(c.sent, data)
	}
	return err
}

// versions are the ticket versions of the acknowledged publishes, in order.
func (c *counting) versions(t *testing.T) []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for _, data := range c.sent {
		ev, err := events.Decode[events.TicketCreated](events.Message{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Version)
	}
	return out
}

func (c *counting) counts() (ok, failed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok, c.failed
}

// TestLease: one owner at a time; the holder renews; Release frees it at
// once; a lapsed lease is taken by another.
func TestLease(t *testing.T) {
	coll := mongokit.Database(t).Collection(lease.Collection)
	ctx := t.Context()
	a, b := lease.New(coll, "job", time.Hour), lease.New(coll, "job", time.Hour)
	hold := func(l *lease.Lease, want bool, what string) {
		t.Helper()
		got, err := l.Hold(ctx)
		if err != nil || got != want {
			t.Fatalf("%s: held %v, %v; want %v", what, got, err, want)
		}
	}
	hold(a, true, "a takes the free lease")
	hold(b, false, "b while a holds it")
	hold(a, true, "a renews")
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	hold(b, true, "b after a released it")
	hold(a, false, "a while b holds it")

	short := lease.New(coll, "brief", time.Millisecond)
	hold(short, true, "a lease of a millisecond")
	other := lease.New(coll, "brief", time.Hour)
	poll.Until(t, patience, func() bool { ok, _ := other.Hold(ctx); return ok }, "the lapsed lease taken by another")
	hold(short, false, "the first owner after it lapsed and was taken")
}
