package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/money"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

const testKey = "orders-test-key"

type env struct {
	base string
	bus  events.Bus
	rec  *svctest.Recorder
}

func boot(t *testing.T, extra ...string) *env {
	t.Helper()
	stan := natskit.Test(t)
	vars := svctest.BusEnv(stan, "orders-test")
	vars["JWT_KEY"], vars["MONGO_URI"] = testKey, mongokit.DatabaseURI(t)
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	e := &env{base: svctest.Boot(t, run, vars).URL}
	e.bus = svctest.Bus(t, stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectOrderCreated, events.SubjectOrderCancelled, events.SubjectOrderCompleted)
	return e
}

func (e *env) user(t *testing.T) (svctest.Client, string) {
	id := bson.NewObjectID().Hex()
	return svctest.Client{Base: e.base, Cookie: svctest.SessionCookie(t, testKey, id, id+"@test.io")}, id
}

// ticket publishes ticket:created as the tickets service would and waits
// until the replica has it.
func (e *env) ticket(t *testing.T, title string, price money.Cents) string {
	t.Helper()
	id := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectTicketCreated, events.TicketCreated{ID: id, Version: 0, Title: title, Price: price, UserID: "seller"})
	// The replica has it once an order for it stops being a 404; the probe
	// order is cancelled again, and its events are waited for and forgotten.
	c, _ := e.user(t)
	var probe string
	poll.Until(t, 10*time.Second, func() bool {
		r := c.Do(t, "POST", "/api/orders", map[string]string{"ticketId": id})
		if r.Status == 201 {
			probe = r.Map(t)["id"].(string)
		}
		return r.Status == 201
	}, "ticket %s replicated", id)
	c.Do(t, "DELETE", "/api/orders/"+probe, nil)
	poll.Until(t, 10*time.Second, func() bool {
		return len(e.rec.Messages(events.SubjectOrderCancelled, "id", probe)) == 1
	}, "probe order cancelled")
	e.rec.Reset()
	return id
}

// expireAndFlush publishes expiration:complete for orderID and then for a
// marker order, and waits until the marker is cancelled: one subscription
// handles a subject in order, so orderID's event has been handled by then.
func (e *env) expireAndFlush(t *testing.T, orderID string) {
	t.Helper()
	c, _ := e.user(t)
	marker := placeOrder(t, c, e.ticket(t, "marker", 100)).Map(t)["id"].(string)
	e.rec.Reset()
	svctest.Publish(t, e.bus, events.SubjectExpirationComplete, events.ExpirationComplete{OrderID: orderID})
	svctest.Publish(t, e.bus, events.SubjectExpirationComplete, events.ExpirationComplete{OrderID: marker})
	poll.Until(t, 10*time.Second, func() bool { return c.Do(t, "GET", "/api/orders/"+marker, nil).Map(t)["status"] == "cancelled" }, "marker expired")
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Messages(events.SubjectOrderCancelled, "id", marker)) == 1 }, "marker event")
}

func placeOrder(t *testing.T, c svctest.Client, ticketID string) svctest.Response {
	t.Helper()
	return c.Do(t, "POST", "/api/orders", map[string]string{"ticketId": ticketID})
}

func TestCreateOrder(t *testing.T) {
	e := boot(t, "EXPIRATION_WINDOW", "10m")
	tid := e.ticket(t, "Gig", 2050)
	c, uid := e.user(t)
	before := time.Now()
	r := placeOrder(t, c, tid)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	o := r.Map(t)
	tk := o["ticket"].(map[string]any)
	if len(o) != 6 || o["userId"] != uid || o["status"] != "created" || o["version"] != 0.0 ||
		tk["id"] != tid || tk["title"] != "Gig" || tk["price"] != 20.5 || tk["version"] != 0.0 || len(tk) != 4 {
		t.Fatalf("order %s", r.Body)
	}
	exp, err := time.Parse(time.RFC3339, o["expiresAt"].(string))
	if err != nil || !strings.HasSuffix(o["expiresAt"].(string), "Z") {
		t.Fatalf("expiresAt %v: %v", o["expiresAt"], err)
	}
	if d := exp.Sub(before); d < 10*time.Minute-time.Second || d > 10*time.Minute+5*time.Second {
		t.Fatalf("expiresAt is %v after the request", d)
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCreated)) == 1 }, "order:created")
	want := fmt.Sprintf(`{"id":"%s","version":0,"status":"created","userId":"%s","expiresAt":"%s","ticket":{"id":"%s","price":20.5}}`,
		o["id"], uid, o["expiresAt"], tid)
	if got := e.rec.Raw(events.SubjectOrderCreated)[0]; got != want {
		t.Fatalf("event %s\nwant  %s", got, want)
	}

	other, _ := e.user(t)
	if r := placeOrder(t, other, tid); r.Status != 400 || r.Errors(t)[0].Message != "Ticket is already reserved" {
		t.Fatalf("second order: %d %s", r.Status, r.Body)
	}
}

