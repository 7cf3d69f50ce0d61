// Package payment is the payments service's domain: the replica of the
// orders it may charge, and the payment records.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/money"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/common/replica"
)

// Order is the payments service's replica of an order.
type Order struct {
	ID      bson.ObjectID `bson:"_id"`
	Version int64         `bson:"version"`
	Status  string        `bson:"status"`
	UserID  string        `bson:"userId"`
	Price   money.Cents   `bson:"price"`
}

// Cancelled is the status that may not be paid.
const Cancelled = "cancelled"

// Payment records a charge. While State is pending, a charge is under way
// and the record is the lock that keeps a second one from starting.
type Payment struct {
	ID        bson.ObjectID `bson:"_id"`
	OrderID   string        `bson:"orderId"`
	StripeID  string        `bson:"stripeId,omitempty"`
	State     string        `bson:"state"`
	StartedAt time.Time     `bson:"startedAt"`
}

// Payment states.
const (
	Pending = "pending"
	Done    = "done"
)

var (
	// ErrNotFound: no such order.
	ErrNotFound = errors.New("payment: order not found")
	// ErrPaid: the order has a payment, or one under way.
	ErrPaid = errors.New("payment: order is already paid")
)

// Store keeps the order replica and the payments.
type Store struct {
	orders   *mongo.Collection
	payments *mongo.Collection
	// staleAfter is how long a pending payment may stay pending before a
	// retry takes it over (the process that started it died).
	staleAfter time.Duration
}

// NewStore returns the store; a unique index on orderId is what guarantees
// one payment per order, also when two requests race.
func NewStore(ctx context.Context, db *mongo.Database) (*Store, error) {
	s := &Store{orders: db.Collection("orders"), payments: db.Collection("payments"), staleAfter: time.Minute}
	_, err := s.payments.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "orderId", Value: 1}}, Options: options.Index().SetUnique(true).SetName("one_per_order"),
	})
	if err != nil {
		return nil, fmt.Errorf("payments: creating index: %w", err)
	}
	return s, nil
}

// Payments is the payments collection (for the outbox relay).
func (s *Store) Payments() *mongo.Collection { return s.payments }

// CreateOrder applies order:created.
func (s *Store) CreateOrder(ctx context.Context, o Order) (replica.Outcome, error) {
	return replica.Create(ctx, s.orders, o)
}

// CancelOrder applies order:cancelled at version.
func (s *Store) CancelOrder(ctx context.Context, id bson.ObjectID, version int64) (replica.Outcome, error) {
	return replica.Update(ctx, s.orders, id, version, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: Cancelled}, {Key: "version", Value: version},
	}}})
}

// Order returns the replica of an order.
func (s *Store) Order(ctx context.Context, id bson.ObjectID) (Order, error) {
	var o Order
	err := s.orders.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&o)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("payments: find order: %w", err)
	}
	return o, nil
}

// Begin records a pending payment for the order, or takes over a stale
// pending one; ErrPaid if the order is paid or a charge is under way.
func (s *Store) Begin(ctx context.Context, orderID string, now time.Time) (Payment, error) {
	p := Payment{ID: bson.NewObjectID(), OrderID: orderID, State: Pending, StartedAt: now}
	_, err := s.payments.InsertOne(ctx, p)
	if err == nil {
		return p, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return Payment{}, fmt.Errorf("payments: insert: %w", err)
	}
	var cur Payment
	if err := s.payments.FindOne(ctx, bson.D{{Key: "orderId", Value: orderID}}).Decode(&cur); err != nil {
		return Payment{}, fmt.Errorf("payments: find: %w", err)
	}
	if cur.State != Pending || now.Sub(cur.StartedAt) < s.staleAfter {
		return Payment{}, ErrPaid
	}
	res, err := s.payments.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: cur.ID}, {Key: "state", Value: Pending}, {Key: "startedAt", Value: cur.StartedAt}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "startedAt", Value: now}}}})
	if err != nil {
		return Payment{}, fmt.Errorf("payments: take over: %w", err)
	}
	if res.MatchedCount == 0 {
		return Payment{}, ErrPaid
	}
	cur.StartedAt = now
	return cur, nil
}

// Abort removes a pending payment whose charge failed: no record remains.
func (s *Store) Abort(ctx context.Context, p Payment) error {
	_, err := s.payments.DeleteOne(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "state", Value: Pending}})
	if err != nil {
		return fmt.Errorf("payments: abort: %w", err)
	}
	return nil
}

// Complete records the charge with its payment:created event.
func (s *Store) Complete(ctx context.Context, p Payment, stripeID string, ev outbox.Event) error {
	res, err := s.payments.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "state", Value: Pending}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: Done}, {Key: "stripeId", Value: stripeID}}}, outbox.Push(ev)})
	if err != nil {
		return fmt.Errorf("payments: complete: %w", err)
	}
	if res.MatchedCount == 0 {
		return ErrPaid // a takeover completed it first; the charge was the same (idempotency key)
	}
	return nil
}
