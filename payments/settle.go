package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
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
	for {
		p, err := a.store.Payment(ctx, orderID.Hex())
		if err != nil {
			return p, err
		}
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
			a.decided.wake(p.OrderID)
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
	a.log.Warn("payment released: the order was not paid by it", "order", p.OrderID, "payment", p.ID.Hex(), "stripeId", id,
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
	a.log.Warn("payment refunded: the order did not end paid by it", "order", p.OrderID, "payment", p.ID.Hex(), "stripeId", p.StripeID,
		"orderStatus", o.Status)
	return p, nil
}

// await follows p until it is decided, or ctx ends. A decision settled in
// this process wakes it at once; one settled by another replica is found by
// reading the record, at growing intervals.
func (a *api) await(ctx context.Context, p payment.Payment) (payment.Payment, error) {
	defer a.decided.wake(p.OrderID) // no waiter of this order is left behind
	wait := 20 * time.Millisecond
	woken := false
	for !p.State.Decided() {
		wake := a.decided.wait(p.OrderID)
		// A wake comes from a settle that decided the payment: reading it
		// is enough. Otherwise settle here too, which covers an order
		// decided before the payment was authorized (a cancel that won):
		// no event would come after it.
		var next payment.Payment
		var err error
		if woken {
			next, err = a.store.Payment(ctx, p.OrderID)
		} else {
			next, err = a.settle(ctx, objectID(p.OrderID))
		}
		woken = false
		switch {
		case err == nil:
			p = next
		case ctx.Err() != nil:
			return p, ctx.Err()
		default:
			a.log.Warn("payments: settle", "order", p.OrderID, "err", err)
		}
		if p.State.Decided() {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-wake:
			woken = true
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
		case <-ctx.Done():
			t.Stop()
			return p, ctx.Err()
		}
		t.Stop()
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
func (a *api) repair(ctx context.Context) error {
	t := time.NewTicker(a.repairEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		ids, err := a.store.Undecided(ctx, a.now().Add(-a.staleAfter))
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("payments: repair pass", "err", err)
			}
			continue
		}
		for _, id := range ids {
			if _, err := a.settle(ctx, objectID(id)); err != nil && ctx.Err() == nil {
				a.log.Warn("payments: repair", "order", id, "err", err)
			}
		}
	}
}

// waiters lets a request waiting for its order's decision be woken by the
// settle that made it, in this process.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// wait returns a channel closed at the next wake of key.
func (w *waiters) wait(key string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]chan struct{}{}
	}
	ch, ok := w.m[key]
	if !ok {
		ch = make(chan struct{})
		w.m[key] = ch
	}
	return ch
}

// wake wakes everyone waiting for key.
func (w *waiters) wake(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[key]; ok {
		close(ch)
		delete(w.m, key)
	}
}

func newRefunds() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "payments_refunds_total",
		Help: "Money given back on orders that did not end paid by the payment: authorizations released and charges refunded."},
		[]string{"state"})
}
