package main

import (
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

type env struct {
	stan  *natskit.STAN
	mongo string
	bus   events.Bus
	rec   *svctest.Recorder
}

func newEnv(t *testing.T) *env {
	e := &env{stan: natskit.Test(t), mongo: mongokit.DatabaseURI(t)}
	e.bus = svctest.Bus(t, e.stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectExpirationComplete)
	return e
}

func (e *env) start(t *testing.T, clientID string, extra ...string) *svctest.Service {
	vars := svctest.BusEnv(e.stan, clientID)
	vars["MONGO_URI"] = e.mongo
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	return svctest.Boot(t, run, vars)
}

func (e *env) orderCreated(t *testing.T, expiresAt time.Time) string {
	id := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: id, Status: "created", UserID: "u",
		ExpiresAt: expiresAt, Ticket: events.OrderTicket{ID: bson.NewObjectID().Hex(), Price: 100}})
	return id
}

func (e *env) fired(id string) int {
	return len(e.rec.Messages(events.SubjectExpirationComplete, "orderId", id))
}

func TestFiresAtExpiresAtOnce(t *testing.T) {
	e := newEnv(t)
	e.start(t, "exp-1")
	expiresAt := time.Now().Add(time.Second)
	id := e.orderCreated(t, expiresAt)
	poll.Until(t, 10*time.Second, func() bool { return e.fired(id) == 1 }, "expiration:complete")
	if now := time.Now(); now.Before(expiresAt) {
		t.Fatalf("fired %v early", expiresAt.Sub(now))
	}
	if raw := e.rec.Raw(events.SubjectExpirationComplete); len(raw) != 1 || raw[0] != fmt.Sprintf(`{"orderId":"%s"}`, id) {
		t.Fatalf("payload %v", raw)
	}
	// A redelivered order:created does not schedule it again.
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: id, Status: "created", UserID: "u", ExpiresAt: expiresAt})
	marker := e.orderCreated(t, time.Now())
	poll.Until(t, 10*time.Second, func() bool { return e.fired(marker) == 1 }, "marker")
	if e.fired(id) != 1 {
		t.Fatalf("fired %d times", e.fired(id))
	}
}

func TestCancelledOrderNeverExpires(t *testing.T) {
	e := newEnv(t)
	e.start(t, "exp-1")
	id := e.orderCreated(t, time.Now().Add(500*time.Millisecond))
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: id, Version: 1})
	// A later timer fires after the cancelled one would have.
	marker := e.orderCreated(t, time.Now().Add(time.Second))
	poll.Until(t, 10*time.Second, func() bool { return e.fired(marker) == 1 }, "marker")
	if e.fired(id) != 0 {
		t.Fatal("a cancelled order expired")
	}
}

func TestTimersSurviveARestart(t *testing.T) {
	e := newEnv(t)
	svc := e.start(t, "exp-1")
	expiresAt := time.Now().Add(time.Second)
	id := e.orderCreated(t, expiresAt)
	// The timer is stored once the listener acknowledged it: wait for that
	// through the database, then stop the service before it is due.
	timers := mongokit.Connect(t, e.mongo).Collection("timers")
	poll.Until(t, 5*time.Second, func() bool {
		n, _ := timers.CountDocuments(t.Context(), bson.D{{Key: "_id", Value: id}})
		return n == 1
	}, "timer stored")
	if err := svc.Stop(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, func() bool { return time.Now().After(expiresAt) }, "the time to pass")
	if e.fired(id) != 0 {
		t.Fatal("fired while stopped?")
	}
	e.start(t, "exp-1")
	poll.Until(t, 10*time.Second, func() bool { return e.fired(id) == 1 }, "overdue expiration fired after start-up")
}

func TestTwoReplicasFireEachOnce(t *testing.T) {
	e := newEnv(t)
	e.start(t, "exp-a")
	e.start(t, "exp-b")
	var ids []string
	at := time.Now().Add(500 * time.Millisecond)
	for range 20 {
		ids = append(ids, e.orderCreated(t, at))
	}
	poll.Until(t, 15*time.Second, func() bool {
		for _, id := range ids {
			if e.fired(id) == 0 {
				return false
			}
		}
		return true
	}, "all fired")
	marker := e.orderCreated(t, time.Now())
	poll.Until(t, 10*time.Second, func() bool { return e.fired(marker) == 1 }, "marker")
	for _, id := range ids {
		if n := e.fired(id); n != 1 {
			t.Fatalf("order %s fired %d times", id, n)
		}
	}
}

// Fired timers go once their event is out and the retention has passed, so
// the collection does not grow by one document per order forever.
func TestFiredTimersArePurged(t *testing.T) {
	e := newEnv(t)
	e.start(t, "exp-purge", "FIRED_TIMER_RETENTION", "1ms")
	timers := mongokit.Connect(t, e.mongo).Collection("timers")
	id := e.orderCreated(t, time.Now().Add(200*time.Millisecond))
	poll.Until(t, 10*time.Second, func() bool { return e.fired(id) == 1 }, "expiration:complete")
	poll.Until(t, 10*time.Second, func() bool {
		n, err := timers.CountDocuments(t.Context(), bson.D{})
		return err == nil && n == 0
	}, "the fired timer purged")
}
