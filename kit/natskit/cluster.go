package natskit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/ports"
)

// Cluster is a JetStream cluster of embedded servers started from a NATS
// configuration file — the production manifest's — with only what cannot
// hold on one machine replaced: addresses, ports, routes, store directories
// and server names. Everything else (JetStream limits, users, permissions,
// the cluster name) is the file's.
type Cluster struct {
	mu    sync.Mutex
	nodes []*server.Server // nil once killed
	urls  []string
	dir   string
}

// StartCluster starts n servers from configFile and returns once the
// cluster has a meta leader. The file's $VARIABLES are read from the
// environment (set them before calling, e.g. with t.Setenv).
func StartCluster(configFile string, n int) (*Cluster, error) {
	dir, err := os.MkdirTemp("", "natskit-cluster-")
	if err != nil {
		return nil, fmt.Errorf("natskit: %w", err)
	}
	c := &Cluster{dir: dir}
	// Route ports are fixed up front: every node names all of them.
	routePorts := make([]int, n)
	routes := make([]string, n)
	for i := range n {
		if routePorts[i], err = ports.Free(); err != nil {
			c.Close()
			return nil, fmt.Errorf("natskit: %w", err)
		}
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", routePorts[i])
	}
	for i := range n {
		opts, err := server.ProcessConfigFile(configFile)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("natskit: %s: %w", configFile, err)
		}
		if !opts.JetStream || opts.Cluster.Name == "" {
			c.Close()
			return nil, fmt.Errorf("natskit: %s configures no JetStream cluster", configFile)
		}
		opts.ServerName = fmt.Sprintf("nats-%d", i)
		opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
		opts.HTTPHost, opts.HTTPPort = "", 0
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", routePorts[i]
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		opts.StoreDir = filepath.Join(dir, opts.ServerName)
		opts.NoSigs, opts.NoLog = true, true
		s, err := server.NewServer(opts)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("natskit: %s: %w", opts.ServerName, err)
		}
		go s.Start()
		c.nodes = append(c.nodes, s)
	}
	for _, s := range c.nodes {
		if !s.ReadyForConnections(20 * time.Second) {
			c.Close()
			return nil, fmt.Errorf("natskit: %s not ready", s.Name())
		}
		c.urls = append(c.urls, s.ClientURL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := poll.Wait(ctx, poll.Interval, func() (bool, error) { return c.hasMetaLeader(), nil }); err != nil {
		c.Close()
		return nil, fmt.Errorf("natskit: the JetStream cluster elected no meta leader: %w", err)
	}
	return c, nil
}

func (c *Cluster) hasMetaLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.nodes {
		if s != nil && s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// URLs is every node's client URL, comma-separated (what a client is given
// so it can fail over).
func (c *Cluster) URLs() string { return strings.Join(c.urls, ",") }

// LiveURLs is the client URLs of the nodes not killed, comma-separated: a
// client given only these cannot fail on a dead node (which nats.go reports
// as "no servers available" when it tries that one last).
func (c *Cluster) LiveURLs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []string
	for i, s := range c.nodes {
		if s != nil {
			live = append(live, c.urls[i])
		}
	}
	return strings.Join(live, ",")
}

// StreamLeader is the index of the node leading stream in the global
// account, or -1.
func (c *Cluster) StreamLeader(stream string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, s := range c.nodes {
		if s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// Kill shuts node i down abruptly (its clients see the connection drop).
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Close shuts every node down and removes the stores.
func (c *Cluster) Close() {
	for i := range c.nodes {
		c.Kill(i)
	}
	_ = os.RemoveAll(c.dir)
}
