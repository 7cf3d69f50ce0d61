// Package payment is the payments service's domain: the replica of the
// orders it may charge, and the payment records with their states.
package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/lease"
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
	// ExpiresAt is zero in replicas written before it was kept.
	ExpiresAt time.Time `bson:"expiresAt,omitempty"`
	// PaymentID is the payment the orders service made the order paid by.
	PaymentID string `bson:"paymentId,omitempty"`
}

// The order statuses payments acts on (the orders service's, docs/contract.md, "Orders").
const (
	Cancelled = "cancelled"
	Complete  = "complete"
)

// Expired reports whether o's window has passed at now.
func (o Order) Expired(now time.Time) bool { return !o.ExpiresAt.IsZero() && !now.Before(o.ExpiresAt) }

// State is where a payment is. The money moves only along
// pending → authorized → captured (the order is paid by it) or
// pending/authorized → released (the authorization is let go: the order was
// not paid by it), and captured → refunded (a charge on an order that did
// not end paid by it).
type State string

// The payment states.
const (
	// Pending: a card authorization is under way; the record is the lock
	// that keeps a second one from starting.
	Pending State = "pending"
	// Authorized: the card holds the amount; the orders service decides.
	Authorized State = "authorized"
	// Captured: the order is paid by this payment; the card is charged.
	Captured State = "captured"
	// Released: the authorization was let go; nothing is charged.
	Released State = "released"
	// Refunded: a captured charge was given back in full.
	Refunded State = "refunded"
	// legacyDone is what records of the charge-first flow say for Captured.
	legacyDone State = "done"
)

// Decided reports whether the state is final for the buyer's answer.
func (s State) Decided() bool {
	return s == Captured || s == Released || s == Refunded || s == legacyDone
}

// Paid reports whether the payment paid its order.
func (s State) Paid() bool { return s == Captured || s == legacyDone }

// Payment is one attempt to pay an order, at most one per order.
type Payment struct {
	ID       bson.ObjectID `bson:"_id"`
	OrderID  string        `bson:"orderId"`
	State    State         `bson:"state"`
	Amount   money.Cents   `bson:"amount"`
	StripeID string        `bson:"stripeId,omitempty"`
	// Token is the card token the authorization was asked with: repeating
	// the request with it and the same idempotency key tells the provider's
	// charge id after a crash left the record pending.
	Token     string    `bson:"token,omitempty"`
	StartedAt time.Time `bson:"startedAt"`
}

var (
	// ErrNotFound: no such order, or no payment for it.
	ErrNotFound = errors.New("payment: not found")
	// ErrChanged: the payment moved on since it was read.
	ErrChanged = errors.New("payment: changed since it was read")
)

// Collection is the payments' collection.
const Collection = "payments"

// Store keeps the order replica and the payments. Payments are written
// through their outbox relay: a write that carries an event hands it to the
// relay.
type Store struct {
	ob       *outbox.Relay
	orders   *mongo.Collection
	payments *mongo.Collection
	// staleAfter is how long a payment may stay pending before a retry
	// takes it over (the process that started it died).
	staleAfter time.Duration
}

// NewStore returns the store; a unique index on orderId is what guarantees
// one payment per order, also when two requests race.
// A pending payment older than staleAfter is taken over by a retry.
func NewStore(ctx context.Context, ob *outbox.Relay, staleAfter time.Duration) (*Store, error) {
	s := &Store{ob: ob, orders: ob.Collection().Database().Collection("orders"), payments: ob.Collection(), staleAfter: staleAfter}
	_, err := s.payments.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "orderId", Value: 1}}, Options: options.Index().SetUnique(true).SetName("one_per_order"),
	})
	if err != nil {
		return nil, fmt.Errorf("payments: creating index: %w", err)
	}
	return s, nil
}

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