func TestCreateOrderFailures(t *testing.T) {
	e := boot(t)
	c, _ := e.user(t)
	anon := svctest.Client{Base: e.base}
	field := []svctest.ErrorEntry{{Message: "TicketId must be provided", Field: "ticketId"}}
	for _, tc := range []struct {
		name   string
		c      svctest.Client
		body   any
		status int
		want   []svctest.ErrorEntry
	}{
		{"signed out", anon, map[string]string{"ticketId": bson.NewObjectID().Hex()}, 401, []svctest.ErrorEntry{{Message: "Not authorized"}}},
		{"missing", c, `{}`, 400, field},
		{"malformed", c, map[string]string{"ticketId": "abc"}, 400, field},
		{"wrong type", c, `{"ticketId":{"$ne":null}}`, 400, field},
		{"unknown ticket", c, map[string]string{"ticketId": bson.NewObjectID().Hex()}, 404, []svctest.ErrorEntry{{Message: "Not Found"}}},
		{"not json", c, `{`, 400, []svctest.ErrorEntry{{Message: "Request body must be valid JSON"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(t, "POST", "/api/orders", tc.body)
			if r.Status != tc.status || fmt.Sprint(r.Errors(t)) != fmt.Sprint(tc.want) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

func TestFiftyConcurrentOrdersOneWinner(t *testing.T) {
	e := boot(t)
	tid := e.ticket(t, "Hot", 1000)
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		c, _ := e.user(t)
		wg.Go(func() { statuses[i] = placeOrder(t, c, tid).Status })
	}
	wg.Wait()
	won, lost := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			won++
		case 400:
			lost++
		}
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("statuses %v", statuses)
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCreated)) == 1 }, "one order:created")
}

func TestListAndShow(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	other, _ := e.user(t)
	t1, t2, t3 := e.ticket(t, "A", 100), e.ticket(t, "B", 200), e.ticket(t, "C", 300)
	o1 := placeOrder(t, c, t1).Map(t)["id"].(string)
	o2 := placeOrder(t, c, t2).Map(t)["id"].(string)
	placeOrder(t, other, t3)

	r := c.Do(t, "GET", "/api/orders", nil)
	var list []map[string]any
	r.JSON(t, &list)
	if r.Status != 200 || len(list) != 2 || list[0]["id"] != o1 || list[1]["id"] != o2 || list[1]["ticket"].(map[string]any)["title"] != "B" {
		t.Fatalf("list %d %s", r.Status, r.Body)
	}
	if r := (svctest.Client{Base: e.base}).Do(t, "GET", "/api/orders", nil); r.Status != 401 {
		t.Fatalf("signed out list: %d", r.Status)
	}
	if r := c.Do(t, "GET", "/api/orders/"+o1, nil); r.Status != 200 || r.Map(t)["userId"] != uid {
		t.Fatalf("show %d %s", r.Status, r.Body)
	}
	for name, tc := range map[string]struct {
		c      svctest.Client
		path   string
		status int
		msg    string
	}{
		"malformed":     {c, "/api/orders/xyz", 400, "Invalid order id"},
		"unknown":       {c, "/api/orders/" + bson.NewObjectID().Hex(), 404, "Not Found"},
		"not the owner": {other, "/api/orders/" + o1, 401, "Not authorized"},
	} {
		t.Run(name, func(t *testing.T) {
			for _, method := range []string{"GET", "DELETE"} {
				r := tc.c.Do(t, method, tc.path, nil)
				if r.Status != tc.status || r.Errors(t)[0].Message != tc.msg {
					t.Fatalf("%s: %d %s", method, r.Status, r.Body)
				}
			}
		})
	}
}

