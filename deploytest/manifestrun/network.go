package manifestrun

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ticketing-go/ticketing/kit/ports"
)

// Network is the cluster network's stand-in: every pod's container ports
// get local ports (each pod has its own network namespace in a cluster,
// so two replicas both listen on 3000 there), every ClusterIP Service port
// a local load balancer over its ready pods (kube-proxy), and cluster DNS
// names in env values and args are rewritten to those local addresses.
type Network struct {
	podPorts map[string]map[int32]int // pod → container port → local port
	names    map[string]string        // "host:port" → "127.0.0.1:local"
	lbs      []*balancer
}

// freePort is a pod's port: each pod has its own in a cluster, so two
// replicas both listening on 3000 get two of these (kit/ports: below the
// range of outgoing connections, never twice).
func freePort() (int, error) { return ports.Free() }

// newNetwork allocates ports; ready tells whether a pod takes traffic.
func newNetwork(m *Manifest, pods []*PodSpec, ready func(pod string) bool) (*Network, error) {
	n := &Network{podPorts: map[string]map[int32]int{}, names: map[string]string{}}
	for _, p := range pods {
		n.podPorts[p.Name] = map[int32]int{}
		for _, cp := range p.Container.Ports {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			n.podPorts[p.Name][cp.ContainerPort] = port
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Services)) {
		svc := m.Services[name]
		sel := Selected(pods, svc)
		headless := svc.Spec.ClusterIP == corev1.ClusterIPNone
		for _, sp := range svc.Spec.Ports {
			if headless {
				// pod-0.svc: the pod itself, on the target port.
				for _, p := range sel {
					tp, err := targetPort(p, sp)
					if err != nil {
						return nil, err
					}
					for _, host := range dnsNames(p.Name + "." + name) {
						n.names[host+":"+strconv.Itoa(int(sp.Port))] = "127.0.0.1:" + strconv.Itoa(n.podPorts[p.Name][tp])
					}
				}
				continue
			}
			lb, err := newBalancer(name, sp, sel, n, ready)
			if err != nil {
				return nil, err
			}
			n.lbs = append(n.lbs, lb)
			for _, host := range dnsNames(name) {
				n.names[host+":"+strconv.Itoa(int(sp.Port))] = lb.addr
			}
		}
	}
	return n, nil
}

// dnsNames: the names a pod resolves for a Service (or pod.Service) in the
// same namespace.
func dnsNames(name string) []string {
	return []string{name, name + "." + Namespace, name + "." + Namespace + ".svc", name + "." + Namespace + ".svc.cluster.local"}
}

func targetPort(p *PodSpec, sp corev1.ServicePort) (int32, error) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int && tp.IntVal == 0 {
		return sp.Port, nil
	}
	return containerPort(&p.Container, tp.String())
}

var (
	hostPort = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9.-]*:[0-9]+`)
	// A URL without a port: its scheme's.
	urlHost = regexp.MustCompile(`(https?)://([A-Za-z0-9][A-Za-z0-9.-]*)([/?#]|$)`)
)

// Resolve rewrites every cluster "host:port" in s, and every http(s) URL's
// host without a port, to its local address.
func (n *Network) Resolve(s string) string {
	s = urlHost.ReplaceAllStringFunc(s, func(u string) string {
		m := urlHost.FindStringSubmatch(u)
		port := "80"
		if m[1] == "https" {
			port = "443"
		}
		if local, ok := n.names[strings.ToLower(m[2])+":"+port]; ok {
			return m[1] + "://" + local + m[3]
		}
		return u
	})
	return hostPort.ReplaceAllStringFunc(s, func(hp string) string {
		if local, ok := n.names[strings.ToLower(hp)]; ok {
			return local
		}
		return hp
	})
}

// PodPort is the local port of a pod's container port.
func (n *Network) PodPort(pod string, port int32) (int, bool) {
	p, ok := n.podPorts[pod][port]
	return p, ok
}

// ServiceAddr is the local address of a Service port.
func (n *Network) ServiceAddr(svc string, port int32) string {
	return n.names[svc+":"+strconv.Itoa(int(port))]
}

func (n *Network) start(ctx context.Context) error {
	for _, lb := range n.lbs {
		if err := lb.start(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (n *Network) close() {
	for _, lb := range n.lbs {
		lb.close()
	}
}

// balancer is one Service port: it forwards each connection to the next
// ready pod, as kube-proxy does (round robin instead of random).
type balancer struct {
	svc     string
	addr    string
	ln      net.Listener
	targets []lbTarget
	ready   func(string) bool
	next    atomic.Uint64
	wg      sync.WaitGroup
}

type lbTarget struct {
	pod  string
	addr string
}

func newBalancer(svc string, sp corev1.ServicePort, pods []*PodSpec, n *Network, ready func(string) bool) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{svc: svc, addr: ln.Addr().String(), ln: ln, ready: ready}
	for _, p := range pods {
		tp, err := targetPort(p, sp)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("manifestrun: Service %s: %w", svc, err)
		}
		local, ok := n.podPorts[p.Name][tp]
		if !ok {
			ln.Close()
			return nil, fmt.Errorf("manifestrun: Service %s: targetPort %d is not a container port of pod %s", svc, tp, p.Name)
		}
		b.targets = append(b.targets, lbTarget{p.Name, "127.0.0.1:" + strconv.Itoa(local)})
	}
	sort.Slice(b.targets, func(i, j int) bool { return b.targets[i].pod < b.targets[j].pod })
	return b, nil
}

func (b *balancer) start(ctx context.Context) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := b.ln.Accept()
			if err != nil {
				return
			}
			go b.forward(ctx, c)
		}
	}()
	return nil
}

func (b *balancer) forward(ctx context.Context, c net.Conn) {
	defer c.Close()
	n := len(b.targets)
	start := int(b.next.Add(1))
	for i := range n {
		t := b.targets[(start+i)%n]
		if !b.ready(t.pod) {
			continue
		}
		var d net.Dialer
		up, err := d.DialContext(ctx, "tcp", t.addr)
		if err != nil {
			continue
		}
		defer up.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, c); closeWrite(up); done <- struct{}{} }()
		go func() { _, _ = io.Copy(c, up); closeWrite(c); done <- struct{}{} }()
		<-done
		<-done
		return
	}
	// No ready endpoint: the connection is refused, as with an empty
	// Service in a cluster.
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

func (b *balancer) close() {
	_ = b.ln.Close()
	b.wg.Wait()
}
