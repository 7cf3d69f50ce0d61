package manifestrun

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ticketing-go/ticketing/kit/gateway"
	corev1 "k8s.io/api/core/v1"
)

// Options configures Start.
type Options struct {
	Overlay     string // the kustomization directory
	Bin         string // the service binaries (make build)
	Client      string // the client's standalone build (client/.next/standalone)
	Data        string // the pods' volumes; empty: a temporary directory removed on Stop
	MinReplicas int    // at least this many pods of every autoscaled Deployment
	// Only, when set, runs just these workloads (and the Services over them),
	// e.g. the prod overlay's NATS StatefulSet; no gateway then.
	Only      []string
	HTTPAddr  string // the gateway's plain-HTTP address (":0" style allowed)
	HTTPSAddr string
	Out       io.Writer
	// Mutate, when set, changes the decoded manifest before anything
	// starts: how tests plant a mistake in an overlay.
	Mutate func(*Manifest)
}

// Run is a running overlay.
type Run struct {
	opts     Options
	Manifest *Manifest
	Pods     []*PodSpec
	net      *Network
	states   map[string]*podState
	outMu    sync.Mutex
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	nginx    *gateway.Nginx
	servers  []func()
	httpAddr string
	tlsAddr  string
	tempDir  string
}

// Start renders the overlay and starts every pod; it returns once they are
// started (not ready: see WaitReady).
func Start(o Options) (*Run, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	raw, err := Render(o.Overlay)
	if err != nil {
		return nil, err
	}
	m, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	if o.Mutate != nil {
		o.Mutate(m)
	}
	pods, err := m.Pods(o.MinReplicas, o.Only...)
	if err != nil {
		return nil, err
	}
	r := &Run{opts: o, Manifest: m, Pods: pods, states: map[string]*podState{}}
	if r.opts.Data == "" {
		d, err := os.MkdirTemp("", "manifestrun-")
		if err != nil {
			return nil, err
		}
		r.opts.Data, r.tempDir = d, d
	}
	for _, p := range pods {
		r.states[p.Name] = &podState{probeFailures: map[string]int{}, last: map[string]error{}}
	}
	r.net, err = newNetwork(m, pods, r.Ready)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	if err := r.net.start(ctx); err != nil {
		cancel()
		return nil, err
	}
	r.logf("  overlay %s: %d pods", o.Overlay, len(pods))
	for _, p := range pods {
		if s := Substitution(p.Container.Image); s != "" {
			r.logf("  substitution for %s: %s", p.Name, s)
		}
	}
	// The gateway first: the ingress controller's Service names resolve to
	// it, for whatever a manifest sends through the controller.
	if len(o.Only) == 0 && len(m.Ingresses) > 0 {
		if err := r.serveIngress(); err != nil {
			r.Stop()
			return nil, err
		}
		for _, host := range []string{"ingress-nginx-controller.ingress-nginx", "ingress-nginx-controller.ingress-nginx.svc", "ingress-nginx-controller.ingress-nginx.svc.cluster.local"} {
			r.net.names[host+":80"] = r.httpAddr
			r.net.names[host+":443"] = r.tlsAddr
		}
	}
	for _, p := range pods {
		mk, err := r.containerFor(p)
		if err != nil {
			r.Stop()
			return nil, err
		}
		k := &kubelet{pod: p, net: r.net, state: r.states[p.Name], make: mk, log: r.logf}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); k.run(ctx) }()
	}
	return r, nil
}

// serveIngress serves the Ingress in ingress-nginx mode.
func (r *Run) serveIngress() error {
	ing, err := gateway.ReadIngress(r.Manifest.Raw)
	if err != nil {
		return err
	}
	backends := map[string]string{}
	for _, rule := range ing.Rules {
		for _, rt := range rule.Routes {
			addr := r.net.ServiceAddr(rt.Service, int32(rt.Port))
			if addr == "" {
				return fmt.Errorf("manifestrun: Ingress backend %s:%d is no Service port", rt.Service, rt.Port)
			}
			backends[rt.Service] = "http://" + addr
		}
	}
	plainLn, err := net.Listen("tcp", r.opts.HTTPAddr)
	if err != nil {
		return err
	}
	tlsLn, err := net.Listen("tcp", r.opts.HTTPSAddr)
	if err != nil {
		plainLn.Close()
		return err
	}
	_, httpsPort, _ := net.SplitHostPort(tlsLn.Addr().String())
	n, err := gateway.NewNginx(ing, backends, httpsPort)
	if err != nil {
		plainLn.Close()
		tlsLn.Close()
		return err
	}
	r.nginx = n
	plain, secure := gateway.Server(n.HTTP(), gateway.NginxTimeouts), gateway.Server(n.HTTPS(), gateway.NginxTimeouts)
	secure.TLSConfig = n.TLSConfig()
	go func() { _ = plain.Serve(plainLn) }()
	go func() { _ = secure.ServeTLS(tlsLn, "", "") }()
	r.servers = append(r.servers, func() { _ = plain.Close() }, func() { _ = secure.Close() })
	r.httpAddr, r.tlsAddr = plainLn.Addr().String(), tlsLn.Addr().String()
	if n.CertPEM() != nil {
		if err := os.WriteFile(r.CertFile(), n.CertPEM(), 0o644); err != nil {
			return err
		}
	}
	r.logf("  ✓ %-24s ingress-nginx mode: hosts %s, TLS %s on https://%s and http://%s (certificate %s)",
		"gateway", strings.Join(hosts(ing), " "), strings.Join(ing.TLSHosts, " "), r.tlsAddr, r.httpAddr, r.CertFile())
	return nil
}

