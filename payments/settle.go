package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/loop"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/payments/payment"
)

// settle makes the order's payment agree with the order's outcome as the
// orders service decided it (CONTRACT §6): captured if the order is complete
// and paid by this payment; released (or refunded, once captured) if the
// order is cancelled or paid by another. An undecided order changes nothing.
// It is called by whatever learns a new fact — the listeners of the orders'
// decisions, the request that authorized, the repair pass — so whichever
// comes last acts; each step is a conditional write and each provider call
// carries an idempotency key, so two of them acting at once move money once.
func (a *api) settle(ctx context.Context, orderID bson.ObjectID) (payment.Payment, error) {
	return a.settleKnown(ctx, orderID, nil)
}

// settleKnown is settle for a caller that knows the order's outcome (a
// listener that just applied it), sparing a read of the replica.
func (a *api) settleKnown(ctx context.Context, orderID bson.ObjectID, known *payment.Order) (payment.Payment, error) {
	// One settle of an order at a time in this process, so the request and
	// a listener that learn of the decision together ask the provider once.
	mu := &a.settling[int(orderID[len(orderID)-1])%len(a.settling)]
	mu.Lock()
	defer mu.Unlock()
	var o payment.Order
	if known != nil {
		o = *known
	} else {
		var err error
		if o, err = a.store.Order(ctx, orderID); err != nil {
			return payment.Payment{}, err
		}
	}
	// A payment this process just authorized and still waits on needs no
	// read. Were the copy stale, no money would move twice: each provider
	// call repeats with its idempotency key and each write is conditional
	// on the state read, so a step that lost learns ErrChanged and reads.
	p, held := a.decided.held(orderID.Hex())
	for {
		var err error
		if !held {
			if p, err = a.store.Payment(ctx, orderID.Hex()); err != nil {
				return p, err
			}
		}
		held = false
		switch {
		case o.Status == payment.Complete && o.PaymentID == p.ID.Hex():
			if p.State != payment.Authorized {
				return p, nil
			}
			p, err = a.capture(ctx, p)
		case o.Status == payment.Complete || o.Status == payment.Cancelled:
			switch {
			case p.State == payment.Pending || p.State == payment.Authorized:
				p, err = a.release(ctx, p, o)
			case p.State.Paid():
				p, err = a.refund(ctx, p, o)
			default:
				return p, nil
			}
		default:
			return p, nil
		}
		if errors.Is(err, payment.ErrChanged) {
			continue // another settle moved it first: look again
		}
		if err == nil {
			a.decided.wake(p.OrderID, &p)
		}
		return p, err
	}
}

// settleListener is settleKnown for a listener: an order without a payment
// is the common case, not an error.
func (a *api) settleListener(ctx context.Context, o payment.Order) error {
	_, err := a.settleKnown(ctx, o.ID, &o)
	if errors.Is(err, payment.ErrNotFound) {
		return nil
	}
	return err
}

// capture takes the authorized amount and emits payment:created with it.
func (a *api) capture(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	if err := a.charger.Capture(ctx, p.StripeID, "capture-"+p.OrderID); err != nil {
		return p, err
	}
	ev, err := outbox.NewEvent(events.TopicPaymentCreated, events.PaymentCreated{ID: p.ID.Hex(), OrderID: p.OrderID, StripeID: p.StripeID})
	if err != nil {
		return p, err
	}
	return a.store.Move(ctx, p, payment.Captured, "", &ev)
}

// release lets the authorization of an order that was not paid by it go. A
// pending payment may have reached the provider before its process died (or
// while its request still waits for the answer): asking again with its token
// and idempotency key returns that authorization — or makes one, released
// at once — so the hold is found either way.
func (a *api) release(ctx context.Context, p payment.Payment, o payment.Order) (payment.Payment, error) {
	id := p.StripeID
	if id == "" {
		var err error
		id, err = a.charger.Authorize(ctx, p.Amount, p.Token, p.OrderID)
		if errors.Is(err, errRefused) {
			return a.store.Move(ctx, p, payment.Released, "", nil) // nothing was ever held
		}
		if err != nil {
			return p, err
		}
	}
	if err := a.charger.Refund(ctx, id, "release-"+p.OrderID); err != nil {
		return p, err
	}
	from := p.State
	p, err := a.store.Move(ctx, p, payment.Released, id, nil)
	if err != nil {
		return p, err
	}
	a.refunds.WithLabelValues(string(payment.Released)).Inc()
	a.log.WarnContext(ctx, "payment released: the order was not paid by it", "order", p.OrderID, "payment", p.ID.Hex(), "stripeId", id,
		"orderStatus", o.Status, "from", from)
	return p, nil
}

