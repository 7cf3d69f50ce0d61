package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	"github.com/ticketing-go/ticketing/kit/stripekit"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

const testKey = "payments-test-key"

// stripeSpy sits between the service and stripe-mock and records every
// charge request, so a test can count charges and read their amounts.
type stripeSpy struct {
	mu      sync.Mutex
	charges []url.Values
	keys    []string
}

func (s *stripeSpy) start(t *testing.T) string {
	target, _ := url.Parse(stripekit.BaseURL(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.URL.Path == "/v1/charges" {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			if form.Get("source") == "tok_chargeDeclined" {
				// stripe-mock accepts every card; answer as Stripe does
				// for a declined one.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusPaymentRequired)
				_, _ = io.WriteString(w, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`)
				return
			}
			s.mu.Lock()
			s.charges = append(s.charges, form)
			s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
			s.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			r.ContentLength = int64(len(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (s *stripeSpy) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.charges)
}

type env struct {
	base  string
	mongo string
	bus   events.Bus
	rec   *svctest.Recorder
	spy   *stripeSpy
}

func boot(t *testing.T) *env {
	t.Helper()
	stan := natskit.Test(t)
	e := &env{spy: &stripeSpy{}}
	vars := svctest.BusEnv(stan, "payments-test")
	vars["JWT_KEY"], vars["MONGO_URI"], vars["STRIPE_KEY"], vars["STRIPE_API_URL"] = testKey, mongokit.DatabaseURI(t), "sk_test_123", e.spy.start(t)
	e.mongo = vars["MONGO_URI"]
	e.base = svctest.Boot(t, run, vars).URL
	e.bus = svctest.Bus(t, stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectPaymentCreated)
	return e
}

func (e *env) user(t *testing.T) (svctest.Client, string) {
	id := bson.NewObjectID().Hex()
	return svctest.Client{Base: e.base, Cookie: svctest.SessionCookie(t, testKey, id, id+"@test.io")}, id
}

// order publishes order:created for userID and waits for the replica.
func (e *env) order(t *testing.T, c svctest.Client, userID string, price money.Cents) string {
	t.Helper()
	id := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: id, Version: 0, Status: "created", UserID: userID,
		ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: bson.NewObjectID().Hex(), Price: price}})
	// Paying with a missing token is a validation error only once the order
	// is known; before, the body is refused first. So probe with another user.
	probe, _ := e.user(t)
	poll.Until(t, 10*time.Second, func() bool {
		return probe.Do(t, "POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": id}).Status == 401
	}, "order %s replicated", id)
	return id
}

func pay(t *testing.T, c svctest.Client, orderID string) svctest.Response {
	return c.Do(t, "POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": orderID})
}

func TestPayChargesExactCentsOnce(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	oid := e.order(t, c, uid, 1999) // 19.99: 19.99*100 in floating point is 1998.9999…
	r := pay(t, c, oid)
	if r.Status != http.StatusCreated {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	body := r.Map(t)
	if len(body) != 1 || len(body["id"].(string)) != 24 {
		t.Fatalf("body %s", r.Body)
	}
	if e.spy.count() != 1 || e.spy.charges[0].Get("amount") != "1999" || e.spy.charges[0].Get("currency") != "usd" ||
		e.spy.charges[0].Get("source") != "tok_visa" || e.spy.keys[0] != oid {
		t.Fatalf("charge %v key %v", e.spy.charges, e.spy.keys)
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectPaymentCreated)) == 1 }, "payment:created")
	ev := e.rec.Messages(events.SubjectPaymentCreated, "", "")[0]
	if len(ev) != 3 || ev["id"] != body["id"] || ev["orderId"] != oid || !strings.HasPrefix(ev["stripeId"].(string), "ch_") {
		t.Fatalf("event %v", ev)
	}
	if r := pay(t, c, oid); r.Status != 400 || r.Errors(t)[0].Message != "Order is already paid" {
		t.Fatalf("second payment: %d %s", r.Status, r.Body)
	}
	if e.spy.count() != 1 {
		t.Fatalf("%d charges", e.spy.count())
	}
}

func TestConcurrentPaymentsChargeOnce(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	oid := e.order(t, c, uid, 500)
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = pay(t, c, oid).Status })
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == 201 {
			created++
		} else if s != 400 {
			t.Fatalf("statuses %v", statuses)
		}
	}
	if created != 1 || e.spy.count() != 1 {
		t.Fatalf("statuses %v, %d charges", statuses, e.spy.count())
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectPaymentCreated)) == 1 }, "one payment:created")
}

func TestPaymentFailures(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	other, _ := e.user(t)
	oid := e.order(t, c, uid, 500)
	cancelled := e.order(t, c, uid, 500)
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: cancelled, Version: 1, Ticket: events.OrderCancelledTicket{ID: bson.NewObjectID().Hex()}})
	replica := mongokit.Connect(t, e.mongo).Collection("orders")
	poll.Until(t, 10*time.Second, func() bool {
		var o struct{ Status string }
		_ = replica.FindOne(t.Context(), bson.D{{Key: "_id", Value: mustID(t, cancelled)}}).Decode(&o)
		return o.Status == "cancelled"
	}, "cancel replicated")

	token := svctest.ErrorEntry{Message: "Token must be provided", Field: "token"}
	orderID := svctest.ErrorEntry{Message: "OrderId must be provided", Field: "orderId"}
	for _, tc := range []struct {
		name   string
		c      svctest.Client
		body   any
		status int
		want   []svctest.ErrorEntry
	}{
		{"signed out", svctest.Client{Base: e.base}, map[string]string{"token": "tok_visa", "orderId": oid}, 401, []svctest.ErrorEntry{{Message: "Not authorized"}}},
		{"empty", c, `{}`, 400, []svctest.ErrorEntry{token, orderID}},
		{"malformed order id", c, map[string]string{"token": "tok_visa", "orderId": "123"}, 400, []svctest.ErrorEntry{orderID}},
		{"token of the wrong type", c, `{"token":5,"orderId":"` + oid + `"}`, 400, []svctest.ErrorEntry{token}},
		{"unknown order", c, map[string]string{"token": "tok_visa", "orderId": bson.NewObjectID().Hex()}, 404, []svctest.ErrorEntry{{Message: "Not Found"}}},
		{"not the owner", other, map[string]string{"token": "tok_visa", "orderId": oid}, 401, []svctest.ErrorEntry{{Message: "Not authorized"}}},
		{"cancelled", c, map[string]string{"token": "tok_visa", "orderId": cancelled}, 400, []svctest.ErrorEntry{{Message: "Cannot pay for a cancelled order"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(t, "POST", "/api/payments", tc.body)
			if r.Status != tc.status || fmt.Sprint(r.Errors(t)) != fmt.Sprint(tc.want) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	if e.spy.count() != 0 {
		t.Fatalf("%d charges for refused payments", e.spy.count())
	}
}

func TestProviderErrorStoresNothing(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	oid := e.order(t, c, uid, 500)
	r := c.Do(t, "POST", "/api/payments", map[string]string{"token": "tok_chargeDeclined", "orderId": oid})
	if r.Status != 400 || fmt.Sprint(r.Errors(t)) != "[{Your card was declined. token}]" {
		t.Fatalf("declined card: %d %s", r.Status, r.Body)
	}
	// Nothing was recorded: paying again with a good card works.
	if r := pay(t, c, oid); r.Status != 201 {
		t.Fatalf("after a provider error: %d %s", r.Status, r.Body)
	}
}

func mustID(t *testing.T, hex string) bson.ObjectID {
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
