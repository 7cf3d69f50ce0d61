package e2e

import (
	"testing"
	"time"
)

// orderWhenReplicated places an order as soon as the orders service has
// heard of the ticket (before, the ticket is unknown to it: 404).
func orderWhenReplicated(t *testing.T, u *user, ticketID string) map[string]any {
	t.Helper()
	var order map[string]any
	until(t, 10*time.Second, "the ticket to reach orders", func() bool {
		status, body := u.do("POST", "/api/orders", map[string]string{"ticketId": ticketID})
		if status == 201 {
			order = body
		} else if status != 404 {
			t.Fatalf("order: %d %v", status, body)
		}
		return status == 201
	})
	return order
}

func TestPurchaseFlow(t *testing.T) {
	seller, buyer := signup(t), signup(t)
	status, tk := seller.do("POST", "/api/tickets", map[string]any{"title": "Concert", "price": "20.00"})
	if status != 201 {
		t.Fatalf("create ticket: %d %v", status, tk)
	}
	id := tk["id"].(string)
	if !listed(buyer, id) {
		t.Fatal("a new ticket is for sale")
	}
	order := orderWhenReplicated(t, buyer, id)
	oid := order["id"].(string)

	until(t, 10*time.Second, "the ticket to be reserved", func() bool {
		_, got := buyer.do("GET", "/api/tickets/"+id, nil)
		return got["orderId"] == oid
	})
	if listed(buyer, id) {
		t.Fatal("a reserved ticket is not for sale")
	}
	if status, body := seller.do("PUT", "/api/tickets/"+id, map[string]any{"title": "x", "price": 1}); status != 400 {
		t.Fatalf("edit of a reserved ticket: %d %v", status, body)
	}
	until(t, 10*time.Second, "the order to reach payments", func() bool {
		status, _ := buyer.do("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": oid})
		return status == 201
	})
	until(t, 10*time.Second, "the order to be complete", func() bool {
		_, o := buyer.do("GET", "/api/orders/"+oid, nil)
		return o["status"] == "complete"
	})
	// Sold: it stays reserved, even after its expiry time passes.
	if window > time.Minute {
		t.Logf("not waiting %v for the expiry time to pass (E2E_EXPIRATION_WINDOW)", window)
		return
	}
	until(t, 2*window+5*time.Second, "the expiry time to pass", func() bool { return expired(order) })
	_, o := buyer.do("GET", "/api/orders/"+oid, nil)
	if o["status"] != "complete" || listed(buyer, id) {
		t.Fatalf("after expiry: order %v, listed %v", o, listed(buyer, id))
	}
}

func expired(order map[string]any) bool {
	at, err := time.Parse(time.RFC3339, order["expiresAt"].(string))
	return err == nil && time.Now().After(at.Add(time.Second))
}

func TestExpiredOrderFreesTheTicket(t *testing.T) {
	shortWindow(t)
	seller, first, second := signup(t), signup(t), signup(t)
	_, tk := seller.do("POST", "/api/tickets", map[string]any{"title": "Expiring", "price": 15})
	id := tk["id"].(string)
	order := orderWhenReplicated(t, first, id)
	oid := order["id"].(string)
	until(t, window+10*time.Second, "the order to expire", func() bool {
		_, o := first.do("GET", "/api/orders/"+oid, nil)
		return o["status"] == "cancelled"
	})
	until(t, 10*time.Second, "the ticket to be for sale again", func() bool { return listed(second, id) })
	if status, body := first.do("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": oid}); status != 400 {
		t.Fatalf("paying an expired order: %d %v", status, body)
	}
	again := orderWhenReplicated(t, second, id)
	until(t, 10*time.Second, "payment", func() bool {
		status, _ := second.do("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": again["id"].(string)})
		return status == 201
	})
}
