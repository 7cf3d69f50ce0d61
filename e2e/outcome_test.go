package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/events"
)

// One outcome per order (CONTRACT §6): a payment, a cancellation and an
// expiry of the same order may arrive in any order and at any moment; the
// order ends paid or not paid, and every answer, the ticket and the events
// agree with it. Each scenario runs many rounds at once, over the gateway.

// answer is one HTTP answer of a race.
type answer struct {
	status  int
	message string
}

func (a answer) String() string { return fmt.Sprintf("%d %q", a.status, a.message) }

// send is u.raw for goroutines: it reports failures instead of failing the
// test from a goroutine that is not the test's.
func (u *user) send(method, path string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, gateway+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Cookie", u.cookie)
	resp, err := u.http.Do(req)
	if err != nil {
		return answer{status: -1, message: err.Error()}
	}
	defer resp.Body.Close()
	var env struct {
		Errors []struct{ Message string } `json:"errors"`
	}
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &env)
	a := answer{status: resp.StatusCode}
	if len(env.Errors) > 0 {
		a.message = env.Errors[0].Message
	}
	return a
}

// payable places an order for a new ticket and waits until the payments
// service knows it (before, paying is a 404), so the race is the only
// variable. It returns the order and its ticket's id.
func payable(t *testing.T, seller, buyer, stranger *user) (map[string]any, string) {
	t.Helper()
	status, tk := seller.do("POST", "/api/tickets", map[string]any{"title": "Race", "price": "12.34"})
	if status != 201 {
		t.Fatalf("create ticket: %d %v", status, tk)
	}
	order := orderWhenReplicated(t, buyer, tk["id"].(string))
	oid := order["id"].(string)
	until(t, 10*time.Second, "the order to reach payments", func() bool {
		// A stranger's payment is 401 once payments knows the order, 404
		// before; it never charges.
		return stranger.send("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": oid}).status == 401
	})
	return order, tk["id"].(string)
}

// paymentLog counts payment:created per order, as any consumer sees them.
type paymentLog struct {
	mu    sync.Mutex
	count map[string]int
}

