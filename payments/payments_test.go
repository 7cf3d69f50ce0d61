package main

import (
	"context"
	"encoding/json"
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
// call that moves money — authorizations, captures, refunds — so a test can
// count them and read their amounts and keys.
type stripeSpy struct {
	mu      sync.Mutex
	charges []url.Values // POST /v1/charges
	keys    []string     // their idempotency keys
	capture []string     // charge ids captured
	refunds []url.Values // POST /v1/refunds
}

func (s *stripeSpy) start(t *testing.T) string {
	target, _ := url.Parse(stripekit.BaseURL(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			s.mu.Lock()
			switch {
			case r.URL.Path == "/v1/charges" && form.Get("source") == "tok_chargeDeclined":
				s.mu.Unlock()
				// stripe-mock accepts every card; answer as Stripe does
				// for a declined one.
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusPaymentRequired)
				_, _ = io.WriteString(w, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`)
				return
			case r.URL.Path == "/v1/charges":
				s.charges = append(s.charges, form)
				s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
			case strings.HasSuffix(r.URL.Path, "/capture"):
				s.capture = append(s.capture, strings.Split(r.URL.Path, "/")[3])
			case r.URL.Path == "/v1/refunds":
				s.refunds = append(s.refunds, form)
			}
			s.mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			r.ContentLength = int64(len(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// counts returns how many authorizations, captures and refunds were asked.
func (s *stripeSpy) counts() (charges, captures, refunds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.charges), len(s.capture), len(s.refunds)
}

func (s *stripeSpy) count() int {
	n, _, _ := s.counts()
	return n
}

type env struct {
	base   string
	mongo  string
	bus    events.Bus
	rec    *svctest.Recorder
	spy    *stripeSpy
	svc    *svctest.Service
	orders *ordersStandIn
}

// ordersStandIn plays the orders service's part over the real bus: on
// payment:authorized it decides as the test told it for that order —
// "complete" (the default: order:completed naming the payment), "cancel"
// (order:cancelled, as if a cancel had won) or "silent" (no answer).
type ordersStandIn struct {
	mode sync.Map // order id → mode
}

func (o *ordersStandIn) start(t *testing.T, b events.Bus) {
	err := b.Subscribe(events.Listener{Subject: events.SubjectPaymentAuthorized, QueueGroup: "orders-stand-in", AckWait: time.Second,
		Handler: func(ctx context.Context, m events.Message) error {
			p, err := events.Decode[events.PaymentAuthorized](m)
			if err != nil {
				return nil
			}
			mode, _ := o.mode.Load(p.OrderID)
			var subject string
			var payload any
			switch mode {
			case "silent":
				return nil
			case "cancel":
				subject, payload = events.SubjectOrderCancelled, events.OrderCancelled{ID: p.OrderID, Version: 1, Ticket: events.TicketRef{ID: "t"}}
			default:
				subject, payload = events.SubjectOrderCompleted, events.OrderCompleted{ID: p.OrderID, Version: 1, PaymentID: p.ID, Ticket: events.TicketRef{ID: "t"}}
			}
			data, _ := json.Marshal(payload)
			return b.Publish(ctx, subject, data)
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func boot(t *testing.T, extra ...string) *env {
	t.Helper()
	stan := natskit.Test(t)
	e := &env{spy: &stripeSpy{}, orders: &ordersStandIn{}}
	vars := svctest.BusEnv(stan, "payments-test")
	vars["JWT_KEY"], vars["MONGO_URI"], vars["STRIPE_KEY"], vars["STRIPE_API_URL"] = testKey, mongokit.DatabaseURI(t), "sk_test_123", e.spy.start(t)
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	e.mongo = vars["MONGO_URI"]
	e.svc = svctest.Boot(t, run, vars)
	e.base = e.svc.URL
	e.bus = svctest.Bus(t, stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectPaymentCreated, events.SubjectPaymentAuthorized)
	e.orders.start(t, e.bus)
	return e
}

func (e *env) user(t *testing.T) (svctest.Client, string) {
	id := bson.NewObjectID().Hex()
	return svctest.Client{Base: e.base, Cookie: svctest.SessionCookie(t, testKey, id, id+"@test.io")}, id
}

// order publishes order:created for userID and waits for the replica.
func (e *env) order(t *testing.T, c svctest.Client, userID string, price money.Cents) string {
	t.Helper()
	return e.orderExpiring(t, userID, price, time.Now().Add(time.Minute))
}

func (e *env) orderExpiring(t *testing.T, userID string, price money.Cents, expiresAt time.Time) string {
	t.Helper()
	id := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: id, Version: 0, Status: "created", UserID: userID,
		ExpiresAt: expiresAt, Ticket: events.OrderTicket{ID: bson.NewObjectID().Hex(), Price: price}})
	// Paying with a missing token is a validation error only once the order
	// is known; before, the body is refused first. So probe with another user.
	probe, _ := e.user(t)
	poll.Until(t, 10*time.Second, func() bool {
		return probe.Do(t, "POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": id}).Status == 401
	}, "order %s replicated", id)
	return id
}

// state reads the payment record of an order.
func (e *env) state(t *testing.T, orderID string) string {
	var p struct{ State string }
	_ = mongokit.Connect(t, e.mongo).Collection("payments").FindOne(t.Context(), bson.D{{Key: "orderId", Value: orderID}}).Decode(&p)
	return p.State
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
	// Authorized (not captured) for the exact cents, then captured once the
	// orders service made the order paid.
	if e.spy.count() != 1 || e.spy.charges[0].Get("amount") != "1999" || e.spy.charges[0].Get("currency") != "usd" ||
		e.spy.charges[0].Get("source") != "tok_visa" || e.spy.charges[0].Get("capture") != "false" || e.spy.keys[0] != oid {
		t.Fatalf("charge %v key %v", e.spy.charges, e.spy.keys)
	}
	if _, captures, refunds := e.spy.counts(); captures != 1 || refunds != 0 {
		t.Fatalf("%d captures, %d refunds", captures, refunds)
	}
	auth := e.rec.Messages(events.SubjectPaymentAuthorized, "orderId", oid)
	if len(auth) != 1 || len(auth[0]) != 3 || auth[0]["id"] != body["id"] || !strings.HasPrefix(auth[0]["stripeId"].(string), "ch_") {
		t.Fatalf("payment:authorized %v", auth)
	}
	if e.state(t, oid) != "captured" {
		t.Fatalf("payment state %q", e.state(t, oid))
	}
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Raw(events.SubjectPaymentCreated)) == 1 }, "payment:created")
	ev := e.rec.Messages(events.SubjectPaymentCreated, "", "")[0]
	if len(ev) != 3 || ev["id"] != body["id"] || ev["orderId"] != oid || !strings.HasPrefix(ev["stripeId"].(string), "ch_") {
		t.Fatalf("event %v", ev)
	}
	if r := pay(t, c, oid); r.Status != 400 || r.Errors(t)[0].Message != "Order is already paid" {
		t.Fatalf("second payment: %d %s", r.Status, r.Body)
	}
	if charges, captures, _ := e.spy.counts(); charges != 1 || captures != 1 {
		t.Fatalf("%d charges, %d captures", charges, captures)
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

// TestCancelledBeforeTheDecisionTakesNothing: the orders service decided
// for a cancel that won the race: the answer is 400, the authorization is
// released before it, nothing is captured and no payment:created is sent.
func TestCancelledBeforeTheDecisionTakesNothing(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	oid := e.order(t, c, uid, 700)
	e.orders.mode.Store(oid, "cancel")
	r := pay(t, c, oid)
	if r.Status != 400 || fmt.Sprint(r.Errors(t)) != "[{Cannot pay for a cancelled order }]" {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	charges, captures, refunds := e.spy.counts()
	if charges != 1 || captures != 0 || refunds != 1 || e.spy.refunds[0].Get("charge") == "" || e.spy.refunds[0].Get("amount") != "" {
		t.Fatalf("%d charges, %d captures, refunds %v: the hold must be released in full before the answer", charges, captures, e.spy.refunds)
	}
	if e.state(t, oid) != "released" {
		t.Fatalf("payment state %q", e.state(t, oid))
	}
	if r := pay(t, c, oid); r.Status != 400 || r.Errors(t)[0].Message != "Cannot pay for a cancelled order" {
		t.Fatalf("paying again: %d %s", r.Status, r.Body)
	}
	if n := len(e.rec.Raw(events.SubjectPaymentCreated)); n != 0 {
		t.Fatalf("%d payment:created for an unpaid order", n)
	}
	// The counter and the log line follow the release's write.
	poll.Until(t, 10*time.Second, func() bool {
		return strings.Contains(e.metrics(t), `payments_refunds_total{service="payments",state="released"} 1`)
	}, "payments_refunds_total counted the release")
}

// TestExpiredOrderIsNotPayable: past expiresAt an order is refused at once,
// even though no order:cancelled has come yet (the expiration service is
// late), and the card is never touched.
func TestExpiredOrderIsNotPayable(t *testing.T) {
	e := boot(t)
	c, uid := e.user(t)
	oid := e.orderExpiring(t, uid, 500, time.Now().Add(-time.Millisecond))
	if r := pay(t, c, oid); r.Status != 400 || fmt.Sprint(r.Errors(t)) != "[{Order has expired }]" {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if e.spy.count() != 0 {
		t.Fatalf("%d charges for an expired order", e.spy.count())
	}
}

// TestUndecidedAnswers503AndFollowsTheOrder: with no decision from the
// orders service in PAYMENT_TIMEOUT the answer is 503 and nothing is
// captured; the payment then follows the order: released once it is
// cancelled.
func TestUndecidedAnswers503AndFollowsTheOrder(t *testing.T) {
	e := boot(t, "PAYMENT_TIMEOUT", "1s")
	c, uid := e.user(t)
	oid := e.order(t, c, uid, 900)
	e.orders.mode.Store(oid, "silent")
	r := pay(t, c, oid)
	if r.Status != 503 || !strings.Contains(r.Errors(t)[0].Message, "nothing has been charged") {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	if _, captures, _ := e.spy.counts(); captures != 0 {
		t.Fatalf("%d captures while undecided", captures)
	}
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: oid, Version: 1, Ticket: events.TicketRef{ID: "t"}})
	poll.Until(t, 10*time.Second, func() bool { return e.state(t, oid) == "released" }, "the authorization released")
	if _, captures, refunds := e.spy.counts(); captures != 0 || refunds != 1 {
		t.Fatalf("%d captures, %d refunds", captures, refunds)
	}
}

// TestCrashBetweenAuthorizationAndRecord: what a payments process that died
// right after the provider authorized leaves behind — a pending record with
// no charge id — is released when the order ends cancelled: the hold is
// found again by its idempotency key and refunded, visibly.
func TestCrashBetweenAuthorizationAndRecord(t *testing.T) {
	e := boot(t)
	_, uid := e.user(t)
	oid := e.order(t, svctest.Client{}, uid, 1250)
	e.plant(t, oid, "pending", "", 1250)
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: oid, Version: 1, Ticket: events.TicketRef{ID: "t"}})
	poll.Until(t, 10*time.Second, func() bool { return e.state(t, oid) == "released" }, "the stale hold released")
	// The log line follows the release's write.
	poll.Until(t, 10*time.Second, func() bool {
		logs := e.svc.Logs.String()
		return strings.Contains(logs, "payment released") && strings.Contains(logs, oid)
	}, "a log line naming the order")
	e.spy.mu.Lock()
	defer e.spy.mu.Unlock()
	if len(e.spy.charges) != 1 || e.spy.keys[0] != oid || e.spy.charges[0].Get("amount") != "1250" || len(e.spy.refunds) != 1 || len(e.spy.capture) != 0 {
		t.Fatalf("charges %v keys %v refunds %v captures %v", e.spy.charges, e.spy.keys, e.spy.refunds, e.spy.capture)
	}

}

// TestRepairReleasesAStrandedAuthorization: an authorization recorded while
// the order was already cancelled, by a process that died before it could
// settle it (no event will come for that order again), is released by the
// repair pass.
func TestRepairReleasesAStrandedAuthorization(t *testing.T) {
	e := boot(t, "PAYMENT_TIMEOUT", "1s")
	_, uid := e.user(t)
	oid := e.order(t, svctest.Client{}, uid, 800)
	id, _ := bson.ObjectIDFromHex(oid)
	if _, err := mongokit.Connect(t, e.mongo).Collection("orders").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "cancelled"}, {Key: "version", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	e.plant(t, oid, "authorized", "ch_stranded", 800)
	poll.Until(t, 15*time.Second, func() bool { return e.state(t, oid) == "released" }, "the stranded hold released")
	e.spy.mu.Lock()
	defer e.spy.mu.Unlock()
	if len(e.spy.refunds) != 1 || e.spy.refunds[0].Get("charge") != "ch_stranded" || len(e.spy.capture) != 0 {
		t.Fatalf("refunds %v captures %v", e.spy.refunds, e.spy.capture)
	}
}

// plant writes a payment record as a crashed process leaves it, started
// long enough ago to count as abandoned.
func (e *env) plant(t *testing.T, orderID, state, stripeID string, amount money.Cents) {
	t.Helper()
	doc := bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "orderId", Value: orderID}, {Key: "state", Value: state},
		{Key: "amount", Value: amount}, {Key: "token", Value: "tok_visa"}, {Key: "startedAt", Value: time.Now().Add(-time.Hour)}}
	if stripeID != "" {
		doc = append(doc, bson.E{Key: "stripeId", Value: stripeID})
	}
	if _, err := mongokit.Connect(t, e.mongo).Collection("payments").InsertOne(t.Context(), doc); err != nil {
		t.Fatal(err)
	}
}

func (e *env) metrics(t *testing.T) string {
	return string(svctest.Client{Base: e.base}.Do(t, "GET", "/metrics", nil).Body)
}
