package order

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/lease"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/replica"
)

// Collection is the orders' collection.
const Collection = "orders"

// Store keeps orders and the ticket replica in the service's database.
// Orders are written through their outbox relay: every write that changes
// one hands its event to the relay.
type Store struct {
	ob      *outbox.Relay
	orders  *mongo.Collection
	tickets *mongo.Collection
	// orphanAge is how old a claim whose order was never written must be
	// before another order may take the ticket (a crash between the claim
	// and the order insert leaves such a claim behind).
	orphanAge time.Duration
}

// NewStore returns the store on the relay's collection and the ticket
// replica beside it, and declares its indexes.
func NewStore(ctx context.Context, ob *outbox.Relay) (*Store, error) {
	db := ob.Collection().Database()
	s := &Store{ob: ob, orders: ob.Collection(), tickets: db.Collection("tickets"), orphanAge: time.Minute}
	_, err := s.orders.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("by_user"),
	})
	if err != nil {
		return nil, fmt.Errorf("orders: creating index: %w", err)
	}
	return s, nil
}

var noOutbox = bson.D{{Key: outbox.Field, Value: 0}}

// Ticket returns the replica of a ticket.
func (s *Store) Ticket(ctx context.Context, id bson.ObjectID) (Ticket, error) {
	var t Ticket
	err := s.tickets.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("orders: find ticket: %w", err)
	}
	return t, nil
}

// Tickets returns the replicas of ids, by id.
func (s *Store) Tickets(ctx context.Context, ids []bson.ObjectID) (map[bson.ObjectID]Ticket, error) {
	cur, err := s.tickets.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("orders: find tickets: %w", err)
	}
	var list []Ticket
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("orders: find tickets: %w", err)
	}
	out := make(map[bson.ObjectID]Ticket, len(list))
	for _, t := range list {
		out[t.ID] = t
	}
	return out, nil
}

// CreateTicket applies ticket:created to the replica.
func (s *Store) CreateTicket(ctx context.Context, t Ticket) (replica.Outcome, error) {
	t.Claim = bson.ObjectID{}
	return replica.Create(ctx, s.tickets, t)
}

// UpdateTicket applies ticket:updated to the replica (version-ordered). The
// claim is not touched: reservations are this service's own state.
func (s *Store) UpdateTicket(ctx context.Context, t Ticket) (replica.Outcome, error) {
	return replica.Update(ctx, s.tickets, t.ID, t.Version, bson.D{{Key: "$set", Value: bson.D{
		{Key: "title", Value: t.Title}, {Key: "price", Value: t.Price}, {Key: "userId", Value: t.UserID}, {Key: "version", Value: t.Version},
	}}})
}

// Claim makes order the ticket's reservation. It is one conditional write on
// the ticket's document, so of any number of concurrent claims exactly one
// wins. A claim held by an order that is no longer active (cancelled, or
// never written because of a crash) is taken over, again conditionally on
// that exact holder.
func (s *Store) Claim(ctx context.Context, ticketID, orderID bson.ObjectID) error {
	free := bson.D{{Key: "claim", Value: bson.D{{Key: "$exists", Value: false}}}}
	if ok, err := s.setClaim(ctx, ticketID, free, orderID); ok || err != nil {
		return err
	}
	t, err := s.Ticket(ctx, ticketID)
	if err != nil {
		return err
	}
	if t.Claim.IsZero() {
		return ErrReserved // freed and taken again in between: someone else won
	}
	holder, err := s.Order(ctx, t.Claim)
	switch {
	case errors.Is(err, ErrNotFound):
		if time.Since(t.Claim.Timestamp()) < s.orphanAge {
			return ErrReserved // its order may still be on its way to the database
		}
	case err != nil:
		return err
	case holder.Status.Active():
		return ErrReserved
	}
	taken, err := s.setClaim(ctx, ticketID, bson.D{{Key: "claim", Value: t.Claim}}, orderID)
	if err != nil {
		return err
	}
	if !taken {
		return ErrReserved
	}
	return nil
}

// setClaim makes orderID the ticket's claim while the claim is still held
// as read (none, or the stale holder).
func (s *Store) setClaim(ctx context.Context, ticketID bson.ObjectID, held bson.D, orderID bson.ObjectID) (bool, error) {
	ok, err := lease.TakeOver(ctx, s.tickets, ticketID, held, bson.D{{Key: "$set", Value: bson.D{{Key: "claim", Value: orderID}}}})
	if err != nil {
		return false, fmt.Errorf("orders: claim ticket: %w", err)
	}
	return ok, nil
}

// Release frees the ticket if order still holds it.
func (s *Store) Release(ctx context.Context, ticketID, orderID bson.ObjectID) error {
	_, err := s.tickets.UpdateOne(ctx, bson.D{{Key: "_id", Value: ticketID}, {Key: "claim", Value: orderID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "claim", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("orders: release ticket: %w", err)
	}
	return nil
}

// Insert stores a new order with its order:created event.
func (s *Store) Insert(ctx context.Context, o Order, ev outbox.Event) error {
	if err := s.ob.Insert(ctx, o.ID, o, ev); err != nil {
		return fmt.Errorf("orders: insert: %w", err)
	}
	return nil
}

// Order returns an order by id.
func (s *Store) Order(ctx context.Context, id bson.ObjectID) (Order, error) {
	var o Order
	err := s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(noOutbox)).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("orders: find: %w", err)
	}
	return o, nil
}

// ByUser returns the user's orders, oldest first.
func (s *Store) ByUser(ctx context.Context, userID string) ([]Order, error) {
	cur, err := s.orders.Find(ctx, bson.D{{Key: "userId", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(noOutbox))
	if err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	out := []Order{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("orders: list: %w", err)
	}
	return out, nil
}

// Transition moves o (as read, at o.Version) to next.Status at o.Version+1,
// with ev when there is one. ErrConflict if the order changed meanwhile.
func (s *Store) Transition(ctx context.Context, o Order, next Status, ev *outbox.Event) (Order, error) {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: next}, {Key: "version", Value: o.Version + 1}}}}
	var evs []outbox.Event
	if ev != nil {
		evs = append(evs, *ev)
	}
	ok, err := s.ob.Update(ctx, o.ID, bson.D{{Key: "version", Value: o.Version}}, update, evs...)
	if err != nil {
		return Order{}, fmt.Errorf("orders: update: %w", err)
	}
	if !ok {
		return Order{}, ErrConflict
	}
	o.Status, o.Version = next, o.Version+1
	return o, nil
}

// Pay makes o (as read, at o.Version) complete, paid by paymentID, with its
// order:completed event ev — in one write conditional on the order being
// unchanged, still payable (created or awaiting payment) and not past
// expiresAt at now. A cancel or an expiry is a conditional write on the same
// document, so whichever lands first wins; ErrConflict tells the loser to
// read the order again.
func (s *Store) Pay(ctx context.Context, o Order, paymentID string, now time.Time, ev outbox.Event) (Order, error) {
	filter := bson.D{
		{Key: "version", Value: o.Version},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{Created, AwaitingPayment}}}},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: now}}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Complete}, {Key: "paymentId", Value: paymentID},
		{Key: "version", Value: o.Version + 1}}}}
	ok, err := s.ob.Update(ctx, o.ID, filter, update, ev)
	if err != nil {
		return Order{}, fmt.Errorf("orders: pay: %w", err)
	}
	if !ok {
		return Order{}, ErrConflict
	}
	o.Status, o.PaymentID, o.Version = Complete, paymentID, o.Version+1
	return o, nil
}
