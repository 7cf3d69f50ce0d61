// Package order is the orders service's domain: orders, the replica of the
// tickets they reserve, and the single-document claim that makes a
// reservation atomic without multi-document transactions.
package order

import (
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/money"
)

// Status is an order's state (docs/contract.md, "Orders").
type Status string

// The statuses of the original app.
const (
	Created         Status = "created"
	Cancelled       Status = "cancelled"
	AwaitingPayment Status = "awaiting:payment"
	Complete        Status = "complete"
)

// Active reports whether an order in status s holds its ticket.
func (s Status) Active() bool { return s == Created || s == AwaitingPayment || s == Complete }

// Cancellable reports whether an order in status s may still be cancelled.
func (s Status) Cancellable() bool { return s == Created || s == AwaitingPayment }

// Order is a user's reservation of one ticket.
type Order struct {
	ID        bson.ObjectID `bson:"_id"`
	UserID    string        `bson:"userId"`
	Status    Status        `bson:"status"`
	ExpiresAt time.Time     `bson:"expiresAt"`
	Version   int64         `bson:"version"`
	TicketID  bson.ObjectID `bson:"ticketId"`
	// PaymentID is the payment that made the order complete.
	PaymentID string `bson:"paymentId,omitempty"`
}

// Ticket is the orders service's replica of a ticket. Claim is local state:
// the order that reserves it (see Store.Claim).
type Ticket struct {
	ID      bson.ObjectID `bson:"_id"`
	Title   string        `bson:"title"`
	Price   money.Cents   `bson:"price"`
	Version int64         `bson:"version"`
	// UserID is the seller (empty in replicas written before it was kept).
	UserID string        `bson:"userId,omitempty"`
	Claim  bson.ObjectID `bson:"claim,omitempty"`
}

// View is the JSON shape of an order, with its ticket embedded.
type View struct {
	ID        string     `json:"id"`
	UserID    string     `json:"userId"`
	Status    Status     `json:"status"`
	ExpiresAt string     `json:"expiresAt"`
	Version   int64      `json:"version"`
	Ticket    TicketView `json:"ticket"`
}

// TicketView is the ticket inside an order's JSON.
type TicketView struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Price   money.Cents `json:"price"`
	Version int64       `json:"version"`
}

// View returns the public shape of o with its ticket t.
func (o Order) View(t Ticket) View {
	return View{ID: o.ID.Hex(), UserID: o.UserID, Status: o.Status, ExpiresAt: events.FormatTime(o.ExpiresAt), Version: o.Version,
		Ticket: TicketView{ID: t.ID.Hex(), Title: t.Title, Price: t.Price, Version: t.Version}}
}

// Created is the order:created event of o for ticket t.
func (o Order) Created(t Ticket) events.OrderCreated {
	return events.OrderCreated{ID: o.ID.Hex(), Version: o.Version, Status: string(o.Status), UserID: o.UserID,
		ExpiresAt: o.ExpiresAt, Ticket: events.OrderTicket{ID: t.ID.Hex(), Price: t.Price}}
}

// Completed is the order:completed event of o (after it was paid).
func (o Order) Completed() events.OrderCompleted {
	return events.OrderCompleted{ID: o.ID.Hex(), Version: o.Version, PaymentID: o.PaymentID, Ticket: events.TicketRef{ID: o.TicketID.Hex()}}
}

// Cancelled is the order:cancelled event of o (after the cancel).
func (o Order) Cancelled() events.OrderCancelled {
	return events.OrderCancelled{ID: o.ID.Hex(), Version: o.Version, Ticket: events.OrderCancelledTicket{ID: o.TicketID.Hex()}}
}

var (
	// ErrNotFound: no such order or ticket.
	ErrNotFound = errors.New("order: not found")
	// ErrReserved: another active order holds the ticket.
	ErrReserved = errors.New("order: ticket is already reserved")
	// ErrConflict: the order changed since it was read.
	ErrConflict = errors.New("order: changed since it was read")
)
