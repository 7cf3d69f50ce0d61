package manifestrun

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repoRoot is the repository root from this package's directory.
var repoRoot = filepath.Join("..", "..")

func overlayDir(name string) string { return filepath.Join(repoRoot, "infra", "k8s", "overlays", name) }

func pods(t *testing.T, overlay string, minReplicas int, only ...string) (*Manifest, []*PodSpec) {
	t.Helper()
	raw, err := Render(overlayDir(overlay))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Pods(minReplicas, only...)
	if err != nil {
		t.Fatal(err)
	}
	return m, ps
}

func podNamed(t *testing.T, ps []*PodSpec, name string) *PodSpec {
	t.Helper()
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no pod %s", name)
	return nil
}

func TestPodsAsTheManifestSays(t *testing.T) {
	_, ps := pods(t, "dev", 2)
	count := map[string]int{}
	for _, p := range ps {
		count[p.Workload]++
	}
	for _, w := range []string{"auth-depl", "tickets-depl", "orders-depl", "expiration-depl", "payments-depl", "client-depl"} {
		if count[w] != 2 {
			t.Errorf("%s: %d pods, want 2 (the HPA's minimum is 1, the run's floor 2)", w, count[w])
		}
	}
	if count["stripe-mock-depl"] != 1 || count["nats"] != 1 || count["auth-mongo"] != 1 {
		t.Errorf("fixed replica counts not kept: %v", count)
	}
	auth := podNamed(t, ps, "auth-depl-1")
	for name, want := range map[string]string{
		"JWT_KEY":   "dev-only-jwt-key-change-me",          // secretKeyRef of a generated Secret
		"MONGO_URI": "mongodb://auth-mongo-srv:27017/auth", // a literal
	} {
		if got, _ := auth.Lookup(name); got != want {
			t.Errorf("auth-depl-1 %s = %q, want %q", name, got, want)
		}
	}
	if got, _ := podNamed(t, ps, "orders-depl-1").Lookup("NATS_CLIENT_ID"); got != "orders-depl-1" {
		t.Errorf("NATS_CLIENT_ID from fieldRef metadata.name = %q, want the pod's name", got)
	}

	_, prod := pods(t, prodNATSOverlay, 0, "nats")
	args := strings.Join(podNamed(t, prod, "nats-2").Command, " ")
	if !strings.Contains(args, "--cluster_node_id nats-2 ") {
		t.Errorf("nats-2's args %q: $(POD_NAME) not expanded to the pod's name", args)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "B": "y"}
	for in, want := range map[string]string{
		"$(A)-$(B)": "x-y", "$$(A)": "$(A)", "$(C)": "$(C)", "no refs": "no refs", "$(A)$(A)": "xx",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClusterNamesResolveToLocalAddresses(t *testing.T) {
	m, natsPods := pods(t, prodNATSOverlay, 0, "nats")
	n, err := newNetwork(m, natsPods, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	p1, _ := n.PodPort("nats-1", 6222)
	got := n.Resolve("nats://nats-0.nats-hl:6222,nats://nats-1.nats-hl.default.svc.cluster.local:6222")
	if !strings.Contains(got, "nats://127.0.0.1:") || !strings.HasSuffix(got, ":"+strconv.Itoa(p1)) {
		t.Errorf("routes resolved to %q; want nats-1 at 127.0.0.1:%d", got, p1)
	}
	if svc := n.Resolve("nats://nats-srv:4222"); svc != "nats://"+n.ServiceAddr("nats-srv", 4222) || svc == "nats://nats-srv:4222" {
		t.Errorf("nats-srv:4222 resolved to %q", svc)
	}
	if kept := n.Resolve("nats://elsewhere:4222"); kept != "nats://elsewhere:4222" {
		t.Errorf("an unknown name was rewritten: %q", kept)
	}
	if got := n.Resolve("-m 8222"); got != "-m 8222" {
		t.Errorf("a bare port was rewritten: %q", got)
	}
}
