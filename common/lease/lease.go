// Package lease is the one way the services let only one replica do
// something at a time: a named lease with an owner and an expiry, taken or
// renewed in one conditional write (the outbox sweep, firing expirations),
// and TakeOver, the conditional write that replaces a holder found stale
// (an order's claim on a ticket, a pending payment whose process died).
//
// Both rest on the same rule: the write names the holder exactly as it was
// read (or an expired one), so of any number of replicas racing for it
// exactly one wins, and a loser learns it from the write's result.
package lease

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection is where the services keep their leases.
const Collection = "leases"

// Lease is a named right that one owner holds until it lapses. It is one
// small document {_id: name, owner, until} in its collection, apart from
// the data it guards, so taking it touches one tiny collection.
type Lease struct {
	coll  *mongo.Collection
	name  string
	owner string
	ttl   time.Duration
	now   func() time.Time
}

// New returns this process's handle on the lease name in coll, held for ttl
// after each Hold.
func New(coll *mongo.Collection, name string, ttl time.Duration) *Lease {
	return &Lease{coll: coll, name: name, owner: bson.NewObjectID().Hex(), ttl: ttl, now: time.Now}
}

// Hold takes the lease if it is free or lapsed, or renews it if this owner
// holds it; false means another owner holds it. It is one write: an upsert
// conditional on (this owner, or lapsed). When another owner holds it the
// filter matches nothing and the upsert's insert collides with the
// existing document's _id, which is the answer "held".
func (l *Lease) Hold(ctx context.Context) (bool, error) {
	now := l.now()
	filter := bson.D{{Key: "_id", Value: l.name}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "owner", Value: l.owner}},
		bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: now}}}},
	}}}
	_, err := l.coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: l.owner}, {Key: "until", Value: now.Add(l.ttl)}}}},
		options.UpdateOne().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", l.name, err)
	}
	return true, nil
}

// Release gives the lease up if this owner holds it, so another replica
// need not wait for it to lapse (on shutdown).
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.name}, {Key: "owner", Value: l.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: time.Time{}}}}})
	if err != nil {
		return fmt.Errorf("lease %s: release: %w", l.name, err)
	}
	return nil
}

// TakeOver applies update to the document id only while its holder is still
// held — the fields and values the caller read and judged stale (or free) —
// and reports whether this caller won. The caller decides staleness by its
// own rule (an order no longer active, a payment pending too long); the
// write makes the takeover happen once.
func TakeOver(ctx context.Context, coll *mongo.Collection, id any, held bson.D, update bson.D) (bool, error) {
	filter := append(bson.D{{Key: "_id", Value: id}}, held...)
	res, err := coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return false, fmt.Errorf("%s: take over: %w", coll.Name(), err)
	}
	return res.MatchedCount == 1, nil
}
