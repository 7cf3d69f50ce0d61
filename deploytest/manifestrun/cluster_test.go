package manifestrun

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/stan.go"
	corev1 "k8s.io/api/core/v1"

	"github.com/ticketing-go/ticketing/kit/services"
)

// The manifest-driven checks need the service binaries (make build) and
// the client's standalone build; `make test-manifests` (in `make test`)
// provides both and sets MANIFEST_TESTS=1 and MANIFEST_BIN.
func heavy(t *testing.T) {
	t.Helper()
	if os.Getenv("MANIFEST_TESTS") == "" {
		t.Skip("the manifest-driven run: `make test-manifests` builds what it runs and sets MANIFEST_TESTS=1")
	}
}

// prodNATSOverlay is the overlay whose NATS Streaming cluster is checked:
// if prod moves to JetStream, NATS Streaming stays as this overlay.
const prodNATSOverlay = "prod-stan"

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startOverlay(t *testing.T, overlay string, mutate func(*Manifest), only ...string) *Run {
	t.Helper()
	client, err := filepath.Abs(filepath.Join(repoRoot, "client", ".next", "standalone"))
	if err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	r, err := Start(Options{Overlay: overlayDir(overlay), Bin: os.Getenv("MANIFEST_BIN"), Client: client, MinReplicas: 2,
		Only: only, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Out: out, Mutate: mutate})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() || testing.Verbose() {
			t.Logf("output of the run:\n%s", out.String())
		}
	})
	return r
}

func waitReady(t *testing.T, r *Run, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := r.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(r.Health(), "\n"))
	}
}

