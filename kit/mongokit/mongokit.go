// Package mongokit runs an embedded MongoDB-compatible server for tests and
// the local platform: FerretDB v1 on SQLite (pure Go, in-process), behind a
// serializing gate that gives it MongoDB's single-document atomicity.
package mongokit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// DefaultReplyTimeout bounds one command when Options.ReplyTimeout is zero:
// far above any command tests and the local platform run (even under -race),
// short enough that a hung upstream frees the gate.
const DefaultReplyTimeout = 30 * time.Second

// Options configures Start.
type Options struct {
	// Dir holds the data; the same Dir on the next Start finds it again.
	// Empty: a new temporary directory, removed on Close.
	Dir string
	// Addr is where clients connect ("127.0.0.1:27017"); empty: a random
	// loopback port.
	Addr string
	// ReplyTimeout bounds one command; past it that client's connection is
	// closed. Zero: DefaultReplyTimeout.
	ReplyTimeout time.Duration
	// Logger receives FerretDB's log; nil: errors only, to stderr. FerretDB
	// logs every error reply (a duplicate key, say) at warn level, which
	// would drown a test's output.
	Logger *slog.Logger
}

// Server is a running embedded server.
type Server struct {
	f       *ferretdb.FerretDB
	gate    *gate
	cancel  context.CancelFunc
	done    chan error
	tempDir string
}

// ferretdb.New sets a package-level variable of FerretDB's; servers
// started at once from several goroutines must not race on it.
var newMu sync.Mutex

// Start starts FerretDB and its gate and returns once both accept
// connections.
func Start(opts Options) (*Server, error) {
	dir, temp := opts.Dir, ""
	if dir == "" {
		d, err := os.MkdirTemp("", "mongokit-")
		if err != nil {
			return nil, err
		}
		dir, temp = d, d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s, err := start(dir, opts)
	if err != nil {
		if temp != "" {
			_ = os.RemoveAll(temp)
		}
		return nil, err
	}
	s.tempDir = temp
	return s, nil
}

func start(dir string, opts Options) (*Server, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	timeout := opts.ReplyTimeout
	if timeout == 0 {
		timeout = DefaultReplyTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		// FerretDB itself listens only for the gate, on a random port.
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:  "sqlite",
		Logger:   logger,
		// FerretDB wants a directory URI. It runs SQLite in WAL mode, where
		// synchronous=NORMAL syncs at checkpoints instead of on every
		// commit: a write survives the crash or kill of the process (the
		// tests' and make run's failure), though not of the machine, and
		// costs about 1 ms less (BenchmarkIncrement: 1.8–2.1 ms → 0.8–1.4
		// ms per gated update here). A purchase makes a dozen writes.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)",
	})
	newMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mongokit: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{f: f, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f.Run(ctx) }()
	// New has already bound FerretDB's listener, so its address is known
	// and connections queue until Run accepts them.
	upstream, err := url.Parse(f.MongoDBURI())
	if err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("mongokit: FerretDB's URI: %w", err)
	}
	if s.gate, err = newGate(addr, upstream.Host, timeout); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("mongokit: listen on %s: %w", addr, err)
	}
	return s, nil
}

// URI is the address clients use: mongodb://<gate>/ (append a database
// name, as services expect in MONGO_URI).
func (s *Server) URI() string { return "mongodb://" + s.gate.addr() + "/" }

// Addr is the gate's host:port.
func (s *Server) Addr() string { return s.gate.addr() }

// Close disconnects every client and stops the server. FerretDB closes its
// SQLite databases on the way out, so the data in Dir is complete for the
// next Start (unless Dir was temporary: then it is removed).
func (s *Server) Close() error {
	s.gate.close()
	err := s.stop()
	if s.tempDir != "" {
		if e := os.RemoveAll(s.tempDir); err == nil {
			err = e
		}
	}
	return err
}

func (s *Server) stop() error {
	s.cancel()
	err := <-s.done
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