func TestCancel(t *testing.T) {
	e := boot(t)
	c, _ := e.user(t)
	tid := e.ticket(t, "Cancel me", 100)
	oid := placeOrder(t, c, tid).Map(t)["id"].(string)
	if r := c.Do(t, "DELETE", "/api/orders/"+oid, nil); r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("cancel %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "GET", "/api/orders/"+oid, nil); r.Map(t)["status"] != "cancelled" || r.Map(t)["version"] != 1.0 {
		t.Fatalf("after cancel %s", r.Body)
	}
	if r := c.Do(t, "DELETE", "/api/orders/"+oid, nil); r.Status != 204 {
		t.Fatalf("second cancel %d %s", r.Status, r.Body)
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCancelled)) >= 1 }, "order:cancelled")
	want := fmt.Sprintf(`{"id":"%s","version":1,"ticket":{"id":"%s"}}`, oid, tid)
	if got := e.rec.Raw(events.SubjectOrderCancelled); len(got) != 1 || got[0] != want {
		t.Fatalf("events %v, want exactly %s", got, want)
	}
	// The ticket is free again.
	if r := placeOrder(t, c, tid); r.Status != 201 {
		t.Fatalf("re-order %d %s", r.Status, r.Body)
	}
}

func TestPaymentCompletesAndCompletedCannotBeCancelledOrExpired(t *testing.T) {
	e := boot(t)
	c, _ := e.user(t)
	tid := e.ticket(t, "Paid", 100)
	oid := placeOrder(t, c, tid).Map(t)["id"].(string)
	svctest.Publish(t, e.bus, events.SubjectPaymentCreated, events.PaymentCreated{ID: bson.NewObjectID().Hex(), OrderID: oid, StripeID: "ch_1"})
	poll.Until(t, 10*time.Second, func() bool { return c.Do(t, "GET", "/api/orders/"+oid, nil).Map(t)["status"] == "complete" }, "complete")
	if r := c.Do(t, "DELETE", "/api/orders/"+oid, nil); r.Status != 400 || r.Errors(t)[0].Message != "Cannot cancel a completed order" {
		t.Fatalf("cancel complete: %d %s", r.Status, r.Body)
	}
	e.expireAndFlush(t, oid)
	if r := c.Do(t, "GET", "/api/orders/"+oid, nil); r.Map(t)["status"] != "complete" {
		t.Fatalf("expired a complete order: %s", r.Body)
	}
	if n := len(e.rec.Messages(events.SubjectOrderCancelled, "id", oid)); n != 0 {
		t.Fatalf("%d order:cancelled events for a complete order", n)
	}
	another, _ := e.user(t)
	if r := placeOrder(t, another, tid); r.Status != 400 {
		t.Fatalf("a sold ticket stays reserved: %d %s", r.Status, r.Body)
	}
}

func TestExpirationCancelsAndStaleExpirationLeavesTheNewOrderAlone(t *testing.T) {
	e := boot(t)
	a, _ := e.user(t)
	b, _ := e.user(t)
	tid := e.ticket(t, "Stale", 100)
	oa := placeOrder(t, a, tid).Map(t)["id"].(string)
	svctest.Publish(t, e.bus, events.SubjectExpirationComplete, events.ExpirationComplete{OrderID: oa})
	poll.Until(t, 10*time.Second, func() bool { return a.Do(t, "GET", "/api/orders/"+oa, nil).Map(t)["status"] == "cancelled" }, "expired")
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCancelled)) == 1 }, "order:cancelled")

	ob := placeOrder(t, b, tid)
	if ob.Status != 201 {
		t.Fatalf("B after A expired: %d %s", ob.Status, ob.Body)
	}
	obID := ob.Map(t)["id"].(string)
	// A's expiration again (redelivered, or the original's stale-cancel bug).
	e.expireAndFlush(t, oa)
	if r := b.Do(t, "GET", "/api/orders/"+obID, nil); r.Map(t)["status"] != "created" {
		t.Fatalf("B lost its order: %s", r.Body)
	}
	c, _ := e.user(t)
	if r := placeOrder(t, c, tid); r.Status != 400 {
		t.Fatalf("B must keep the ticket: %d %s", r.Status, r.Body)
	}
	if n := len(e.rec.Messages(events.SubjectOrderCancelled, "id", oa)); n != 0 {
		t.Fatalf("%d more order:cancelled events for A", n)
	}
}

