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

// TestVersionCheckedUpdatesWinOncePerVersion: read-modify-write guarded by
// the version (optimistic concurrency, as the services do it) succeeds
// exactly once per version.
func TestVersionCheckedUpdatesWinOncePerVersion(t *testing.T) {
	coll := Database(t).Collection("docs")
	ctx := t.Context()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "version", Value: int64(0)}}); err != nil {
		t.Fatal(err)
	}
	var (
		wins    atomic.Int64
		mu      sync.Mutex
		wonFrom = map[int64]int{}
		wg      sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				var d struct{ Version int64 }
				if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "d"}}).Decode(&d); err != nil {
					t.Error(err)
					return
				}
				res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d"}, {Key: "version", Value: d.Version}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: d.Version + 1}}}})
				if err != nil {
					t.Error(err)
					return
				}
				if res.MatchedCount == 1 {
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
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "d"}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Version != wins.Load() || d.Version == 0 {
		t.Fatalf("final version %d but %d updates reported success", d.Version, wins.Load())
	}
	for v, n := range wonFrom {
		if n > 1 {
			t.Errorf("%d updates won from version %d", n, v)
		}
	}
}

func TestUniqueIndexRejectsDuplicateKey(t *testing.T) {
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

// TestUnacknowledgedWritesThenReads: FerretDB answers w:0 writes anyway; the
// gate must drop those answers, not hand them to the next read on that
// connection (a pool of one makes every operation share it).
func TestUnacknowledgedWritesThenReads(t *testing.T) {
	uri := DatabaseURI(t)
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(1).SetWriteConcern(writeconcern.Unacknowledged()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	coll := c.Database(DatabaseName(uri)).Collection("w0")
	ctx := t.Context()
	for i := range 20 {
		res, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "n", Value: 0}})
		if err != nil || res.Acknowledged {
			t.Fatalf("unacknowledged insert %d: %+v, %v", i, res, err)
		}
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: i}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: i}}}}); err != nil {
			t.Fatal(err)
		}
		var doc struct{ N int }
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: i}}).Decode(&doc); err != nil || doc.N != i {
			t.Fatalf("after unacknowledged writes %d: n = %d, %v", i, doc.N, err)
		}
	}
}

// TestCursorGetMore reads past the first batch (101 documents by default),
// so the driver must send getMore on the same gated connection.
func TestCursorGetMore(t *testing.T) {
	coll := Database(t).Collection("many")
	ctx := t.Context()
	docs := make([]any, 250)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: i}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var got []struct {
		ID int `bson:"_id"`
	}
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(docs) || got[len(got)-1].ID != len(docs)-1 {
		t.Fatalf("got %d documents", len(got))
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	withServer := func(do func(*mongo.Collection)) {
		s, err := Start(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		c, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
		if err != nil {
			t.Fatal(err)
		}
		do(c.Database("keep").Collection("x"))
		_ = c.Disconnect(context.Background())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	withServer(func(coll *mongo.Collection) {
		if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "kept"}}); err != nil {
			t.Fatal(err)
		}
	})
	withServer(func(coll *mongo.Collection) {
		n, err := coll.CountDocuments(t.Context(), bson.D{{Key: "_id", Value: "kept"}})
		if err != nil || n != 1 {
			t.Fatalf("after restart: %d, %v", n, err)
		}
	})
}

// TestCloseCutsConnectedClients: Close must not wait for clients to leave.
func TestCloseCutsConnectedClients(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetMaxPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	if err := c.Ping(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Database("x").RunCommand(t.Context(), bson.D{{Key: "ping", Value: 1}}).Err(); err == nil {
		t.Fatal("a command succeeded after Close")
	}
}
