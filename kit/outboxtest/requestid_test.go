package outboxtest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	logs "github.com/ticketing-go/ticketing/common/logging"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

// TestRequestIDKeptThroughTheSweep: a write stores each event with the
// request id of its context; a writer that died before publishing leaves
// them to another relay's sweep (a restart), which publishes each with its
// own id in the publish context — the transport's header comes from there.
// A write's own relay publishes with the id too.
func TestRequestIDKeptThroughTheSweep(t *testing.T) {
	coll := mongokit.Database(t).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	dead := outbox.NewRelayWith(coll, nil, quiet, never) // never runs: its writes are left behind
	buy := logs.WithRequestID(t.Context(), "buy-1")
	pay := logs.WithRequestID(t.Context(), "pay-2")

	a, b := bson.NewObjectID(), bson.NewObjectID()
	if err := dead.Insert(buy, a, thing{ID: a}, aged(created(t, a, 0), 0)); err != nil {
		t.Fatal(err)
	}
	if ok, err := dead.Update(pay, a, nil, bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: 1}}}}, aged(created(t, a, 1), 1)); !ok || err != nil {
		t.Fatalf("update: %v, %v", ok, err)
	}
	if err := dead.Insert(t.Context(), b, thing{ID: b}, aged(created(t, b, 0), 2)); err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Outbox []outbox.Event `bson:"outbox"`
	}
	if err := coll.FindOne(t.Context(), bson.D{{Key: "_id", Value: a}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.Outbox) != 2 || stored.Outbox[0].RequestID != "buy-1" || stored.Outbox[1].RequestID != "pay-2" {
		t.Fatalf("stored %+v, want the events of buy-1 then pay-2", stored.Outbox)
	}

	pub := &requestIDs{bus: bus, ids: map[string]string{}}
	r := outbox.NewRelayWith(coll, pub, quiet, fast)
	run(t, r)
	c := bson.NewObjectID()
	if err := r.Insert(logs.WithRequestID(t.Context(), "own-3"), c, thing{ID: c}, created(t, c, 0)); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, patience, func() bool { return pendingIn(t, coll) == 0 }, "the sweep and the relay to publish everything")
	for key, want := range map[string]string{a.Hex() + "/0": "buy-1", a.Hex() + "/1": "pay-2", b.Hex() + "/0": "", c.Hex() + "/0": "own-3"} {
		if got, ok := pub.get(key); !ok || got != want {
			t.Errorf("event %s published (%v) with request id %q, want %q", key, ok, got, want)
		}
	}
}

// requestIDs records the request id each event was published with.
type requestIDs struct {
	bus events.Publisher
	mu  sync.Mutex
	ids map[string]string // "<ticket id>/<version>" → request id
}

func (p *requestIDs) Publish(ctx context.Context, subject string, data []byte) error {
	ev, err := events.Decode[events.TicketCreated](events.Message{Data: data})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ids[fmt.Sprintf("%s/%d", ev.ID, ev.Version)] = logs.RequestID(ctx)
	p.mu.Unlock()
	return p.bus.Publish(ctx, subject, data)
}

func (p *requestIDs) get(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.ids[key]
	return id, ok
}
