// Package timer keeps the expiration service's pending expirations in its
// own MongoDB, so a restart or crash never loses or forgets one, and fires
// each exactly once even with several replicas: firing is one conditional
// write that also stores the expiration:complete event (the outbox).
package timer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
)

// Timer is one order's pending expiration.
type Timer struct {
	OrderID   string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expiresAt"`
	Fired     bool      `bson:"fired"`
	FiredAt   time.Time `bson:"firedAt,omitempty"`
}

// Collection is the timers' collection.
const Collection = "timers"

// Store keeps the timers; a firing is written through the outbox relay,
// which gets its event with the write.
type Store struct {
	c  *mongo.Collection
	ob *outbox.Relay
}

// NewStore returns the store on the relay's collection, with an index for
// "the next one due".
func NewStore(ctx context.Context, ob *outbox.Relay) (*Store, error) {
	c := ob.Collection()
	_, err := c.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: "fired", Value: 1}, {Key: "expiresAt", Value: 1}}, Options: options.Index().SetName("due"),
	})
	if err != nil {
		return nil, fmt.Errorf("timers: creating index: %w", err)
	}
	return &Store{c: c, ob: ob}, nil
}

// Schedule stores a timer; scheduling one twice (a redelivered
// order:created) keeps the first.
func (s *Store) Schedule(ctx context.Context, t Timer) error {
	_, err := s.c.InsertOne(ctx, t)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("timers: insert: %w", err)
	}
	return nil
}

// Cancel retires an order's timer unless it already fired: it is marked
// done without an event (fired, cancelled), kept like a fired one for the
// retention and then purged. order:cancelled and order:created travel on
// different subjects, so a cancel can come first: it then leaves that mark
// in the timer's place, and the late order:created schedules nothing.
func (s *Store) Cancel(ctx context.Context, orderID string) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: orderID}, {Key: "fired", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "fired", Value: true}, {Key: "firedAt", Value: time.Now()}, {Key: "cancelled", Value: true}}}},
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return nil // it fired already: the orders service ignores that for a cancelled order
	}
	if err != nil {
		return fmt.Errorf("timers: cancel: %w", err)
	}
	return nil
}

// FireDue fires every timer due at now and returns the orders this call
// fired. Each fire is `fired: false → true` plus the event, in one write:
// two replicas racing for a timer cannot both fire it.
func (s *Store) FireDue(ctx context.Context, now time.Time) ([]string, error) {
	cur, err := s.c.Find(ctx, bson.D{{Key: "fired", Value: false}, {Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "expiresAt", Value: 1}}).SetLimit(500))
	if err != nil {
		return nil, fmt.Errorf("timers: find due: %w", err)
	}
	var due []Timer
	if err := cur.All(ctx, &due); err != nil {
		return nil, fmt.Errorf("timers: find due: %w", err)
	}
	var fired []string
	for _, t := range due {
		ev, err := outbox.NewEvent(events.TopicExpirationComplete, events.ExpirationComplete{OrderID: t.OrderID})
		if err != nil {
			return fired, err
		}
		ok, err := s.ob.Update(ctx, t.OrderID, bson.D{{Key: "fired", Value: false}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "fired", Value: true}, {Key: "firedAt", Value: now}}}}, ev)
		if err != nil {
			return fired, fmt.Errorf("timers: fire: %w", err)
		}
		if ok {
			fired = append(fired, t.OrderID)
		}
	}
	return fired, nil
}

// Purge deletes the timers that fired before the given time and whose
// event has been published. A fired timer is kept a while so that a
// redelivered order:created finds it and schedules nothing; after that it
// would only grow the collection.
func (s *Store) Purge(ctx context.Context, firedBefore time.Time) (int64, error) {
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "fired", Value: true}, {Key: "firedAt", Value: bson.D{{Key: "$lt", Value: firedBefore}}},
		{Key: outbox.Field + ".id", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		return 0, fmt.Errorf("timers: purge: %w", err)
	}
	return res.DeletedCount, nil
}

// Next returns when the earliest pending timer is due, or false if none is.
func (s *Store) Next(ctx context.Context) (time.Time, bool, error) {
	var t Timer
	err := s.c.FindOne(ctx, bson.D{{Key: "fired", Value: false}},
		options.FindOne().SetSort(bson.D{{Key: "expiresAt", Value: 1}}).SetProjection(bson.D{{Key: "expiresAt", Value: 1}})).Decode(&t)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("timers: next: %w", err)
	}
	return t.ExpiresAt, true, nil
}
