package mongokit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// TestConcurrentIncrementsAreAtomic is the reason the gate exists: without
// it FerretDB loses most of these increments.
func TestConcurrentIncrementsAreAtomic(t *testing.T) {
	coll := Database(t).Collection("counters")
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "c"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var doc struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "c"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.N != workers*each {
		t.Fatalf("n = %d, want %d", doc.N, workers*each)
	}
}

// TestVersionCheckedUpdatesNeverBothWin: read-modify-write guarded by the
// version succeeds exactly once per version.
func TestVersionCheckedUpdatesNeverBothWin(t *testing.T) {
	coll := Database(t).Collection("docs")
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int64
	var mu sync.Mutex
	wonFrom := map[int64]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				var d struct{ Version int64 }
				if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d); err != nil {
					t.Error(err)
					return
				}
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: d.Version}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: d.Version + 1}}}})
				if err != nil {
					t.Error(err)
					return
				}
				if res.ModifiedCount == 1 {
					wins.Add(1)
					mu.Lock()
					wonFrom[d.Version]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	var d struct{ Version int64 }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Version != wins.Load() {
		t.Fatalf("final version %d but %d updates reported success", d.Version, wins.Load())
	}
	for v, n := range wonFrom {
		if n > 1 {
			t.Fatalf("%d updates won from version %d", n, v)
		}
	}
}

func TestUniqueIndexAndDuplicateKey(t *testing.T) {
	coll := Database(t).Collection("users")
	ctx := t.Context()
	if _, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@x.io"}}); err != nil {
		t.Fatal(err)
	}
	_, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: "a@x.io"}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("err = %v, want a duplicate-key error", err)
	}
}

// TestUnacknowledgedWritesDoNotCorruptReads: FerretDB answers w:0 writes
// anyway; the gate must drop those answers, not hand them to the next read.
func TestUnacknowledgedWritesDoNotCorruptReads(t *testing.T) {
	uri := DatabaseURI(t)
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(1).SetWriteConcern(writeconcern.Unacknowledged()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	coll := c.Database(uri[len(uri)-len(dbName(uri)):]).Collection("w0")
	ctx := t.Context()
	for i := range 20 {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
		n, err := coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: i}})
		if err != nil || n != 1 {
			t.Fatalf("after unacknowledged insert %d: count %d, %v", i, n, err)
		}
	}
}

func TestCursorsWithGetMore(t *testing.T) {
	coll := Database(t).Collection("many")
	ctx := t.Context()
	docs := make([]any, 250)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(50))
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.M
	if err := cur.All(ctx, &got); err != nil || len(got) != 250 {
		t.Fatalf("got %d documents, %v", len(got), err)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	write := func(s *Server) {
		c, _ := mongo.Connect(options.Client().ApplyURI(s.URI()))
		defer c.Disconnect(context.Background())
		if _, err := c.Database("keep").Collection("x").InsertOne(t.Context(), bson.D{{Key: "_id", Value: "kept"}}); err != nil {
			t.Fatal(err)
		}
	}
	write(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, _ := mongo.Connect(options.Client().ApplyURI(s.URI()))
	defer c.Disconnect(context.Background())
	n, err := c.Database("keep").Collection("x").CountDocuments(t.Context(), bson.D{{Key: "_id", Value: "kept"}})
	if err != nil || n != 1 {
		t.Fatalf("after restart: %d, %v", n, err)
	}
}

func dbName(uri string) string {
	for i := len(uri) - 1; i >= 0; i-- {
		if uri[i] == '/' {
			return uri[i+1:]
		}
	}
	return uri
}
