package natskit

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// JetStreamOptions configures StartJetStream.
type JetStreamOptions struct {
	// Dir is the JetStream store, kept across restarts; empty uses a
	// temporary directory that Close removes.
	Dir string
	// Port is the client port; 0 picks a free one.
	Port int
}

// JetStream is a running NATS server with JetStream enabled.
type JetStream struct {
	mu      sync.Mutex
	s       *server.Server // nil while stopped
	opts    JetStreamOptions
	tempDir bool
}

// StartJetStream starts the server and returns once it accepts clients.
func StartJetStream(o JetStreamOptions) (*JetStream, error) {
	j := &JetStream{opts: o}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "natskit-jetstream-")
		if err != nil {
			return nil, fmt.Errorf("natskit: %w", err)
		}
		j.opts.Dir, j.tempDir = dir, true
	}
	if err := j.start(); err != nil {
		j.removeTemp()
		return nil, err
	}
	return j, nil
}

// start runs the server with j.opts; the caller holds j.mu or owns j.
func (j *JetStream) start() error {
	port := j.opts.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: j.opts.Dir,
	})
	if err != nil {
		return fmt.Errorf("natskit: JetStream: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("natskit: JetStream not ready on port %d", port)
	}
	j.s = s
	j.opts.Port = s.Addr().(*net.TCPAddr).Port // fixed from now on, so a restart comes back on it
	return nil
}

// URL is the NATS client URL; it stays the same across restarts.
func (j *JetStream) URL() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return "nats://127.0.0.1:" + strconv.Itoa(j.opts.Port)
}

// Stop shuts the server down; Restart brings it back. Clients see an outage.
func (j *JetStream) Stop() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stop()
}

func (j *JetStream) stop() {
	if j.s != nil {
		j.s.Shutdown()
		j.s.WaitForShutdown()
		j.s = nil
	}
}

// Restart stops the server if it runs and starts it again on the same port
// and store.
func (j *JetStream) Restart() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stop()
	return j.start()
}

// Close shuts the server down for good, removing a temporary store.
func (j *JetStream) Close() {
	j.Stop()
	j.removeTemp()
}

func (j *JetStream) removeTemp() {
	if j.tempDir {
		_ = os.RemoveAll(j.opts.Dir)
	}
}

// TestJetStream starts a JetStream server of the test's own, closed when the
// test ends. dir, if given, is its store.
func TestJetStream(t testing.TB, dir ...string) *JetStream {
	t.Helper()
	var o JetStreamOptions
	if len(dir) > 0 {
		o.Dir = dir[0]
	}
	j, err := StartJetStream(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(j.Close)
	return j
}
