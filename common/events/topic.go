package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// Topic binds a subject to its payload type: publishers, the outbox and
// listeners take a Topic, so a payload of the wrong type for a subject does
// not compile, and every event is marshalled by Topic.Marshal alone.
type Topic[T any] struct{ subject string }

// Subject is the topic's subject (the NATS channel).
func (t Topic[T]) Subject() string { return t.subject }

// Marshal is the one path from a payload to its wire form.
func (t Topic[T]) Marshal(payload T) ([]byte, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("events: marshal %s: %w", t.subject, err)
	}
	return data, nil
}

// Payload returns the topic's payload type's zero value (for checks that
// look at its fields, such as the README's event table).
func (t Topic[T]) Payload() any {
	var v T
	return v
}

// The topics, one per subject.
var (
	TopicTicketCreated      = Topic[TicketCreated]{SubjectTicketCreated}
	TopicTicketUpdated      = Topic[TicketUpdated]{SubjectTicketUpdated}
	TopicOrderCreated       = Topic[OrderCreated]{SubjectOrderCreated}
	TopicOrderCancelled     = Topic[OrderCancelled]{SubjectOrderCancelled}
	TopicExpirationComplete = Topic[ExpirationComplete]{SubjectExpirationComplete}
	TopicPaymentCreated     = Topic[PaymentCreated]{SubjectPaymentCreated}
	TopicPaymentAuthorized  = Topic[PaymentAuthorized]{SubjectPaymentAuthorized}
	TopicOrderCompleted     = Topic[OrderCompleted]{SubjectOrderCompleted}
)

// AnyTopic is a Topic of any payload type, for lists of them.
type AnyTopic interface {
	Subject() string
	Payload() any
}

// Topics lists every topic, in the README's order.
var Topics = []AnyTopic{TopicTicketCreated, TopicTicketUpdated, TopicOrderCreated, TopicOrderCancelled,
	TopicExpirationComplete, TopicPaymentCreated, TopicPaymentAuthorized, TopicOrderCompleted}

// Publish marshals payload and publishes it on the topic's subject.
func Publish[T any](ctx context.Context, p Publisher, topic Topic[T], payload T) error {
	data, err := topic.Marshal(payload)
	if err != nil {
		return err
	}
	return p.Publish(ctx, topic.subject, data)
}

// On builds a listener of topic whose handler receives the decoded payload.
// A message that cannot be decoded can never succeed; it is logged and
// acknowledged so it does not come back forever. A handled event is logged
// at info, naming its subject and entity: with the request id its context
// carries (JetStream), that line is how a request is followed through the
// services it touched (README, "Observability").
func On[T any](topic Topic[T], group string, ackWait time.Duration, log *slog.Logger, fn func(ctx context.Context, payload T) error) Listener {
	return Listener{Subject: topic.subject, QueueGroup: group, AckWait: ackWait, Handler: func(ctx context.Context, m Message) error {
		v, err := Decode[T](m)
		if err != nil {
			log.ErrorContext(ctx, "dropping undecodable event", "subject", m.Subject, "seq", m.Sequence, "err", err)
			return nil
		}
		if err := fn(ctx, v); err != nil {
			return err // the bus logs it, with the request id, and redelivers
		}
		attrs := []any{"subject", m.Subject, "group", group, "seq", m.Sequence}
		if e, ok := any(v).(entity); ok {
			attrs = append(attrs, e.entity()...)
		}
		log.InfoContext(ctx, "event handled", attrs...)
		return nil
	}}
}

// entity is a payload that names the entities it is about, for log lines.
type entity interface{ entity() []any }

func (e TicketCreated) entity() []any { return []any{"ticket", e.ID, "version", e.Version} }
func (e TicketUpdated) entity() []any {
	return []any{"ticket", e.ID, "version", e.Version, "order", e.OrderID}
}
func (e OrderCreated) entity() []any {
	return []any{"order", e.ID, "version", e.Version, "ticket", e.Ticket.ID}
}
func (e OrderCancelled) entity() []any {
	return []any{"order", e.ID, "version", e.Version, "ticket", e.Ticket.ID}
}
func (e OrderCompleted) entity() []any {
	return []any{"order", e.ID, "version", e.Version, "payment", e.PaymentID, "ticket", e.Ticket.ID}
}
func (e ExpirationComplete) entity() []any { return []any{"order", e.OrderID} }
func (e PaymentCreated) entity() []any     { return []any{"payment", e.ID, "order", e.OrderID} }
func (e PaymentAuthorized) entity() []any  { return []any{"payment", e.ID, "order", e.OrderID} }
