package main

import (
	"sync"
	"testing"

	"github.com/ticketing-go/ticketing/payments/payment"
)

// TestWakeHandsTheDecisionToEveryWaiter: waiters of an order registered
// before a wake all get the decided payment it carries (so none reads it
// again); a wake without one wakes them empty-handed; a waiter registered
// after a wake waits for the next.
func TestWakeHandsTheDecisionToEveryWaiter(t *testing.T) {
	var w waiters
	decided := payment.Payment{OrderID: "o1", State: payment.Captured}
	var wg sync.WaitGroup
	got := make(chan *payment.Payment, 8)
	for range 8 {
		u := w.wait("o1")
		wg.Go(func() {
			<-u.done
			got <- u.p
		})
	}
	w.wake("o2", &payment.Payment{}) // another order's wake
	w.wake("o1", &decided)
	wg.Wait()
	close(got)
	for p := range got {
		if p == nil || p.State != payment.Captured {
			t.Fatalf("woken with %v, want the captured payment", p)
		}
	}

	later := w.wait("o1")
	select {
	case <-later.done:
		t.Fatal("a waiter registered after the wake was woken by it")
	default: // a wake closes its channel before it returns
	}
	w.wake("o1", nil)
	<-later.done
	if later.p != nil {
		t.Fatalf("woken without a decision, got %v", later.p)
	}
}

// TestHeldPaymentLastsUntilTheWake: the payment a waiting request wrote is
// there for a settle of its order until the order's next wake, and never
// for an order nobody waits on.
func TestHeldPaymentLastsUntilTheWake(t *testing.T) {
	var w waiters
	w.hold(payment.Payment{OrderID: "o1", State: payment.Authorized})
	if _, ok := w.held("o1"); ok {
		t.Fatal("held for an order nobody waits on")
	}
	w.wait("o1")
	w.hold(payment.Payment{OrderID: "o1", State: payment.Authorized, StripeID: "ch_1"})
	if p, ok := w.held("o1"); !ok || p.StripeID != "ch_1" {
		t.Fatalf("held %v, %v", p, ok)
	}
	if _, ok := w.held("o2"); ok {
		t.Fatal("another order's payment")
	}
	w.wake("o1", nil)
	if _, ok := w.held("o1"); ok {
		t.Fatal("still held after the wake")
	}
}
