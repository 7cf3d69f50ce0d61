package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

// TestBusRestartMidStream: NATS Streaming (file store) restarts in the
// middle of a stream of ticket versions; the orders replica still ends at
// the last version, each applied once and in order, with nothing lost.
func TestBusRestartMidStream(t *testing.T) {
	stan := natskit.Test(t, t.TempDir())
	mongoURI := mongokit.DatabaseURI(t)
	vars := svctest.BusEnv(stan, "orders-restart")
	vars["JWT_KEY"], vars["MONGO_URI"] = testKey, mongoURI
	svctest.Boot(t, run, vars)
	pub := svctest.Bus(t, stan)

	id := bson.NewObjectID()
	const last = 30
	// Publish like the outbox does: retry until the bus takes it.
	publish := func(from, to int) {
		for v := from; v <= to; v++ {
			subject, payload := events.SubjectTicketUpdated, any(events.TicketUpdated{ID: id.Hex(), Version: int64(v), Title: fmt.Sprint("v", v), Price: 100, UserID: "s"})
			if v == 0 {
				subject, payload = events.SubjectTicketCreated, events.TicketCreated{ID: id.Hex(), Version: 0, Title: "v0", Price: 100, UserID: "s"}
			}
			data, _ := json.Marshal(payload)
			poll.Until(t, 30*time.Second, func() bool { return pub.Publish(t.Context(), subject, data) == nil }, "publish version %d", v)
		}
	}
	publish(0, last/2)
	if err := stan.Restart(); err != nil {
		t.Fatal(err)
	}
	publish(last/2+1, last)

	replica := mongokit.Connect(t, mongoURI).Collection("tickets")
	poll.Until(t, 60*time.Second, func() bool {
		var tk struct {
			Version int64
			Title   string
		}
		_ = replica.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&tk)
		return tk.Version == last && tk.Title == fmt.Sprint("v", last)
	}, "the replica at version %d", last)
}

// TestPaymentDecidedAcrossAnOrdersRestart: orders is down between the
// payment's authorization and its decision; the authorization waits on the
// bus and the restarted service decides it, once.
func TestPaymentDecidedAcrossAnOrdersRestart(t *testing.T) {
	stan := natskit.Test(t)
	vars := svctest.BusEnv(stan, "orders-crash")
	vars["JWT_KEY"], vars["MONGO_URI"] = testKey, mongokit.DatabaseURI(t)
	first := svctest.Boot(t, run, vars)
	e := &env{base: first.URL, bus: svctest.Bus(t, stan)}
	e.rec = svctest.Record(t, e.bus, events.SubjectOrderCreated, events.SubjectOrderCancelled, events.SubjectOrderCompleted)
	c, _ := e.user(t)
	oid := placeOrder(t, c, e.ticket(t, "Across a restart", 100)).Map(t)["id"].(string)
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	pid := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectPaymentAuthorized, events.PaymentAuthorized{ID: pid, OrderID: oid, StripeID: "ch_1"})
	second := svctest.Boot(t, run, vars)
	c.Base = second.URL
	poll.Until(t, 20*time.Second, func() bool { return len(e.rec.Messages(events.SubjectOrderCompleted, "id", oid)) == 1 }, "order:completed")
	if o := c.Do(t, "GET", "/api/orders/"+oid, nil).Map(t); o["status"] != "complete" {
		t.Fatalf("order %v", o)
	}
}
