// Package natskit runs embedded NATS servers for tests and the local
// platform: NATS Streaming (the platform's default event bus) and JetStream
// (the alternative). Both can run in one process, and both restart on the
// same port and store, for fault tests.
package natskit

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	stand "github.com/nats-io/nats-streaming-server/server"
	"github.com/nats-io/nats-streaming-server/stores"
)

// Options configures StartSTAN.
type Options struct {
	// ClusterID defaults to "ticketing".
	ClusterID string
	// Dir, when set, selects the file store there (kept across restarts);
	// empty selects the memory store, which a restart empties.
	Dir string
	// Port is the client port; 0 picks a free one. MonitorPort > 0 serves
	// the monitoring endpoints.
	Port        int
	MonitorPort int
	// Heartbeats: how often the server checks clients and after how many
	// failures it drops one (the cluster runs -hbi 5s -hbt 5s -hbf 2).
	// Zero values use those settings; tests use shorter ones.
	HBInterval time.Duration
	HBTimeout  time.Duration
	HBFail     int
}

// STAN is a running NATS Streaming server.
type STAN struct {
	mu   sync.Mutex
	s    *stand.StanServer // nil while stopped
	opts Options
}

// StartSTAN starts the server and returns once it accepts clients.
func StartSTAN(o Options) (*STAN, error) {
	if o.ClusterID == "" {
		o.ClusterID = "ticketing"
	}
	if o.HBInterval == 0 {
		o.HBInterval = 5 * time.Second
	}
	if o.HBTimeout == 0 {
		o.HBTimeout = 5 * time.Second
	}
	if o.HBFail == 0 {
		o.HBFail = 2
	}
	s := &STAN{opts: o}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// start runs the server with s.opts; the caller holds s.mu or owns s.
func (s *STAN) start() error {
	o := s.opts
	sopts := stand.GetDefaultOptions()
	sopts.ID = o.ClusterID
	sopts.ClientHBInterval, sopts.ClientHBTimeout, sopts.ClientHBFailCount = o.HBInterval, o.HBTimeout, o.HBFail
	if o.Dir != "" {
		sopts.StoreType = stores.TypeFile
		sopts.FilestoreDir = o.Dir
	}
	nopts := stand.NewNATSOptions()
	nopts.Host, nopts.Port, nopts.NoSigs, nopts.NoLog = "127.0.0.1", o.Port, true, true
	if o.Port == 0 {
		nopts.Port = -1 // random; the server writes the chosen one back
	}
	if o.MonitorPort > 0 {
		nopts.HTTPHost, nopts.HTTPPort = "127.0.0.1", o.MonitorPort
	}
	srv, err := stand.RunServerWithOpts(sopts, nopts)
	if err != nil {
		return fmt.Errorf("natskit: starting NATS Streaming: %w", err)
	}
	s.s = srv
	s.opts.Port = nopts.Port // fixed from now on, so a restart comes back on it
	return nil
}

// URL is the NATS client URL; it stays the same across restarts.
func (s *STAN) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "nats://127.0.0.1:" + strconv.Itoa(s.opts.Port)
}

// ClusterID is the streaming cluster id.
func (s *STAN) ClusterID() string { return s.opts.ClusterID }

// Stop shuts the server down; Restart brings it back. Clients see an outage.
func (s *STAN) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		s.s.Shutdown()
		s.s = nil
	}
}

// Restart stops the server if it runs and starts it again on the same port
// and store (with the file store nothing is lost).
func (s *STAN) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s != nil {
		s.s.Shutdown()
		s.s = nil
	}
	return s.start()
}

// Close shuts the server down for good.
func (s *STAN) Close() { s.Stop() }
