package ticket

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/outbox"
)

// Store keeps tickets. Every write stores the ticket's event with it, in the
// same document write (the outbox).
type Store interface {
	// Create stores t (version 0) with its ticket:created event.
	Create(ctx context.Context, t Ticket, ev outbox.Event) error
	// Get returns the ticket or ErrNotFound.
	Get(ctx context.Context, id bson.ObjectID) (Ticket, error)
	// ListAvailable returns up to limit unreserved tickets with ids after
	// `after` (zero: from the start), oldest first; with a non-empty title,
	// only those whose title contains it, ignoring case.
	ListAvailable(ctx context.Context, after bson.ObjectID, limit int, title string) ([]Ticket, error)
	// ListByUser pages through one seller's tickets in every state, oldest
	// first.
	ListByUser(ctx context.Context, userID string, after bson.ObjectID, limit int) ([]Ticket, error)
	// Save replaces the ticket at version next.Version-1 with next and its
	// event; ErrConflict if the stored version moved on, or if next reserves
	// the ticket for an order recorded as cancelled meanwhile.
	Save(ctx context.Context, next Ticket, ev outbox.Event) error
	// RecordCancelled notes that an order was cancelled before it reserved
	// the ticket. It is not a change of the ticket: no version, no event.
	// ErrConflict if that order holds the ticket by now.
	RecordCancelled(ctx context.Context, id bson.ObjectID, orderID string) error
}

// Collection is the tickets' collection.
const Collection = "tickets"

// MongoStore is the Store on the tickets collection, written through its
// outbox relay: every write hands its event to the relay.
type MongoStore struct {
	c  *mongo.Collection
	ob *outbox.Relay
}

// NewMongoStore returns the store and declares the indexes the listings use:
// unreserved tickets by id, so the page's filter, sort and limit run in the
// database whatever the collection's size.
func NewMongoStore(ctx context.Context, ob *outbox.Relay) (*MongoStore, error) {
	c := ob.Collection()
	// by_user serves a seller's page (?userId=) the same way. One call per
	// index: the embedded FerretDB fails on a createIndexes of several when
	// one exists already (a restart).
	for _, m := range []mongo.IndexModel{
		{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("available_by_id")},
		{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "_id", Value: 1}}, Options: options.Index().SetName("by_user")},
	} {
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
			return nil, fmt.Errorf("tickets: creating index: %w", err)
		}
	}
	return &MongoStore{c: c, ob: ob}, nil
}

// Create inserts t with its event.
func (s *MongoStore) Create(ctx context.Context, t Ticket, ev outbox.Event) error {
	if err := s.ob.Insert(ctx, t.ID, t, ev); err != nil {
		return fmt.Errorf("tickets: insert: %w", err)
	}
	return nil
}

var noOutbox = options.FindOne().SetProjection(bson.D{{Key: outbox.Field, Value: 0}})

// Get finds a ticket by id.
func (s *MongoStore) Get(ctx context.Context, id bson.ObjectID) (Ticket, error) {
	var t Ticket
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, noOutbox).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("tickets: find: %w", err)
	}
	return t, nil
}

// ListAvailable pages through unreserved tickets.
func (s *MongoStore) ListAvailable(ctx context.Context, after bson.ObjectID, limit int, title string) ([]Ticket, error) {
	filter := bson.D{{Key: "orderId", Value: bson.D{{Key: "$exists", Value: false}}}}
	if title != "" {
		// The visitor's text is a literal, never a pattern.
		filter = append(filter, bson.E{Key: "title", Value: bson.Regex{Pattern: regexp.QuoteMeta(title), Options: "i"}})
	}
	return s.page(ctx, filter, after, limit)
}

// ListByUser pages through a seller's tickets, reserved and sold ones too.
func (s *MongoStore) ListByUser(ctx context.Context, userID string, after bson.ObjectID, limit int) ([]Ticket, error) {
	return s.page(ctx, bson.D{{Key: "userId", Value: userID}}, after, limit)
}

func (s *MongoStore) page(ctx context.Context, filter bson.D, after bson.ObjectID, limit int) ([]Ticket, error) {
	if !after.IsZero() {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetLimit(int64(limit)).SetProjection(bson.D{{Key: outbox.Field, Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("tickets: list: %w", err)
	}
	out := []Ticket{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("tickets: list: %w", err)
	}
	return out, nil
}

// Save writes next over version next.Version-1, with its event.
func (s *MongoStore) Save(ctx context.Context, next Ticket, ev outbox.Event) error {
	set := bson.D{{Key: "title", Value: next.Title}, {Key: "price", Value: next.Price}, {Key: "version", Value: next.Version}}
	var update bson.D
	if next.Sold {
		set = append(set, bson.E{Key: "sold", Value: true})
	}
	if next.OrderID != "" {
		set = append(set, bson.E{Key: "orderId", Value: next.OrderID})
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "orderId", Value: ""}}})
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	filter := bson.D{{Key: "version", Value: next.Version - 1}}
	if next.OrderID != "" {
		filter = append(filter, bson.E{Key: "cancelledOrders", Value: bson.D{{Key: "$ne", Value: next.OrderID}}})
	}
	ok, err := s.ob.Update(ctx, next.ID, filter, update, ev)
	if err != nil {
		return fmt.Errorf("tickets: update: %w", err)
	}
	if !ok {
		return ErrConflict
	}
	return nil
}

// RecordCancelled adds orderID to the ticket's cancelled orders — unless
// that order holds the ticket by now (ErrConflict: re-read and free it).
func (s *MongoStore) RecordCancelled(ctx context.Context, id bson.ObjectID, orderID string) error {
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "orderId", Value: bson.D{{Key: "$ne", Value: orderID}}}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "cancelledOrders", Value: orderID}}}})
	if err != nil {
		return fmt.Errorf("tickets: record cancelled order: %w", err)
	}
	if res.MatchedCount == 0 {
		return ErrConflict
	}
	return nil
}
