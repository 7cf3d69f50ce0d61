package replica

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Entity is an event about one entity that a replica copies, named by the
// hex ObjectID its service gave it.
type Entity interface{ EntityID() string }

// ByID adapts fn, a listener's step on the replica of the event's entity, to
// an event handler (events.On): it parses the entity's id and hands it to
// fn. An event whose id is not an ObjectID was not written by the service
// that owns the entity, and no redelivery can make it one: it is
// acknowledged (nil) without calling fn, rather than withheld forever.
func ByID[E Entity](fn func(ctx context.Context, id bson.ObjectID, e E) error) func(context.Context, E) error {
	return func(ctx context.Context, e E) error {
		id, err := bson.ObjectIDFromHex(e.EntityID())
		if err != nil {
			return nil
		}
		return fn(ctx, id, e)
	}
}
