// Package replica keeps a service's copy of another service's entity in step
// with that entity's events (docs/contract.md, "Events"): version N is applied only on top
// of N-1; an event for a version already applied is a harmless duplicate
// (acknowledge it); one that skips ahead must wait (do not acknowledge it, so
// the bus redelivers it after the ones it depends on).
package replica

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ErrAhead means the event's predecessor has not been applied yet. A listener
// returns it so the event is not acknowledged.
var ErrAhead = errors.New("replica: event is ahead of the replica, waiting for the versions before it")

// Outcome says what happened to an event.
type Outcome int

const (
	// Applied: the replica moved to the event's version.
	Applied Outcome = iota
	// Duplicate: the replica already had this version or a newer one.
	Duplicate
)

// Decide is the rule itself, for a replica at version current (exists=false
// when the replica has no copy yet) receiving version incoming.
func Decide(current int64, exists bool, incoming int64) (Outcome, error) {
	switch {
	case !exists && incoming == 0:
		return Applied, nil
	case !exists:
		return 0, ErrAhead
	case incoming <= current:
		return Duplicate, nil
	case incoming == current+1:
		return Applied, nil
	default:
		return 0, ErrAhead
	}
}

// Create stores doc, the version-0 copy of an entity. Storing it twice is a
// Duplicate.
func Create(ctx context.Context, coll *mongo.Collection, doc any) (Outcome, error) {
	if _, err := coll.InsertOne(ctx, doc); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return Duplicate, nil
		}
		return 0, fmt.Errorf("replica: insert into %s: %w", coll.Name(), err)
	}
	return Applied, nil
}

// Update applies update to the copy of id if it is at version-1; update
// must set "version" to version. The filter on the previous version makes
// the step atomic: two deliveries of one event never both apply.
func Update(ctx context.Context, coll *mongo.Collection, id any, version int64, update bson.D) (Outcome, error) {
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version - 1}}, update)
	if err != nil {
		return 0, fmt.Errorf("replica: update %s: %w", coll.Name(), err)
	}
	if res.MatchedCount == 1 {
		return Applied, nil
	}
	var cur struct {
		Version int64 `bson:"version"`
	}
	err = coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}, options.FindOne().SetProjection(bson.D{{Key: "version", Value: 1}})).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Decide(0, false, version)
	}
	if err != nil {
		return 0, fmt.Errorf("replica: read %s: %w", coll.Name(), err)
	}
	out, err := Decide(cur.Version, true, version)
	if err == nil && out == Applied {
		// It moved to version-1 between our update and our read: let the
		// redelivery apply it.
		return 0, ErrAhead
	}
	return out, err
}
