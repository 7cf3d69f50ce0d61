// Package natskit runs an embedded NATS Streaming server (the platform's
// default event bus) for tests and the local platform.
package natskit

import (
	"fmt"
	"net"
	"strconv"
	"time"

	stand "github.com/nats-io/nats-streaming-server/server"
	"github.com/nats-io/nats-streaming-server/stores"
)

// Options configures StartSTAN.
type Options struct {
	// ClusterID defaults to "ticketing".
	ClusterID string
	// Dir, when set, selects the file store there (kept across restarts);
	// empty selects the memory store.
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
	s    *stand.StanServer
	opts Options
}

// StartSTAN starts the server and returns once it accepts clients.
func StartSTAN(o Options) (*STAN, error) {
	if o.ClusterID == "" {
		o.ClusterID = "ticketing"
	}
	if o.Port == 0 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		o.Port = port // fixed from now on, so a restart comes back on it
	}
	if o.HBInterval == 0 {
		o.HBInterval, o.HBTimeout, o.HBFail = 5*time.Second, 5*time.Second, 2
	}
	s := &STAN{opts: o}
	return s, s.start()
}

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
	if o.MonitorPort > 0 {
		nopts.HTTPHost, nopts.HTTPPort = "127.0.0.1", o.MonitorPort
	}
	srv, err := stand.RunServerWithOpts(sopts, nopts)
	if err != nil {
		return fmt.Errorf("natskit: starting NATS Streaming: %w", err)
	}
	s.s = srv
	return nil
}

// URL is the NATS client URL.
func (s *STAN) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.opts.Port) }

// ClusterID is the streaming cluster id.
func (s *STAN) ClusterID() string { return s.opts.ClusterID }

// Close shuts the server down.
func (s *STAN) Close() { s.s.Shutdown() }

// Restart shuts the server down and starts it again on the same port and
// store (fault tests: with the file store, nothing is lost).
func (s *STAN) Restart() error {
	s.s.Shutdown()
	return s.start()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

