// Package events is the platform's event contract (docs/contract.md, "Events"): the
// subjects, one payload per subject with its exact JSON fields, and the
// transport-neutral publisher and listener. Transports (stanbus, jsbus) are
// the only importers of their client libraries; services never see which one
// runs.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ticketing-go/ticketing/common/money"
)

// The subjects (NATS Streaming channels) of the original app.
const (
	SubjectTicketCreated      = "ticket:created"
	SubjectTicketUpdated      = "ticket:updated"
	SubjectOrderCreated       = "order:created"
	SubjectOrderCancelled     = "order:cancelled"
	SubjectExpirationComplete = "expiration:complete"
	SubjectPaymentCreated     = "payment:created"
)

// The subjects this platform adds to the original's, for its one outcome per
// order (docs/contract.md, "Payments"): payments asks, orders decides.
const (
	SubjectPaymentAuthorized = "payment:authorized"
	SubjectOrderCompleted    = "order:completed"
)

// Subjects lists every subject, for transports that declare them up front.
var Subjects = func() []string {
	out := make([]string, len(Topics))
	for i, t := range Topics {
		out[i] = t.Subject()
	}
	return out
}()

// The queue groups (also the durable names), one per consuming service.
const (
	GroupTickets    = "tickets-service"
	GroupOrders     = "orders-service"
	GroupPayments   = "payments-service"
	GroupExpiration = "expiration-service"
)

// TicketCreated is the payload of ticket:created.
type TicketCreated struct {
	ID      string      `json:"id"`
	Version int64       `json:"version"`
	Title   string      `json:"title"`
	Price   money.Cents `json:"price"`
	UserID  string      `json:"userId"`
}

// TicketUpdated is the payload of ticket:updated; OrderID is present only
// while an order reserves the ticket.
type TicketUpdated struct {
	ID      string      `json:"id"`
	Version int64       `json:"version"`
	Title   string      `json:"title"`
	Price   money.Cents `json:"price"`
	UserID  string      `json:"userId"`
	OrderID string      `json:"orderId,omitempty"`
}

// OrderCreated is the payload of order:created.
type OrderCreated struct {
	ID        string      `json:"id"`
	Version   int64       `json:"version"`
	Status    string      `json:"status"`
	UserID    string      `json:"userId"`
	ExpiresAt time.Time   `json:"-"`
	Ticket    OrderTicket `json:"ticket"`
}

// OrderTicket is the ticket inside order:created.
type OrderTicket struct {
	ID    string      `json:"id"`
	Price money.Cents `json:"price"`
}

// OrderCancelled is the payload of order:cancelled.
type OrderCancelled struct {
	ID      string               `json:"id"`
	Version int64                `json:"version"`
	Ticket  OrderCancelledTicket `json:"ticket"`
}

// TicketRef is a ticket named by id only, inside order:cancelled and
// order:completed.
type TicketRef struct {
	ID string `json:"id"`
}

// OrderCancelledTicket is the ticket inside order:cancelled.
type OrderCancelledTicket = TicketRef

// ExpirationComplete is the payload of expiration:complete.
type ExpirationComplete struct {
	OrderID string `json:"orderId"`
}

// PaymentCreated is the payload of payment:created.
type PaymentCreated struct {
	ID       string `json:"id"`
	OrderID  string `json:"orderId"`
	StripeID string `json:"stripeId"`
}

// PaymentAuthorized is the payload of payment:authorized: the buyer's card
// holds the order's price (an authorization not yet captured) and payments
// asks orders to make the order paid by this payment.
type PaymentAuthorized struct {
	ID       string `json:"id"`
	OrderID  string `json:"orderId"`
	StripeID string `json:"stripeId"`
}

// OrderCompleted is the payload of order:completed: the order is paid by
// PaymentID, for good (its authorization is to be captured).
type OrderCompleted struct {
	ID        string    `json:"id"`
	Version   int64     `json:"version"`
	PaymentID string    `json:"paymentId"`
	Ticket    TicketRef `json:"ticket"`
}

