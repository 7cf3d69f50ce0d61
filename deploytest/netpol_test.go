package deploytest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// selects reports whether a label selector matches labels (nil matches
// nothing, as in a NetworkPolicy peer).
func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labelSet(lbls))
}

type labelSet map[string]string

func (l labelSet) Has(k string) bool   { _, ok := l[k]; return ok }
func (l labelSet) Get(k string) string { return l[k] }
func (l labelSet) Lookup(k string) (string, bool) {
	v, ok := l[k]
	return v, ok
}

func hasType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	return slices.Contains(np.Spec.PolicyTypes, t)
}

func portAllowed(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Port == nil || (p.Port.Type == intstr.Int && p.Port.IntVal == port) {
			return true
		}
	}
	return false
}

// samePod: a peer naming pods of this namespace by label.
func samePod(peer networkingv1.NetworkPolicyPeer, lbls map[string]string) bool {
	return peer.NamespaceSelector == nil && peer.IPBlock == nil && selects(peer.PodSelector, lbls)
}

// allowed reports whether the policies let pods labelled from open a TCP
// connection to pods labelled to on port: an egress rule of a policy on the
// sender and an ingress rule of a policy on the receiver must both allow it
// (under default deny, an unselected pod is not isolated only if no policy
// selects it — the caller requires that every pod is selected).
func allowed(b *bundle, from, to map[string]string, port int32) bool {
	out, in := false, false
	for _, np := range b.netpols {
		if hasType(np, networkingv1.PolicyTypeEgress) && selects(&np.Spec.PodSelector, from) {
			for _, r := range np.Spec.Egress {
				for _, p := range r.To {
					out = out || (samePod(p, to) && portAllowed(r.Ports, port))
				}
			}
		}
		if hasType(np, networkingv1.PolicyTypeIngress) && selects(&np.Spec.PodSelector, to) {
			for _, r := range np.Spec.Ingress {
				for _, p := range r.From {
					in = in || (samePod(p, from) && portAllowed(r.Ports, port))
				}
			}
		}
	}
	return out && in
}

// checkNetworkPolicies: a default-deny policy isolates every pod both ways;
// every workload has a policy of its own and may resolve names; and each
// connection the manifests imply is allowed at both ends: services to their
// database and the bus, replica-set members and NATS routes to each other.
func checkNetworkPolicies(b *bundle) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	deny, dns := false, false
	for _, np := range b.netpols {
		all := len(np.Spec.PodSelector.MatchLabels) == 0 && len(np.Spec.PodSelector.MatchExpressions) == 0
		if all && hasType(np, networkingv1.PolicyTypeIngress) && hasType(np, networkingv1.PolicyTypeEgress) && len(np.Spec.Ingress) == 0 && len(np.Spec.Egress) == 0 {
			deny = true
		}
		if all && hasType(np, networkingv1.PolicyTypeEgress) {
			for _, r := range np.Spec.Egress {
				dns = dns || (portAllowed(r.Ports, 53) && len(r.Ports) > 0)
			}
		}
	}
	if !deny {
		fail("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
	}
	if !dns {
		fail("no NetworkPolicy lets every pod reach DNS (egress port 53)")
	}
	for _, w := range b.workloads() {
		own := false
		for _, np := range b.netpols {
			if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) > 0 && selects(&np.Spec.PodSelector, w.tmpl.Labels) {
				own = true
			}
		}
		if !own {
			fail("%s %s: no NetworkPolicy of its own covers its pods", w.kind, w.name)
		}
	}
	podsOf := func(svc string) map[string]string {
		if s, ok := b.services[svc]; ok {
			if ws := b.selected(s.Spec.Selector); len(ws) > 0 {
				return ws[0].tmpl.Labels
			}
		}
		return nil
	}
	for _, d := range b.deployments {
		c := containerNamed(&d.Spec.Template, d.Spec.Template.Labels["app"])
		if c == nil {
			continue
		}
		for _, e := range c.Env {
			if e.Name != "MONGO_URI" && e.Name != "NATS_URL" {
				continue
			}
			_, rest, _ := strings.Cut(e.Value, "://")
			hosts, _, _ := strings.Cut(rest, "/")
			if i := strings.LastIndex(hosts, "@"); i >= 0 {
				hosts = hosts[i+1:]
			}
			for _, hp := range strings.Split(hosts, ",") {
				host, portStr, _ := strings.Cut(hp, ":")
				port, _ := strconv.Atoi(portStr)
				labelsOf := strings.Split(host, ".")
				svc := labelsOf[min(1, len(labelsOf)-1)]
				to := podsOf(svc)
				if to == nil {
					continue // reported by checkConnections
				}
				if !allowed(b, d.Spec.Template.Labels, to, int32(port)) {
					fail("Deployment %s: the NetworkPolicies do not let it reach %s (%s)", d.Name, hp, e.Name)
				}
			}
		}
	}
	for _, s := range b.statefulSets {
		if s.Spec.Replicas == nil || *s.Spec.Replicas < 2 {
			continue
		}
		for _, c := range s.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == "mongo" || p.Name == "cluster" {
					if !allowed(b, s.Spec.Template.Labels, s.Spec.Template.Labels, p.ContainerPort) {
						fail("StatefulSet %s: the NetworkPolicies do not let its members reach each other on %d", s.Name, p.ContainerPort)
					}
				}
			}
		}
	}
	slices.Sort(errs)
	return errs
}