// Against a platform elsewhere (E2E_URL) its bus is out of reach: the
// rounds then check the answers, the orders and the tickets only (nil).
func watchPayments(t *testing.T) *paymentLog {
	t.Helper()
	if external {
		return nil
	}
	kind := os.Getenv("EVENT_BUS")
	if kind == "" {
		kind = "stan"
	}
	id := fmt.Sprintf("outcome-%d", time.Now().UnixNano())
	b, err := eventbus.Connect(context.Background(), eventbus.Config{Kind: kind, URL: fmt.Sprintf("nats://127.0.0.1:%d", 4222+portOffset),
		ClusterID: "ticketing", ClientID: id, AckWait: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	l := &paymentLog{count: map[string]int{}}
	err = b.Subscribe(events.Listener{Subject: events.SubjectPaymentCreated, QueueGroup: id, AckWait: 5 * time.Second,
		Handler: func(_ context.Context, m events.Message) error {
			p, err := events.Decode[events.PaymentCreated](m)
			if err == nil {
				l.mu.Lock()
				l.count[p.OrderID]++
				l.mu.Unlock()
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *paymentLog) of(orderID string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[orderID]
}

// race is one round's record: what the buyer was answered.
type race struct {
	order  map[string]any
	ticket string
	buyer  *user
	pay    answer
	cancel *answer // nil when the round sent no DELETE
}

// checkOutcome asserts CONTRACT §6 for one round once it has settled.
func checkOutcome(t *testing.T, r race, payments *paymentLog) {
	t.Helper()
	oid := r.order["id"].(string)
	var status string
	until(t, window+20*time.Second, "the order to settle", func() bool {
		_, o := r.buyer.do("GET", "/api/orders/"+oid, nil)
		status, _ = o["status"].(string)
		return status == "complete" || status == "cancelled"
	})
	switch status {
	case "complete": // paid
		if r.pay.status != 201 {
			t.Fatalf("order %s is complete, but the payment was answered %v", oid, r.pay)
		}
		if r.cancel != nil && (r.cancel.status != 400 || r.cancel.message != "Cannot cancel a completed order") {
			t.Fatalf("order %s is complete, but the cancel was answered %v", oid, *r.cancel)
		}
		if payments != nil {
			until(t, 10*time.Second, "one payment:created", func() bool { return payments.of(oid) > 0 })
		}
		if holder := ticketField(t, r.ticket, "orderId"); holder != oid {
			t.Fatalf("order %s is paid, but its ticket is held by %v", oid, holder)
		}
	case "cancelled": // not paid
		if r.pay.status != 400 || (r.pay.message != "Cannot pay for a cancelled order" && r.pay.message != "Order has expired") {
			t.Fatalf("order %s is cancelled, but the payment was answered %v", oid, r.pay)
		}
		if r.cancel != nil && r.cancel.status != 204 {
			t.Fatalf("order %s is cancelled, but the cancel was answered %v", oid, *r.cancel)
		}
		until(t, 10*time.Second, "the ticket to be for sale again", func() bool { return listed(r.buyer, r.ticket) })
	}
}

// settleEvents checks, once every round has settled, that each paid order
// had exactly one payment:created and each unpaid one none.
func settleEvents(t *testing.T, rounds []race, payments *paymentLog) {
	t.Helper()
	if payments == nil {
		return
	}
	for _, r := range rounds {
		oid := r.order["id"].(string)
		_, o := r.buyer.do("GET", "/api/orders/"+oid, nil)
		want := 0
		if o["status"] == "complete" {
			want = 1
		}
		if got := payments.of(oid); got != want {
			t.Errorf("order %s is %v with %d payment:created events", oid, o["status"], got)
		}
	}
}

func TestCancelRacesPayment(t *testing.T) {
	payments := watchPayments(t)
	seller, buyer, stranger := signup(t), signup(t), signup(t)
	const rounds = 12
	var all []race
	for _, payFirst := range []bool{true, false} {
		var set [rounds]race
		for i := range set {
			order, ticket := payable(t, seller, buyer, stranger)
			set[i] = race{order: order, ticket: ticket, buyer: buyer}
		}
		var wg sync.WaitGroup
		for i := range set {
			r := &set[i]
			oid := r.order["id"].(string)
			pay := func() {
				r.pay = buyer.send("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": oid})
			}
			cancel := func() { c := buyer.send("DELETE", "/api/orders/"+oid, nil); r.cancel = &c }
			first, second := pay, cancel
			if !payFirst {
				first, second = cancel, pay
			}
			// The second request leaves 0 to 22 ms after the first, so
			// some cancels land while orders is deciding on the payment's
			// authorization: the moments under test, not a wait.
			stagger := time.Duration(2*i) * time.Millisecond
			wg.Go(first)
			wg.Go(func() { time.Sleep(stagger); second() })
		}
		wg.Wait()
		for _, r := range set {
			checkOutcome(t, r, payments)
		}
		all = append(all, set[:]...)
	}
	settleEvents(t, all, payments)
}

// TestExpiryRacesPayment sends payments around expiresAt, before the
// expiration service has fired and after: an order past expiresAt is never
// payable, and one paid before it never expires.
func TestExpiryRacesPayment(t *testing.T) {
	shortWindow(t)
	payments := watchPayments(t)
	seller, buyer, stranger := signup(t), signup(t), signup(t)
	offsets := []time.Duration{-300 * time.Millisecond, -100 * time.Millisecond, -30 * time.Millisecond, -5 * time.Millisecond,
		0, 5 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond}
	set := make([]race, len(offsets))
	for i := range set {
		order, ticket := payable(t, seller, buyer, stranger)
		set[i] = race{order: order, ticket: ticket, buyer: buyer}
	}
	var wg sync.WaitGroup
	for i, off := range offsets {
		r := &set[i]
		at, err := time.Parse(time.RFC3339, r.order["expiresAt"].(string))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			time.Sleep(time.Until(at.Add(off))) // the moment under test, not a wait for a condition
			r.pay = buyer.send("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": r.order["id"].(string)})
		})
	}
	wg.Wait()
	for i, r := range set {
		if offsets[i] >= 0 && r.pay.status == 201 {
			t.Errorf("a payment sent %v after expiresAt was accepted", offsets[i])
		}
		checkOutcome(t, r, payments)
	}
	settleEvents(t, set, payments)
}
