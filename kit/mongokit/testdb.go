package mongokit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestURIEnv names the environment variable that points tests at a real
// MongoDB instead of the embedded server, e.g. mongodb://127.0.0.1:27017/
// (add ?authSource=admin when it needs credentials).
const TestURIEnv = "MONGO_TEST_URI"

const sharedDirPrefix = "mongokit-shared-"

var (
	// One embedded server per test process: starting FerretDB costs little,
	// but each test gets its own database on it, so one is enough. It is
	// never closed; its directory is reclaimed by a later process.
	shared = sync.OnceValues(func() (*Server, error) {
		removeStaleSharedDirs()
		dir, err := os.MkdirTemp("", sharedDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return nil, err
		}
		return Start(Options{Dir: dir})
	})
	// Database names must not collide between test processes sharing one
	// real MongoDB, possibly on several machines: a random process tag.
	processTag = sync.OnceValue(func() string { return strings.ToLower(rand.Text()[:8]) })
	dbSequence atomic.Int64
)

// removeStaleSharedDirs deletes the directories of shared servers whose
// process has exited, since those processes could not delete them.
func removeStaleSharedDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), sharedDirPrefix+"*-*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), sharedDirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		p, err := os.FindProcess(pid)
		if err != nil {
			continue
		}
		// Only a process known to be gone: a reused pid merely keeps a
		// directory longer.
		if err := p.Signal(syscall.Signal(0)); errors.Is(err, os.ErrProcessDone) {
			_ = os.RemoveAll(dir)
		}
	}
}

// BaseURI returns the URI of the server tests share, without a database:
// the MongoDB that MONGO_TEST_URI names if set, otherwise one embedded
// server per test process.
func BaseURI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv(TestURIEnv); uri != "" {
		return WithDatabase(uri, "")
	}
	s, err := shared()
	if err != nil {
		t.Fatalf("mongokit: starting the embedded server: %v", err)
	}
	return s.URI()
}

// DatabaseURI returns a URI naming a fresh database of this test's own
// (mongodb://host:port/<name>, the form services take as MONGO_URI),
// dropped when the test ends.
func DatabaseURI(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%s_%d", processTag(), dbSequence.Add(1))
	uri := WithDatabase(BaseURI(t), name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Logf("mongokit: dropping %s: %v", name, err)
			return
		}
		defer func() { _ = c.Disconnect(ctx) }()
		if err := c.Database(name).Drop(ctx); err != nil {
			t.Logf("mongokit: dropping %s: %v", name, err)
		}
	})
	return uri
}

// Database returns a connected handle to a fresh database of this test's
// own, dropped when the test ends.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	return Connect(t, DatabaseURI(t))
}

// Connect returns a handle to the database a URI names (one from
// DatabaseURI, say), for tests that look at what a service stored. The
// client disconnects when the test ends.
func Connect(t testing.TB, uri string) *mongo.Database {
	t.Helper()
	name := DatabaseName(uri)
	if name == "" {
		t.Fatalf("mongokit: %q names no database", uri)
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatalf("mongokit: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database(name)
}

// WithDatabase returns uri with its database path set to name (removed when
// name is empty), keeping hosts, credentials and options.
func WithDatabase(uri, name string) string {
	hosts, query, hasQuery := splitURI(uri)
	out := hosts + "/" + name
	if hasQuery {
		out += "?" + query
	}
	return out
}

// DatabaseName is the database a MongoDB URI's path names, or "".
func DatabaseName(uri string) string {
	hosts, _, _ := splitURI(uri)
	rest, _, _ := strings.Cut(uri, "?")
	return strings.TrimPrefix(rest[len(hosts):], "/")
}

// splitURI cuts mongodb://user@h1,h2/db?opts into "mongodb://user@h1,h2"
// and "opts". The connection string spec requires '/' and '?' in
// credentials to be percent-encoded, so the first of each delimits.
func splitURI(uri string) (hosts, query string, hasQuery bool) {
	rest, query, hasQuery := strings.Cut(uri, "?")
	hosts = rest
	if i := strings.Index(rest, "://"); i >= 0 {
		if j := strings.IndexByte(rest[i+3:], '/'); j >= 0 {
			hosts = rest[:i+3+j]
		}
	}
	return hosts, query, hasQuery
}