// TestNetworkPolicyPlantedMistakes removes one allowance at a time from
// prod; each must be reported.
func TestNetworkPolicyPlantedMistakes(t *testing.T) {
	src := render(t, "prod")
	drop := func(b *bundle, name string) {
		i := slices.IndexFunc(b.netpols, func(np *networkingv1.NetworkPolicy) bool { return np.Name == name })
		if i < 0 {
			t.Fatalf("no NetworkPolicy %s", name)
		}
		b.netpols = slices.Delete(b.netpols, i, i+1)
	}
	cases := []plantedCase{
		{"no default deny", "no default-deny NetworkPolicy", func(b *bundle) { drop(b, "default-deny") }},
		{"no DNS", "no NetworkPolicy lets every pod reach DNS", func(b *bundle) { drop(b, "allow-dns") }},
		{"a workload without its own policy", "Deployment client-depl: no NetworkPolicy of its own", func(b *bundle) { drop(b, "client-netpol") }},
		// nats-netpol admits the pods labelled as the bus's clients: a
		// service on the bus without the label is caught.
		{"service cannot reach the bus", "Deployment orders-depl: the NetworkPolicies do not let it reach nats-srv:4222",
			func(b *bundle) {
				for _, d := range b.deployments {
					if d.Name == "orders-depl" {
						delete(d.Spec.Template.Labels, "ticketing/event-bus")
					}
				}
			}},
		{"service cannot reach its database", "Deployment tickets-depl: the NetworkPolicies do not let it reach tickets-mongo-0",
			func(b *bundle) {
				for _, np := range b.netpols {
					if np.Name == "tickets-netpol" {
						np.Spec.Egress[0].Ports[0].Port = ptrPort(27018)
					}
				}
			}},
		{"members cannot replicate", "StatefulSet payments-mongo: the NetworkPolicies do not let its members reach each other on 27017",
			func(b *bundle) { drop(b, "payments-mongo-egress") }},
		{"NATS routes blocked", "StatefulSet nats: the NetworkPolicies do not let its members reach each other on 6222",
			func(b *bundle) {
				for _, np := range b.netpols {
					if np.Name == "nats-netpol" {
						np.Spec.Ingress = np.Spec.Ingress[:1]
					}
				}
			}},
	}
	runPlanted(t, src, checkNetworkPolicies, cases)
}

func ptrPort(p int32) *intstr.IntOrString {
	v := intstr.FromInt32(p)
	return &v
}
