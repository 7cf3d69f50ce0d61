package events_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
)

// The exact wire forms of docs/contract.md, "Events", as the Node services send them.
func TestPayloadWireForms(t *testing.T) {
	expires := time.Date(2026, 11, 28, 20, 40, 0, 123_456_789, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name    string
		payload any
		want    string
	}{
		{"ticket:created", events.TicketCreated{ID: "t1", Version: 0, Title: "concert", Price: 2000, UserID: "u1"},
			`{"id":"t1","version":0,"title":"concert","price":20,"userId":"u1"}`},
		{"ticket:updated, free", events.TicketUpdated{ID: "t1", Version: 1, Title: "concert", Price: 1999, UserID: "u1"},
			`{"id":"t1","version":1,"title":"concert","price":19.99,"userId":"u1"}`},
		{"ticket:updated, reserved", events.TicketUpdated{ID: "t1", Version: 2, Title: "concert", Price: 2050, UserID: "u1", OrderID: "o1"},
			`{"id":"t1","version":2,"title":"concert","price":20.5,"userId":"u1","orderId":"o1"}`},
		{"order:created", events.OrderCreated{ID: "o1", Version: 0, Status: "created", UserID: "u1", ExpiresAt: expires, Ticket: events.OrderTicket{ID: "t1", Price: 2000}},
			`{"id":"o1","version":0,"status":"created","userId":"u1","expiresAt":"2026-11-28T19:40:00.123Z","ticket":{"id":"t1","price":20}}`},
		{"order:cancelled", events.OrderCancelled{ID: "o1", Version: 1, Ticket: events.OrderCancelledTicket{ID: "t1"}},
			`{"id":"o1","version":1,"ticket":{"id":"t1"}}`},
		{"expiration:complete", events.ExpirationComplete{OrderID: "o1"}, `{"orderId":"o1"}`},
		{"payment:created", events.PaymentCreated{ID: "p1", OrderID: "o1", StripeID: "ch_1"}, `{"id":"p1","orderId":"o1","stripeId":"ch_1"}`},
		{"payment:authorized", events.PaymentAuthorized{ID: "p1", OrderID: "o1", StripeID: "ch_1"}, `{"id":"p1","orderId":"o1","stripeId":"ch_1"}`},
		{"order:completed", events.OrderCompleted{ID: "o1", Version: 1, PaymentID: "p1", Ticket: events.TicketRef{ID: "t1"}},
			`{"id":"o1","version":1,"paymentId":"p1","ticket":{"id":"t1"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.payload)
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestOrderCreatedReadsWhatNodeSends(t *testing.T) {
	in := `{"id":"o1","version":3,"status":"created","userId":"u1","expiresAt":"2026-11-28T19:40:00.000Z","ticket":{"id":"t1","price":19.99},"extra":1}`
	got, err := events.Decode[events.OrderCreated](events.Message{Data: []byte(in)})
	if err != nil {
		t.Fatal(err)
	}
	want := events.OrderCreated{ID: "o1", Version: 3, Status: "created", UserID: "u1",
		ExpiresAt: time.Date(2026, 11, 28, 19, 40, 0, 0, time.UTC), Ticket: events.OrderTicket{ID: "t1", Price: 1999}}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if _, err := events.Decode[events.OrderCreated](events.Message{Data: []byte(`{"expiresAt":"tomorrow"}`)}); err == nil {
		t.Fatal("bad expiresAt accepted")
	}
}

func TestListenerValidate(t *testing.T) {
	ok := events.Listener{Subject: events.SubjectOrderCreated, QueueGroup: events.GroupPayments, Handler: func(context.Context, events.Message) error { return nil }}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*events.Listener){
		"unknown subject":    func(l *events.Listener) { l.Subject = "order.created" },
		"no group":           func(l *events.Listener) { l.QueueGroup = "" },
		"group with a dot":   func(l *events.Listener) { l.QueueGroup = "a.b" },
		"ack wait under 1s":  func(l *events.Listener) { l.AckWait = 500 * time.Millisecond },
		"no handler":         func(l *events.Listener) { l.Handler = nil },
		"group with a colon": func(l *events.Listener) { l.QueueGroup = "a:b" },
	} {
		l := ok
		change(&l)
		if l.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type recorder struct {
	subject string
	data    string
}

func (r *recorder) Publish(_ context.Context, subject string, data []byte) error {
	r.subject, r.data = subject, string(data)
	return nil
}

func TestPublishMarshals(t *testing.T) {
	var r recorder
	if err := events.Publish(t.Context(), &r, events.TopicExpirationComplete, events.ExpirationComplete{OrderID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if r.subject != "expiration:complete" || r.data != `{"orderId":"o1"}` {
		t.Fatalf("published %+v", r)
	}
}