func hosts(ing *gateway.Ingress) []string {
	var out []string
	for _, rule := range ing.Rules {
		h := rule.Host
		if h == "" {
			h = "*"
		}
		out = append(out, h)
	}
	return out
}

// HTTPAddr and HTTPSAddr are where the gateway listens.
func (r *Run) HTTPAddr() string  { return r.httpAddr }
func (r *Run) HTTPSAddr() string { return r.tlsAddr }

// CertFile is the gateway's self-signed certificate (to trust).
func (r *Run) CertFile() string { return filepath.Join(r.opts.Data, "ingress.crt") }

// CertPEM is that certificate.
func (r *Run) CertPEM() []byte {
	if r.nginx == nil {
		return nil
	}
	return r.nginx.CertPEM()
}

// Ready says whether a pod is ready (in its Services' endpoints).
func (r *Run) Ready(pod string) bool {
	s, ok := r.states[pod]
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// WaitReady waits until every pod is ready.
func (r *Run) WaitReady(ctx context.Context) error {
	for {
		var waiting []string
		for _, p := range r.Pods {
			if !r.Ready(p.Name) {
				waiting = append(waiting, p.Name)
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("manifestrun: not ready: %s (%w)", strings.Join(waiting, " "), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Health is every pod's restarts and probe failures since it was first
// ready, and the last error of each probe; empty when all is well.
func (r *Run) Health() []string {
	var out []string
	for _, p := range r.Pods {
		s := r.states[p.Name]
		s.mu.Lock()
		if s.restarts > 0 {
			out = append(out, fmt.Sprintf("%s: %d restarts", p.Name, s.restarts))
		}
		for _, kind := range slices.Sorted(maps.Keys(s.probeFailures)) {
			out = append(out, fmt.Sprintf("%s: %s probe failed %d times", p.Name, kind, s.probeFailures[kind]))
		}
		for _, kind := range slices.Sorted(maps.Keys(s.last)) {
			if err := s.last[kind]; err != nil {
				out = append(out, fmt.Sprintf("%s: last %s probe: %v", p.Name, kind, err))
			}
		}
		s.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// PendingProbes lists the probes (pod/kind) that have not passed yet.
func (r *Run) PendingProbes() []string {
	var out []string
	for _, p := range r.Pods {
		s := r.states[p.Name]
		c := p.Container
		s.mu.Lock()
		for kind, probe := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if probe == nil {
				continue
			}
			if err, ran := s.last[kind]; !ran || err != nil {
				out = append(out, fmt.Sprintf("%s %s (%v)", p.Name, kind, err))
			}
		}
		s.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// Restarts is a pod's restart count.
func (r *Run) Restarts(pod string) int {
	s := r.states[pod]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// PodPort is the local port of a pod's container port.
func (r *Run) PodPort(pod string, port int32) (int, bool) { return r.net.PodPort(pod, port) }

// ServiceAddr is the local address of a Service port.
func (r *Run) ServiceAddr(svc string, port int32) string { return r.net.ServiceAddr(svc, port) }

// Stop stops the gateway and every pod (SIGTERM, grace period) and removes
// a temporary data directory.
func (r *Run) Stop() {
	for _, s := range r.servers {
		s()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.net != nil {
		r.net.close()
	}
	if r.tempDir != "" {
		_ = os.RemoveAll(r.tempDir)
	}
}

func (r *Run) grace(p *PodSpec) time.Duration {
	for _, d := range r.Manifest.Deployments {
		if d.Name == p.Workload && d.Spec.Template.Spec.TerminationGracePeriodSeconds != nil {
			return time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
		}
	}
	return 0
}

func (r *Run) logf(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.opts.Out, format+"\n", args...)
}

func (r *Run) prefix(name string, rd io.Reader) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		r.logf("  %-18s| %s", name, sc.Text())
	}
}

// RestartPod stops a pod's container and lets the kubelet stand-in start
// it again, as deleting a StatefulSet's pod does (same name, same volume).
func (r *Run) RestartPod(pod string) error {
	s, ok := r.states[pod]
	if !ok {
		return fmt.Errorf("no pod %s", pod)
	}
	s.mu.Lock()
	kill := s.kill
	s.mu.Unlock()
	if kill == nil {
		return fmt.Errorf("pod %s is not running", pod)
	}
	kill()
	return nil
}