// TestOverlaysRunAsTheManifestsSay: every pod of the dev overlays comes up
// and passes every probe with no restart, two replicas of every service,
// and the purchase goes through https://ticketing.dev, pages rendered on
// the server included.
func TestOverlaysRunAsTheManifestsSay(t *testing.T) {
	heavy(t)
	for _, overlay := range []string{"dev", "dev-jetstream"} {
		t.Run(overlay, func(t *testing.T) {
			r := startOverlay(t, overlay, nil)
			waitReady(t, r, 2*time.Minute)
			for _, svc := range append(services.Names(), "client") {
				n := 0
				for _, p := range r.Pods {
					if p.Workload == svc+"-depl" {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%s: %d replicas, want 2", svc, n)
				}
			}
			if err := purchase(r); err != nil {
				t.Fatal(err)
			}
			if err := allProbesPass(r, time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// allProbesPass waits until every probe of every pod has passed (some
// start late: initialDelaySeconds) and requires no restart and no failure
// since each pod was first ready.
func allProbesPass(r *Run, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		pending := r.PendingProbes()
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("probes that never passed: %s", strings.Join(pending, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if h := r.Health(); len(h) > 0 {
		return fmt.Errorf("unhealthy: %s", strings.Join(h, "; "))
	}
	return nil
}

// site is a browser for https://ticketing.dev, resolved to the gateway
// (curl --resolve) and trusting its certificate; it keeps the session
// cookie by hand ("express:sess" is no RFC 6265 token, so net/http's jar
// would drop it).
type site struct {
	r      *Run
	http   *http.Client
	cookie string
	email  string
}

func newSite(r *Run) *site {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.CertPEM())
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			to := r.HTTPSAddr()
			if strings.HasSuffix(addr, ":80") {
				to = r.HTTPAddr()
			}
			var d net.Dialer
			return d.DialContext(ctx, network, to)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}
	return &site{r: r, http: &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (s *site) do(method, url string, body any) (int, []byte, http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.cookie != "" {
		req.Header.Set("Cookie", s.cookie)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	for _, line := range resp.Header.Values("Set-Cookie") {
		if nv, _, _ := strings.Cut(line, ";"); strings.HasPrefix(nv, "express:sess=") {
			s.cookie = nv
		}
	}
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header, err
}

// api calls https://ticketing.dev<path> and decodes the JSON answer,
// which must have status want.
func (s *site) api(method, path string, body any, want int) (map[string]any, error) {
	status, data, _, err := s.do(method, "https://ticketing.dev"+path, body)
	if err != nil {
		return nil, err
	}
	if status != want {
		return nil, fmt.Errorf("%s %s: %d %s, want %d", method, path, status, data, want)
	}
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return m, nil
}

func signup(r *Run, who string) (*site, error) {
	s := newSite(r)
	s.email = fmt.Sprintf("%s%d@manifest.test", who, time.Now().UnixNano())
	_, err := s.api("POST", "/api/users/signup", map[string]string{"email": s.email, "password": "Passw0rd!"}, 201)
	return s, err
}

// eventually retries f (a step that waits for an event to reach another
// service) until it succeeds or d passes.
func eventually(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// purchase runs the purchase through https://ticketing.dev: plain HTTP is
// redirected, a seller lists a ticket, a buyer sees their e-mail and the
// ticket on the home page rendered on the server, orders it and pays, and
// the order completes.
func purchase(r *Run) error {
	status, _, h, err := newSite(r).do("GET", "http://ticketing.dev/api/users/currentuser", nil)
	if err != nil {
		return err
	}
	if status != http.StatusPermanentRedirect || !strings.HasPrefix(h.Get("Location"), "https://ticketing.dev") {
		return fmt.Errorf("http://ticketing.dev: %d to %q, want 308 to https", status, h.Get("Location"))
	}
	seller, err := signup(r, "seller")
	if err != nil {
		return err
	}
	title := fmt.Sprintf("Manifest concert %d", time.Now().UnixNano())
	ticket, err := seller.api("POST", "/api/tickets", map[string]string{"title": title, "price": "20.00"}, 201)
	if err != nil {
		return err
	}
	buyer, err := signup(r, "buyer")
	if err != nil {
		return err
	}
	// Server-side rendering: the page the server renders for the buyer.
	_, page, _, err := buyer.do("GET", "https://ticketing.dev/", nil)
	if err != nil {
		return err
	}
	if !strings.Contains(string(page), buyer.email) || !strings.Contains(string(page), title) {
		return fmt.Errorf("the home page rendered on the server for a signed-in buyer shows neither their e-mail %s nor the ticket %q (its server-side calls do not reach the APIs)", buyer.email, title)
	}
	var order map[string]any
	if err := eventually(20*time.Second, func() error {
		order, err = buyer.api("POST", "/api/orders", map[string]any{"ticketId": ticket["id"]}, 201)
		return err
	}); err != nil {
		return err
	}
	if err := eventually(20*time.Second, func() error {
		_, err := buyer.api("POST", "/api/payments", map[string]any{"token": "tok_visa", "orderId": order["id"]}, 201)
		return err
	}); err != nil {
		return err
	}
	return eventually(20*time.Second, func() error {
		o, err := buyer.api("GET", fmt.Sprintf("/api/orders/%s", order["id"]), nil, 200)
		if err == nil && o["status"] != "complete" {
			err = fmt.Errorf("order %s is %v, want complete", order["id"], o["status"])
		}
		return err
	})
}

// TestProdNATSStreamingCluster: the prod overlay's NATS Streaming pods with
// the manifest's args elect a leader, keep every message across the
// restart of a node, and list exactly the channels published to.
func TestProdNATSStreamingCluster(t *testing.T) {
	heavy(t)
	r := startOverlay(t, prodNATSOverlay, nil, "nats")
	if err := natsCluster(t, r); err != nil {
		t.Fatal(err)
	}
	if h := r.Health(); len(h) > 1 || (len(h) == 1 && !strings.Contains(h[0], "1 restarts")) {
		t.Errorf("unhealthy beyond the one restart the test made: %v", h)
	}
}

func natsCluster(t *testing.T, r *Run) error {
	waitReady(t, r, time.Minute)
	var nodes []string
	for _, p := range r.Pods {
		nodes = append(nodes, p.Name)
	}
	if len(nodes) != 3 {
		return fmt.Errorf("%d NATS pods, want 3", len(nodes))
	}
	leader, err := waitLeader(r, nodes, time.Minute)
	if err != nil {
		return err
	}
	sc, err := stan.Connect("ticketing", fmt.Sprintf("manifestrun-%d", time.Now().UnixNano()), stan.NatsURL("nats://"+r.ServiceAddr("nats-srv", 4222)), stan.ConnectWait(10*time.Second))
	if err != nil {
		return fmt.Errorf("connecting through nats-srv: %w", err)
	}
	defer sc.Close()
	want := map[string]int{"ticket:created": 25, "order:created": 10}
	for ch, n := range want {
		for i := range n {
			if err := sc.Publish(ch, []byte(strconv.Itoa(i))); err != nil {
				return fmt.Errorf("publish %s: %w", ch, err)
			}
		}
	}
	// Restart the leader: the harder case (an election, then it catches up).
	if err := r.RestartPod(leader); err != nil {
		return err
	}
	if err := eventually(30*time.Second, func() error {
		if r.Restarts(leader) == 0 || !r.Ready(leader) {
			return fmt.Errorf("%s not back", leader)
		}
		return nil
	}); err != nil {
		return err
	}
	if _, err := waitLeader(r, nodes, time.Minute); err != nil {
		return err
	}
	// Every node, the restarted one included, has exactly those channels
	// and every message.
	return eventually(30*time.Second, func() error {
		for _, node := range nodes {
			got, err := channels(r, node)
			if err != nil {
				return err
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("%s lists channels %v, want exactly %v", node, got, want)
			}
		}
		return nil
	})
}

func monitor(r *Run, node, path string, v any) error {
	lp, _ := r.PodPort(node, 8222)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", lp, path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d", node, path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitLeader waits until exactly one node says it leads.
func waitLeader(r *Run, nodes []string, d time.Duration) (string, error) {
	var leader string
	err := eventually(d, func() error {
		var leaders []string
		for _, n := range nodes {
			var s struct{ Role string }
			if err := monitor(r, n, "/streaming/serverz", &s); err != nil {
				return err
			}
			if s.Role == "Leader" {
				leaders = append(leaders, n)
			}
		}
		if len(leaders) != 1 {
			return fmt.Errorf("leaders %v, want exactly one", leaders)
		}
		leader = leaders[0]
		return nil
	})
	return leader, err
}

// channels is a node's channels and their message counts.
func channels(r *Run, node string) (map[string]int, error) {
	var c struct {
		Channels []struct {
			Name string
			Msgs int
		}
	}
	if err := monitor(r, node, "/streaming/channelsz?subs=1", &c); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, ch := range c.Channels {
		out[ch.Name] = ch.Msgs
	}
	return out, nil
}

// The planted mistakes: each makes the manifest-driven checks fail.
func TestPlantedMistakesFailTheRun(t *testing.T) {
	heavy(t)
	container := func(m *Manifest, workload string) *corev1.Container {
		for _, d := range m.Deployments {
			if d.Name == workload {
				return &d.Spec.Template.Spec.Containers[0]
			}
		}
		for _, s := range m.StatefulSets {
			if s.Name == workload {
				return &s.Spec.Template.Spec.Containers[0]
			}
		}
		t.Fatalf("no workload %s", workload)
		return nil
	}
	t.Run("API_BASE_URL back to the controller without a Host", func(t *testing.T) {
		r := startOverlay(t, "dev", func(m *Manifest) {
			c := container(m, "client-depl")
			for i, e := range c.Env {
				if e.Name == "API_ROUTES" {
					c.Env[i] = corev1.EnvVar{Name: "API_BASE_URL", Value: "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local"}
				}
			}
		})
		waitReady(t, r, 2*time.Minute)
		err := purchase(r)
		if err == nil || !strings.Contains(err.Error(), "rendered on the server") {
			t.Fatalf("purchase: %v; want the server-rendered page to miss the buyer", err)
		}
	})
	t.Run("the Raft log inside the store", func(t *testing.T) {
		r := startOverlay(t, prodNATSOverlay, func(m *Manifest) {
			c := container(m, "nats")
			for i := range c.Args {
				if c.Args[i] == "--cluster_log_path" {
					c.Args[i+1] = "/data/store/raft"
				}
			}
		}, "nats")
		err := natsCluster(t, r)
		if err == nil {
			t.Fatal("the cluster check passed with the Raft log inside the store")
		}
		t.Logf("caught: %v", err)
	})
	t.Run("a wrong env name", func(t *testing.T) {
		r := startOverlay(t, "dev", func(m *Manifest) {
			c := container(m, "auth-depl")
			for i := range c.Env {
				if c.Env[i].Name == "MONGO_URI" {
					c.Env[i].Name = "MONGO_URL"
				}
			}
		}, "auth-depl", "auth-mongo")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := r.WaitReady(ctx)
		if err == nil || r.Restarts("auth-depl-0") == 0 {
			t.Fatalf("WaitReady: %v, restarts %d; want auth never ready and restarted", err, r.Restarts("auth-depl-0"))
		}
	})
	t.Run("a probe path that 404s", func(t *testing.T) {
		r := startOverlay(t, "dev", func(m *Manifest) {
			container(m, "tickets-depl").ReadinessProbe.HTTPGet.Path = "/ready"
		}, "tickets-depl", "tickets-mongo", "nats")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err := r.WaitReady(ctx)
		if err == nil || !strings.Contains(strings.Join(r.Health(), " "), "GET /ready: 404") {
			t.Fatalf("WaitReady: %v, health %v; want tickets never ready, its readiness probe 404", err, r.Health())
		}
	})
}