func TestTicketReplicaAppliesVersionsInOrder(t *testing.T) {
	e := boot(t)
	tid := e.ticket(t, "v0", 100)
	// Version 2 arrives before version 1: it must wait, then apply.
	svctest.Publish(t, e.bus, events.SubjectTicketUpdated, events.TicketUpdated{ID: tid, Version: 2, Title: "v2", Price: 300, UserID: "seller"})
	svctest.Publish(t, e.bus, events.SubjectTicketUpdated, events.TicketUpdated{ID: tid, Version: 1, Title: "v1", Price: 200, UserID: "seller"})
	svctest.Publish(t, e.bus, events.SubjectTicketUpdated, events.TicketUpdated{ID: tid, Version: 1, Title: "dup", Price: 999, UserID: "seller"})
	c, _ := e.user(t)
	oid := placeOrder(t, c, tid).Map(t)["id"].(string)
	poll.Until(t, 15*time.Second, func() bool {
		tk := c.Do(t, "GET", "/api/orders/"+oid, nil).Map(t)["ticket"].(map[string]any)
		return tk["version"] == 2.0 && tk["title"] == "v2" && tk["price"] == 3.0
	}, "replica at version 2")
}

func TestCannotOrderOwnTicket(t *testing.T) {
	e := boot(t)
	seller, sellerID := e.user(t)
	id := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectTicketCreated, events.TicketCreated{ID: id, Version: 0, Title: "Mine", Price: 100, UserID: sellerID})
	poll.Until(t, 10*time.Second, func() bool { return placeOrder(t, seller, id).Status != 404 }, "ticket replicated")
	if r := placeOrder(t, seller, id); r.Status != 400 || fmt.Sprint(r.Errors(t)) != "[{Cannot order your own ticket }]" {
		t.Fatalf("own ticket: %d %s", r.Status, r.Body)
	}
	buyer, _ := e.user(t)
	if r := placeOrder(t, buyer, id); r.Status != 201 {
		t.Fatalf("someone else: %d %s", r.Status, r.Body)
	}
}

func TestPaymentAuthorizedCompletesTheOrder(t *testing.T) {
	e := boot(t)
	c, _ := e.user(t)
	tid := e.ticket(t, "Paid", 100)
	oid := placeOrder(t, c, tid).Map(t)["id"].(string)
	pid := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectPaymentAuthorized, events.PaymentAuthorized{ID: pid, OrderID: oid, StripeID: "ch_1"})
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCompleted)) == 1 }, "order:completed")
	want := fmt.Sprintf(`{"id":"%s","version":1,"paymentId":"%s","ticket":{"id":"%s"}}`, oid, pid, tid)
	if got := e.rec.Raw(events.SubjectOrderCompleted)[0]; got != want {
		t.Fatalf("event %s\nwant  %s", got, want)
	}
	if o := c.Do(t, "GET", "/api/orders/"+oid, nil).Map(t); o["status"] != "complete" || o["version"] != 1.0 {
		t.Fatalf("order %v", o)
	}
	// A second payment (or a redelivery) changes nothing and emits nothing.
	svctest.Publish(t, e.bus, events.SubjectPaymentAuthorized, events.PaymentAuthorized{ID: bson.NewObjectID().Hex(), OrderID: oid, StripeID: "ch_2"})
	e.expireAndFlush(t, oid)
	if n := len(e.rec.Raw(events.SubjectOrderCompleted)); n != 0 {
		t.Fatalf("%d more order:completed", n)
	}
	if r := c.Do(t, "DELETE", "/api/orders/"+oid, nil); r.Status != 400 || r.Errors(t)[0].Message != "Cannot cancel a completed order" {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
}

