package mongokit

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestZZTiming(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	direct := s.f.MongoDBURI()
	for _, tc := range []struct{ name, uri string }{{"gate", s.URI()}, {"direct", direct}} {
		c, _ := mongo.Connect(options.Client().ApplyURI(tc.uri))
		coll := c.Database("b_" + tc.name).Collection("c")
		ctx := context.Background()
		coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}})
		for _, workers := range []int{1, 8} {
			start := time.Now()
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range 800 / workers {
						coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "c"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			t.Logf("%s workers=%d: %v, %.0f/s", tc.name, workers, el, 800/el.Seconds())
		}
		start := time.Now()
		for i := range 500 {
			coll.InsertOne(ctx, bson.D{{Key: "i", Value: i}})
		}
		t.Logf("%s inserts: %.0f/s", tc.name, 500/time.Since(start).Seconds())
		c.Disconnect(ctx)
	}
}
