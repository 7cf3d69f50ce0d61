package mongokit

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BenchmarkIncrement measures what the gate costs: the same $inc on one
// document through the gate and straight to FerretDB, sequential and from
// parallel goroutines (-cpu sets how many).
func BenchmarkIncrement(b *testing.B) {
	s, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	for _, target := range []struct{ name, uri string }{{"gated", s.URI()}, {"direct", s.f.MongoDBURI()}} {
		c, err := mongo.Connect(options.Client().ApplyURI(target.uri))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Disconnect(context.Background()) })
		coll := c.Database("bench").Collection(target.name)
		if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}}); err != nil {
			b.Fatal(err)
		}
		inc := func() error {
			_, err := coll.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: "c"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
			return err
		}
		b.Run(target.name+"/sequential", func(b *testing.B) {
			for b.Loop() {
				if err := inc(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(target.name+"/parallel", func(b *testing.B) {
			b.SetParallelism(4) // with -cpu 2: 8 goroutines, as in the tests
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := inc(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