// refund gives back a captured charge on an order that did not end paid by
// it (only a charge-first payments service of the original app, or a crash
// in one, can leave one).
func (a *api) refund(ctx context.Context, p payment.Payment, o payment.Order) (payment.Payment, error) {
	if err := a.charger.Refund(ctx, p.StripeID, "refund-"+p.OrderID); err != nil {
		return p, err
	}
	p, err := a.store.Move(ctx, p, payment.Refunded, "", nil)
	if err != nil {
		return p, err
	}
	a.refunds.WithLabelValues(string(payment.Refunded)).Inc()
	a.log.WarnContext(ctx, "payment refunded: the order did not end paid by it", "order", p.OrderID, "payment", p.ID.Hex(), "stripeId", p.StripeID,
		"orderStatus", o.Status)
	return p, nil
}

// await follows p until it is decided, or ctx ends. w is the wake of p's
// order, taken before p was last written, so no decision is missed. A
// settle in this process hands its decided payment to the waiters at once;
// a decision taken by another replica is found by looking at growing
// intervals. The first look settles, as an order decided before its payment
// was authorized (a cancel that won) sends no event after it; later looks
// read the payment and settle once a second, retrying what failed here (the
// provider was down). None comes before the first interval: on the path of
// every purchase they would queue before the relay that publishes
// payment:authorized and the listener that captures.
func (a *api) await(ctx context.Context, p payment.Payment, w *wakeup) (payment.Payment, error) {
	wait := 100 * time.Millisecond
	var settled time.Time // zero: settle on the next look
	for !p.State.Decided() {
		t := time.NewTimer(wait)
		select {
		case <-w.done:
			t.Stop()
			if w.p != nil {
				p = *w.p // decided: no need to read it
				continue
			}
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
		case <-ctx.Done():
			t.Stop()
			return p, ctx.Err()
		}
		w = a.decided.wait(p.OrderID)
		var next payment.Payment
		var err error
		if time.Since(settled) >= time.Second {
			settled = time.Now()
			next, err = a.settle(ctx, objectID(p.OrderID))
		} else {
			next, err = a.store.Payment(ctx, p.OrderID)
		}
		switch {
		case err == nil:
			p = next
		case ctx.Err() != nil:
			return p, ctx.Err()
		default:
			a.log.WarnContext(ctx, "payments: settle", "order", p.OrderID, "err", err)
		}
	}
	return p, nil
}

func objectID(hex string) bson.ObjectID {
	id, _ := bson.ObjectIDFromHex(hex) // ids of records are validated on the way in
	return id
}

// repair settles, every interval, the payments left undecided for longer
// than a request waits (a crash between the steps, or the provider down when
// the decision came): an authorization on an order that ended unpaid is
// released, visibly (a log line and payments_refunds_total).
func (a *api) repair(ctx context.Context) error { return loop.Every(ctx, a.repairEvery, a.repairPass) }

func (a *api) repairPass(ctx context.Context) {
	ids, err := a.store.Undecided(ctx, a.now().Add(-a.staleAfter))
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("payments: repair pass", "err", err)
		}
		return
	}
	for _, id := range ids {
		if _, err := a.settle(ctx, objectID(id)); err != nil && ctx.Err() == nil {
			a.log.Warn("payments: repair", "order", id, "err", err)
		}
	}
}

// waiters lets a request waiting for its order's decision be woken by the
// settle that made it, in this process.
type waiters struct {
	mu sync.Mutex
	m  map[string]*wakeup
}

// wakeup is closed at the next wake of its key, with the payment that
// decided it when the waker had one.
type wakeup struct {
	done chan struct{}
	p    *payment.Payment // set before done is closed
	held *payment.Payment // the waiting request's payment as it wrote it last
}

// hold keeps p, as its request just wrote it, with the wait of its order,
// until the next wake.
func (w *waiters) hold(p payment.Payment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if u, ok := w.m[p.OrderID]; ok {
		u.held = &p
	}
}

// held returns the payment a request waiting on key holds.
func (w *waiters) held(key string) (payment.Payment, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if u, ok := w.m[key]; ok && u.held != nil {
		return *u.held, true
	}
	return payment.Payment{}, false
}

// wait returns the next wake of key.
func (w *waiters) wait(key string) *wakeup {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]*wakeup{}
	}
	u, ok := w.m[key]
	if !ok {
		u = &wakeup{done: make(chan struct{})}
		w.m[key] = u
	}
	return u
}

// wake wakes everyone waiting for key, handing them p (a decided payment)
// when it is not nil.
func (w *waiters) wake(key string, p *payment.Payment) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if u, ok := w.m[key]; ok {
		u.p = p
		close(u.done)
		delete(w.m, key)
	}
}

func newRefunds() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "payments_refunds_total",
		Help: "Money given back on orders that did not end paid by the payment: authorizations released and charges refunded."},
		[]string{"state"})
}