// CompleteOrder applies order:completed at version: paid by paymentID.
func (s *Store) CompleteOrder(ctx context.Context, id bson.ObjectID, version int64, paymentID string) (replica.Outcome, error) {
	return replica.Update(ctx, s.orders, id, version, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: Complete}, {Key: "paymentId", Value: paymentID}, {Key: "version", Value: version},
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

var noOutbox = options.FindOne().SetProjection(bson.D{{Key: outbox.Field, Value: 0}})

// Payment returns the order's payment.
func (s *Store) Payment(ctx context.Context, orderID string) (Payment, error) {
	var p Payment
	err := s.payments.FindOne(ctx, bson.D{{Key: "orderId", Value: orderID}}, noOutbox).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Payment{}, ErrNotFound
	}
	if err != nil {
		return Payment{}, fmt.Errorf("payments: find: %w", err)
	}
	return p, nil
}

// Begin records a pending payment of amount for the order and returns it
// with started=true; or takes over a pending one whose process died (it
// keeps its token, so repeating its authorization finds the same one).
// Otherwise it returns the order's existing payment with started=false: the
// caller follows that one instead of starting another.
func (s *Store) Begin(ctx context.Context, orderID, token string, amount money.Cents, now time.Time) (p Payment, started bool, err error) {
	p = Payment{ID: bson.NewObjectID(), OrderID: orderID, State: Pending, Amount: amount, Token: token, StartedAt: now}
	_, err = s.payments.InsertOne(ctx, p)
	if err == nil {
		return p, true, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return Payment{}, false, fmt.Errorf("payments: insert: %w", err)
	}
	cur, err := s.Payment(ctx, orderID)
	if err != nil {
		return Payment{}, false, err
	}
	if cur.State != Pending || now.Sub(cur.StartedAt) < s.staleAfter {
		return cur, false, nil
	}
	taken, err := lease.TakeOver(ctx, s.payments, cur.ID,
		bson.D{{Key: "state", Value: Pending}, {Key: "startedAt", Value: cur.StartedAt}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "startedAt", Value: now}}}})
	if err != nil {
		return Payment{}, false, fmt.Errorf("payments: %w", err)
	}
	if !taken {
		return cur, false, nil
	}
	if cur.Token == "" {
		cur.Token = token
	}
	cur.StartedAt = now
	return cur, true, nil
}

// Abort removes a pending payment whose authorization failed, so no record
// remains and the buyer may try another card; ErrChanged if it is no longer
// pending.
func (s *Store) Abort(ctx context.Context, p Payment) error {
	res, err := s.payments.DeleteOne(ctx, bson.D{{Key: "_id", Value: p.ID}, {Key: "state", Value: Pending}})
	if err != nil {
		return fmt.Errorf("payments: abort: %w", err)
	}
	if res.DeletedCount == 0 {
		return ErrChanged
	}
	return nil
}

// Move changes p from the state it was read in to next, with the provider's
// charge id and ev (when there is one) in the same write; ErrChanged if it
// moved meanwhile, so each step of the money happens once.
func (s *Store) Move(ctx context.Context, p Payment, next State, stripeID string, ev *outbox.Event) (Payment, error) {
	set := bson.D{{Key: "state", Value: next}}
	if stripeID != "" {
		set = append(set, bson.E{Key: "stripeId", Value: stripeID})
	}
	var evs []outbox.Event
	if ev != nil {
		evs = append(evs, *ev)
	}
	ok, err := s.ob.Update(ctx, p.ID, bson.D{{Key: "state", Value: p.State}}, bson.D{{Key: "$set", Value: set}}, evs...)
	if err != nil {
		return Payment{}, fmt.Errorf("payments: %s: %w", next, err)
	}
	if !ok {
		return Payment{}, ErrChanged
	}
	p.State = next
	if stripeID != "" {
		p.StripeID = stripeID
	}
	return p, nil
}

// Undecided returns the order ids of payments still pending or authorized
// that started before before.
func (s *Store) Undecided(ctx context.Context, before time.Time) ([]string, error) {
	cur, err := s.payments.Find(ctx, bson.D{
		{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{Pending, Authorized}}}},
		{Key: "startedAt", Value: bson.D{{Key: "$lt", Value: before}}},
	}, options.Find().SetProjection(bson.D{{Key: "orderId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("payments: find undecided: %w", err)
	}
	var list []struct {
		OrderID string `bson:"orderId"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("payments: find undecided: %w", err)
	}
	ids := make([]string, len(list))
	for i, p := range list {
		ids[i] = p.OrderID
	}
	return ids, nil
}
