// Package ticket is the tickets service's inventory: the ticket, its rules,
// its store and the store's MongoDB implementation.
package ticket

import (
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/money"
)

// Ticket is a ticket for sale. OrderID is set while an order reserves it.
// Every change increments Version by exactly one.
type Ticket struct {
	ID      bson.ObjectID `bson:"_id"`
	Title   string        `bson:"title"`
	Price   money.Cents   `bson:"price"`
	UserID  string        `bson:"userId"`
	Version int64         `bson:"version"`
	OrderID string        `bson:"orderId,omitempty"`
	// Sold: the order holding the ticket is paid (order:completed); the
	// ticket stays reserved by it for good.
	Sold      bool      `bson:"sold,omitempty"`
	CreatedAt time.Time `bson:"createdAt"`
	// CancelledOrders lists orders whose order:cancelled arrived before
	// their order:created (different subjects are not ordered on the bus),
	// so the late order:created does not reserve the ticket for a dead order.
	CancelledOrders []string `bson:"cancelledOrders,omitempty"`
}

// View is the JSON shape of a ticket (docs/contract.md, "Tickets").
type View struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Price   money.Cents `json:"price"`
	UserID  string      `json:"userId"`
	Version int64       `json:"version"`
	OrderID string      `json:"orderId,omitempty"`
	// Sold is an addition to the original's shape: present (true) only on a
	// sold ticket, so clients of the original see nothing new.
	Sold bool `json:"sold,omitempty"`
}

// View returns the public shape of t.
func (t Ticket) View() View {
	return View{ID: t.ID.Hex(), Title: t.Title, Price: t.Price, UserID: t.UserID, Version: t.Version, OrderID: t.OrderID, Sold: t.Sold}
}

// Reserved reports whether an order holds the ticket.
func (t Ticket) Reserved() bool { return t.OrderID != "" }

// New returns a ticket at version 0.
func New(title string, price money.Cents, userID string) Ticket {
	return Ticket{ID: bson.NewObjectID(), Title: title, Price: price, UserID: userID, CreatedAt: time.Now().UTC()}
}

// Next returns t as its next version, changed by fn.
func (t Ticket) Next(fn func(*Ticket)) Ticket {
	n := t
	fn(&n)
	n.Version = t.Version + 1
	return n
}

// Created is the ticket:created event of t.
func (t Ticket) Created() events.TicketCreated {
	return events.TicketCreated{ID: t.ID.Hex(), Version: t.Version, Title: t.Title, Price: t.Price, UserID: t.UserID}
}

// Updated is the ticket:updated event of t.
func (t Ticket) Updated() events.TicketUpdated {
	return events.TicketUpdated{ID: t.ID.Hex(), Version: t.Version, Title: t.Title, Price: t.Price, UserID: t.UserID, OrderID: t.OrderID}
}

var (
	// ErrNotFound: no ticket has that id.
	ErrNotFound = errors.New("ticket: not found")
	// ErrConflict: the ticket changed since it was read.
	ErrConflict = errors.New("ticket: changed since it was read")
)
