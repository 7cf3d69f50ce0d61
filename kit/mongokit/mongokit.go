// Package mongokit runs an embedded MongoDB-compatible server for tests and
// the local platform: FerretDB v1 on SQLite (pure Go, in-process), behind a
// serializing gate that gives it MongoDB's single-document atomicity.
package mongokit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Options configures Start.
type Options struct {
	// Dir holds the data; the same Dir on the next Start finds it again.
	// Empty: a new temporary directory, removed on Close.
	Dir string
	// Addr is where clients connect ("127.0.0.1:27017"); empty: a random
	// loopback port.
	Addr string
	// ReplyTimeout bounds one command; past it that connection is closed.
	// Zero: 60 s.
	ReplyTimeout time.Duration
}

// Server is a running embedded server.
type Server struct {
	f       *ferretdb.FerretDB
	gate    *gate
	cancel  context.CancelFunc
	done    chan error
	tempDir string
}

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
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	timeout := opts.ReplyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:  "sqlite",
		// Every error reply is logged at warn or below; keep quiet.
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 4})),
		SQLiteURL: "file:" + dir + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("mongokit: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{f: f, cancel: cancel, done: make(chan error, 1), tempDir: temp}
	go func() { s.done <- f.Run(ctx) }()
	upstream := f.MongoDBURI() // waits until FerretDB listens
	host, err := hostOf(upstream)
	if err != nil {
		s.stop()
		return nil, err
	}
	if s.gate, err = newGate(addr, host, timeout); err != nil {
		s.stop()
		return nil, fmt.Errorf("mongokit: listen on %s: %w", addr, err)
	}
	return s, nil
}

// URI is the address clients use: mongodb://<gate>/ (add a database name).
func (s *Server) URI() string { return "mongodb://" + s.gate.addr() + "/" }

// Addr is the gate's host:port.
func (s *Server) Addr() string { return s.gate.addr() }

// Close stops the server; its data stays in Dir (unless Dir was temporary).
func (s *Server) Close() error {
	s.gate.close()
	err := s.stop()
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
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

func hostOf(uri string) (string, error) {
	const prefix = "mongodb://"
	if len(uri) <= len(prefix) {
		return "", fmt.Errorf("mongokit: unexpected FerretDB URI %q", uri)
	}
	rest := uri[len(prefix):]
	for i, c := range rest {
		if c == '/' || c == '?' {
			return rest[:i], nil
		}
	}
	return rest, nil
}
