// Package outboxtest tests common/outbox against the kit's real servers
// (common itself may not import the kit).
package outboxtest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

// TestReplicaPublishesItsOwnWriteAtOnce: two replicas' relays on one
// collection; the one that does not hold the sweep's lease publishes the
// event it wrote as soon as it is kicked, not at the lease holder's next
// pass (an hour away here). Before, every event written by the second
// replica of a service waited for the first one's idle pass.
func TestReplicaPublishesItsOwnWriteAtOnce(t *testing.T) {
	coll := mongokit.Connect(t, mongokit.DatabaseURI(t)).Collection("things")
	bus := svctest.Bus(t, natskit.Test(t))
	rec := svctest.Record(t, bus, events.SubjectTicketCreated)
	log := slog.New(slog.DiscardHandler)
	slow := outbox.Config{Interval: time.Hour, IdleInterval: time.Hour}
	holder, other := outbox.NewRelayWith(coll, bus, log, slow), outbox.NewRelayWith(coll, bus, log, slow)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Go(func() { _ = holder.Run(ctx) })
	leases := coll.Database().Collection("outbox_leases")
	poll.Until(t, 10*time.Second, func() bool {
		n, _ := leases.CountDocuments(ctx, bson.D{{Key: "_id", Value: "things"}, {Key: "until", Value: bson.D{{Key: "$gt", Value: time.Now()}}}})
		return n == 1
	}, "the first relay to take the lease")
	wg.Go(func() { _ = other.Run(ctx) })

	id := bson.NewObjectID()
	ev, err := outbox.NewEvent(events.SubjectTicketCreated, events.TicketCreated{ID: id.Hex(), Title: "x", Price: 100, UserID: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: outbox.Field, Value: []outbox.Event{ev}}}); err != nil {
		t.Fatal(err)
	}
	other.Kick(id)
	poll.Until(t, 10*time.Second, func() bool { return len(rec.Messages(events.SubjectTicketCreated, "id", id.Hex())) == 1 },
		"the second replica's own write published")
	poll.Until(t, 10*time.Second, func() bool {
		n, _ := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}, {Key: outbox.Field + ".id", Value: bson.D{{Key: "$exists", Value: true}}}})
		return n == 0
	}, "the event removed from the outbox")
}