// timeLayout is JavaScript's Date.toISOString, what the Node services send.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats t as JavaScript's toISOString does.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type orderCreatedJSON struct {
	ID        string      `json:"id"`
	Version   int64       `json:"version"`
	Status    string      `json:"status"`
	UserID    string      `json:"userId"`
	ExpiresAt string      `json:"expiresAt"`
	Ticket    OrderTicket `json:"ticket"`
}

// MarshalJSON writes expiresAt as an ISO-8601 UTC string with milliseconds.
func (o OrderCreated) MarshalJSON() ([]byte, error) {
	return json.Marshal(orderCreatedJSON{o.ID, o.Version, o.Status, o.UserID, FormatTime(o.ExpiresAt), o.Ticket})
}

// UnmarshalJSON reads any RFC 3339 expiresAt.
func (o *OrderCreated) UnmarshalJSON(b []byte) error {
	var j orderCreatedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, j.ExpiresAt)
	if err != nil {
		return err
	}
	*o = OrderCreated{ID: j.ID, Version: j.Version, Status: j.Status, UserID: j.UserID, ExpiresAt: t.UTC(), Ticket: j.Ticket}
	return nil
}

// ErrUnavailable is wrapped by Publish and Ready errors while the bus cannot
// be reached; the caller retries later (the outbox relay does).
var ErrUnavailable = errors.New("event bus unavailable")

// ErrClosed is returned by a bus after Close.
var ErrClosed = errors.New("event bus closed")

// Known reports whether subject is one of the platform's subjects. Buses
// refuse others, so every transport behaves the same (JetStream could not
// store them anyway).
func Known(subject string) bool { return slices.Contains(Subjects, subject) }

// Publisher publishes one message; it returns once the bus has stored it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// Message is one delivery to a listener.
type Message struct {
	Subject string
	Data    []byte
	// Sequence is the message's position in the bus; it grows with publish
	// order within a subject.
	Sequence uint64
	// Redelivered is set when an earlier delivery was not acknowledged.
	Redelivered bool
}

// Handler processes a message. Returning nil acknowledges it; an error
// withholds the acknowledgement so the bus redelivers it after the ack wait.
// ctx ends when the ack wait does: past it the message is redelivered anyway.
type Handler func(ctx context.Context, m Message) error

// Listener describes one durable queue subscription.
type Listener struct {
	Subject string
	// QueueGroup is the consuming service (GroupOrders, ...); it is also the
	// durable name, so replicas share the work and a restart resumes.
	QueueGroup string
	// AckWait is how long a delivery may stay unacknowledged before it is
	// redelivered; zero takes the bus's default (ACK_WAIT).
	AckWait time.Duration
	Handler Handler
}

// Validate reports a listener no transport can serve. Ack waits under a
// second are refused because NATS Streaming refuses them.
func (l Listener) Validate() error {
	switch {
	case !Known(l.Subject):
		return fmt.Errorf("events: unknown subject %q", l.Subject)
	case l.QueueGroup == "" || strings.ContainsAny(l.QueueGroup, " \t\r\n.*>/\\:"):
		return fmt.Errorf("events: bad queue group %q", l.QueueGroup)
	case l.AckWait != 0 && l.AckWait < time.Second:
		return fmt.Errorf("events: ack wait %v is under 1s", l.AckWait)
	case l.Handler == nil:
		return errors.New("events: listener without handler")
	}
	return nil
}

// Bus is a connected event bus. Services get one from eventbus.Connect and
// cannot tell which transport runs.
type Bus interface {
	Publisher
	// Subscribe starts delivering to l; subscriptions survive reconnects.
	// Each (subject, queue group) may be subscribed once per bus.
	Subscribe(l Listener) error
	// Ready reports whether the bus is connected (a readiness check); the
	// error wraps ErrUnavailable while it is not.
	Ready(ctx context.Context) error
	// Close waits for running handlers, then closes subscriptions (keeping
	// their durable state) and the connection.
	Close() error
}

// Decode unmarshals a message into a payload; a message that cannot be
// decoded is a poison message, which the caller should acknowledge and log.
func Decode[T any](m Message) (T, error) {
	var v T
	err := json.Unmarshal(m.Data, &v)
	return v, err
}