// TestPaymentAfterExpiresAtCancels: expiry is exact. A payment authorized
// after expiresAt, before the expiration service fired, does not make the
// order paid: the order is cancelled there and then.
func TestPaymentAfterExpiresAtCancels(t *testing.T) {
	e := boot(t, "EXPIRATION_WINDOW", "1s")
	c, _ := e.user(t)
	tid := e.ticket(t, "Late", 100)
	o := placeOrder(t, c, tid).Map(t)
	at, _ := time.Parse(time.RFC3339, o["expiresAt"].(string))
	poll.Until(t, 5*time.Second, func() bool { return time.Now().After(at) }, "expiresAt to pass")
	svctest.Publish(t, e.bus, events.SubjectPaymentAuthorized, events.PaymentAuthorized{ID: bson.NewObjectID().Hex(), OrderID: o["id"].(string), StripeID: "ch_1"})
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectOrderCancelled)) == 1 }, "order:cancelled")
	if got := c.Do(t, "GET", "/api/orders/"+o["id"].(string), nil).Map(t)["status"]; got != "cancelled" || len(e.rec.Raw(events.SubjectOrderCompleted)) != 0 {
		t.Fatalf("status %v, %d order:completed", got, len(e.rec.Raw(events.SubjectOrderCompleted)))
	}
}

// TestOneOutcomePerOrder races a payment's authorization against the
// buyer's cancel, and against the expiry, many rounds at once: each order
// ends either complete with one order:completed and every cancel refused,
// or cancelled with one order:cancelled and no order:completed.
func TestOneOutcomePerOrder(t *testing.T) {
	e := boot(t)
	c, _ := e.user(t)
	const rounds = 12
	type round struct {
		order, ticket string
		cancel        int
	}
	set := make([]round, rounds)
	for i := range set {
		set[i].ticket = e.ticket(t, fmt.Sprint("Race ", i), 100)
		set[i].order = placeOrder(t, c, set[i].ticket).Map(t)["id"].(string)
	}
	e.rec.Reset()
	var wg sync.WaitGroup
	for i := range set {
		r := &set[i]
		pay := func() {
			svctest.Publish(t, e.bus, events.SubjectPaymentAuthorized, events.PaymentAuthorized{ID: bson.NewObjectID().Hex(), OrderID: r.order, StripeID: "ch"})
		}
		other := func() { r.cancel = c.Do(t, "DELETE", "/api/orders/"+r.order, nil).Status }
		if i%3 == 2 { // the expiry instead of the buyer
			other = func() {
				svctest.Publish(t, e.bus, events.SubjectExpirationComplete, events.ExpirationComplete{OrderID: r.order})
			}
		}
		if i%2 == 0 {
			pay, other = other, pay
		}
		wg.Go(pay)
		wg.Go(other)
	}
	wg.Wait()
	for _, r := range set {
		var status any
		poll.Until(t, 10*time.Second, func() bool {
			status = c.Do(t, "GET", "/api/orders/"+r.order, nil).Map(t)["status"]
			completed := len(e.rec.Messages(events.SubjectOrderCompleted, "id", r.order))
			cancelled := len(e.rec.Messages(events.SubjectOrderCancelled, "id", r.order))
			return (status == "complete" && completed == 1) || (status == "cancelled" && cancelled == 1)
		}, "order %s to settle", r.order)
		completed := len(e.rec.Messages(events.SubjectOrderCompleted, "id", r.order))
		cancelled := len(e.rec.Messages(events.SubjectOrderCancelled, "id", r.order))
		switch {
		case status == "complete" && (cancelled != 0 || (r.cancel != 0 && r.cancel != 400)):
			t.Errorf("order %s complete, yet %d order:cancelled and the cancel answered %d", r.order, cancelled, r.cancel)
		case status == "cancelled" && (completed != 0 || (r.cancel != 0 && r.cancel != 204)):
			t.Errorf("order %s cancelled, yet %d order:completed and the cancel answered %d", r.order, completed, r.cancel)
		}
	}
}
