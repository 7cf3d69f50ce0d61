package mongokit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	shared     = sync.OnceValues(func() (*Server, error) { return Start(Options{}) })
	dbSequence atomic.Int64
)

// BaseURI returns the URI of the server tests share: a real MongoDB when
// MONGO_TEST_URI is set, otherwise one embedded server per test process.
func BaseURI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv("MONGO_TEST_URI"); uri != "" {
		return strings.TrimSuffix(uri, "/") + "/"
	}
	s, err := shared()
	if err != nil {
		t.Fatalf("mongokit: starting the embedded server: %v", err)
	}
	return s.URI()
}

// DatabaseURI returns a URI naming a fresh database of its own for this test
// (mongodb://host:port/<name>), dropped when the test ends.
func DatabaseURI(t testing.TB) string {
	t.Helper()
	base := BaseURI(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSequence.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(base))
		if err != nil {
			return
		}
		defer c.Disconnect(ctx)
		_ = c.Database(name).Drop(ctx)
	})
	return base + name
}

// Database returns a connected handle to a fresh database of its own.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	uri := DatabaseURI(t)
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database(uri[strings.LastIndex(uri, "/")+1:])
}

// Connect returns a handle to the database a URI from DatabaseURI names, for
// tests that look at what a service stored.
func Connect(t testing.TB, uri string) *mongo.Database {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database(uri[strings.LastIndex(uri, "/")+1:])
}
