package deploytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ticketing-go/ticketing/deploytest/manifestrun"
	"github.com/ticketing-go/ticketing/kit/services"
)

// repoRoot is the repository root relative to this package's directory
// (go test runs with the package directory as working directory); a copy
// of it in TestASixthServiceIsATableEntry's run.
var repoRoot = ".."

// overlays are rendered and checked; externalSecrets are secrets an overlay
// expects to exist in the cluster rather than generating them.
// mockStripe: the dev overlays pay through stripe-mock in the cluster, prod
// through real Stripe.
// jetStreamCluster: the overlay runs the production JetStream cluster
// (checkJetStreamCluster).
// writableRoot names containers ("Deployment client-depl container client")
// whose root filesystem may be writable, and why.
type overlaySpec struct {
	name string
	// profile: the skaffold profile that deploys the overlay ("": none,
	// the base config); its artifacts are the images the overlay may run.
	profile          string
	externalSecrets  []string
	mockStripe       bool
	jetStreamCluster bool
	// auth: every data store and the bus authenticate (checkMongoAuth).
	auth         bool
	writableRoot map[string]string
}

var overlays = overlaysFor(prodSecrets)

func overlaysFor(prodSecrets []string) []overlaySpec {
	return []overlaySpec{
		{name: "dev", mockStripe: true},
		{name: "dev-jetstream", profile: "jetstream", mockStripe: true},
		{name: "prod", profile: "prod", externalSecrets: append(prodSecrets, "nats-credentials"), jetStreamCluster: true, auth: true},
		{name: "prod-stan", profile: "prod-stan", externalSecrets: prodSecrets, auth: true},
		{name: "dev-client-sync", profile: "client-sync", mockStripe: true, writableRoot: map[string]string{
			"Deployment client-depl container client": "next dev writes its build under /app and Skaffold syncs edited sources there"}},
	}
}

// prodSecrets are the Secrets every production overlay expects: the
// documented set (infra/README.md creates each; TestDocCommands checks).
var prodSecrets = tableProdSecrets()

func tableProdSecrets() []string {
	out := []string{"jwt-secret", "stripe-secret"}
	for _, s := range services.All {
		out = append(out, s.Name+"-mongo-auth")
	}
	return out
}

// overlay returns the overlays entry named name.
func overlay(name string) overlaySpec {
	for _, ov := range overlays {
		if ov.name == name {
			return ov
		}
	}
	panic("no overlay " + name)
}

// stripeMockImage is the image of the dev overlays' stripe-mock.
const stripeMockImage = "ticketing/stripe-mock"

// noAutoscaler lists the Deployments that run a fixed replica count, and why.
var noAutoscaler = map[string]string{
	"stripe-mock-depl": "a stateless dev-only stand-in for Stripe",
}

// goServices maps each Go service to the env vars it refuses to start without
// (docs/contract.md, "Environment" and the conventions).
// (the services' table, kit/services).
var goServices = tableGoServices()

func tableGoServices() map[string][]string {
	out := map[string][]string{}
	for _, s := range services.All {
		out[s.Name] = s.Required
	}
	return out
}

// ingressRoutes is the routing the local gateway also reads from ingress.yaml:
// each service's route, then the client.
var ingressRoutes = tableIngressRoutes()

func tableIngressRoutes() []string {
	var out []string
	for _, s := range services.All {
		if s.Route != "" {
			out = append(out, s.Route+" -> "+s.Backend()+":3000")
		}
	}
	return append(out, "/ -> client-srv:3000")
}

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme,
		autoscalingv2.AddToScheme, policyv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strictDecoder rejects unknown and duplicate fields, like the API server's
// fieldValidation=Strict.
var strictDecoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// renders caches each overlay's render: the tests render the same overlays
// again and again, and the output depends only on the tree.
var renders = struct {
	sync.Mutex
	m map[string][]byte
}{m: map[string][]byte{}}

// render runs `kubectl kustomize` on an overlay directory (once per test
// binary) and returns a copy of its output.
func render(t *testing.T, overlay string) []byte {
	t.Helper()
	renders.Lock()
	defer renders.Unlock()
	if out, ok := renders.m[overlay]; ok {
		return bytes.Clone(out)
	}
	out := renderNow(t, overlay)
	renders.m[overlay] = out
	return bytes.Clone(out)
}

func renderNow(t *testing.T, overlay string) []byte {
	t.Helper()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not found in PATH (needed for `kubectl kustomize`): %v", err)
	}
	dir := filepath.Join(repoRoot, "infra", "k8s", "overlays", overlay)
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	return out
}

// bundle is one rendered overlay, decoded into typed objects.
type bundle struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	jobs         []*batchv1.Job
	cronJobs     []*batchv1.CronJob
	pvcs         map[string]*corev1.PersistentVolumeClaim
	services     map[string]*corev1.Service
	secrets      map[string]*corev1.Secret
	configMaps   map[string]*corev1.ConfigMap
	ingresses    []*networkingv1.Ingress
	netpols      []*networkingv1.NetworkPolicy
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	pdbs         []*policyv1.PodDisruptionBudget
	writableRoot map[string]string // the overlay's allowed exceptions (overlays)
}

// decode splits a multi-document YAML stream and decodes every document
// strictly into its typed object. Unknown kinds are an error too.
func decode(data []byte) (*bundle, error) {
	b := &bundle{services: map[string]*corev1.Service{}, secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	r := utilyaml.NewYAMLReader(bufioReader(data))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			b.deployments = append(b.deployments, o)
		case *appsv1.StatefulSet:
			b.statefulSets = append(b.statefulSets, o)
		case *batchv1.Job:
			b.jobs = append(b.jobs, o)
		case *batchv1.CronJob:
			b.cronJobs = append(b.cronJobs, o)
		case *corev1.PersistentVolumeClaim:
			b.pvcs[o.Name] = o
		case *corev1.Service:
			b.services[o.Name] = o
		case *corev1.Secret:
			b.secrets[o.Name] = o
		case *corev1.ConfigMap:
			b.configMaps[o.Name] = o
		case *networkingv1.Ingress:
			b.ingresses = append(b.ingresses, o)
		case *networkingv1.NetworkPolicy:
			b.netpols = append(b.netpols, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			b.hpas = append(b.hpas, o)
		case *policyv1.PodDisruptionBudget:
			b.pdbs = append(b.pdbs, o)
		default:
			return nil, fmt.Errorf("document %d: unexpected kind %s", i, gvk)
		}
	}
	return b, nil
}

// workload is a pod template with the name of the object owning it.
type workload struct {
	kind, name string
	tmpl       *corev1.PodTemplateSpec
	replicas   int32
}

func (b *bundle) workloads() []workload {
	var ws []workload
	for _, d := range b.deployments {
		ws = append(ws, workload{"Deployment", d.Name, &d.Spec.Template, 1})
	}
	for _, s := range b.statefulSets {
		n := int32(1)
		if s.Spec.Replicas != nil {
			n = *s.Spec.Replicas
		}
		ws = append(ws, workload{"StatefulSet", s.Name, &s.Spec.Template, n})
	}
	for _, j := range b.jobs {
		ws = append(ws, workload{"Job", j.Name, &j.Spec.Template, 1})
	}
	for _, j := range b.cronJobs {
		ws = append(ws, workload{"CronJob", j.Name, &j.Spec.JobTemplate.Spec.Template, 1})
	}
	return ws
}

// selected returns the workloads whose pod labels match a Service selector.
func (b *bundle) selected(sel map[string]string) []workload {
	if len(sel) == 0 {
		return nil
	}
	var ws []workload
	for _, w := range b.workloads() {
		if labels.SelectorFromSet(sel).Matches(labels.Set(w.tmpl.Labels)) {
			ws = append(ws, w)
		}
	}
	return ws
}

func hasContainerPort(tmpl *corev1.PodTemplateSpec, p intstr.IntOrString) bool {
	for _, c := range tmpl.Spec.Containers {
		for _, cp := range c.Ports {
			if (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) || (p.Type == intstr.String && cp.Name == p.StrVal) {
				return true
			}
		}
	}
	return false
}

func servicePort(svc *corev1.Service, port int32, name string) bool {
	for _, p := range svc.Spec.Ports {
		if (port != 0 && p.Port == port) || (name != "" && p.Name == name) {
			return true
		}
	}
	return false
}

// check runs every cross-object rule and returns all problems found.
func check(b *bundle, artifacts map[string]bool, externalSecrets []string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	// Services select pods and target their ports.
	for _, name := range sortedKeys(b.services) {
		svc := b.services[name]
		ws := b.selected(svc.Spec.Selector)
		if len(ws) == 0 {
			fail("Service %s: selector %v selects no pod template", name, svc.Spec.Selector)
			continue
		}
		for _, p := range svc.Spec.Ports {
			tp := p.TargetPort
			if tp.Type == intstr.Int && tp.IntVal == 0 {
				tp = intstr.FromInt32(p.Port)
			}
			for _, w := range ws {
				if w.kind == "Job" || w.kind == "CronJob" {
					continue
				}
				if !hasContainerPort(w.tmpl, tp) {
					fail("Service %s: targetPort %s is not a container port of %s %s", name, tp.String(), w.kind, w.name)
				}
			}
		}
	}

	// Ingress: backends exist and the routes are exactly the contract's.
	if len(b.ingresses) != 1 {
		fail("want exactly one Ingress, got %d", len(b.ingresses))
	}
	for _, ing := range b.ingresses {
		var got []string
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				be := p.Backend.Service
				if be == nil {
					fail("Ingress %s: path %s has no service backend", ing.Name, p.Path)
					continue
				}
				svc, ok := b.services[be.Name]
				if !ok {
					fail("Ingress %s: path %s: backend Service %s does not exist", ing.Name, p.Path, be.Name)
				} else if !servicePort(svc, be.Port.Number, be.Port.Name) {
					fail("Ingress %s: path %s: Service %s has no port %d%s", ing.Name, p.Path, be.Name, be.Port.Number, be.Port.Name)
				}
				if p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
					fail("Ingress %s: path %s: pathType must be Prefix", ing.Name, p.Path)
				}
				got = append(got, fmt.Sprintf("%s -> %s:%d", p.Path, be.Name, be.Port.Number))
			}
		}
		if strings.Join(got, "\n") != strings.Join(ingressRoutes, "\n") {
			fail("Ingress %s: routes\n%s\nwant\n%s", ing.Name, strings.Join(got, "\n"), strings.Join(ingressRoutes, "\n"))
		}
		for _, tls := range ing.Spec.TLS {
			if tls.SecretName == "" {
				fail("Ingress %s: TLS entry without secretName", ing.Name)
			}
		}
	}

	checkClientSSR(b, fail)

	// Go services: env, probes, grace period.
	seen := map[string]bool{}
	for _, d := range b.deployments {
		app := d.Spec.Template.Labels["app"]
		req, isGo := goServices[app]
		if !isGo {
			continue
		}
		seen[app] = true
		c := containerNamed(&d.Spec.Template, app)
		if c == nil {
			fail("Deployment %s: no container named %s", d.Name, app)
			continue
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		for _, name := range req {
			e, ok := env[name]
			if !ok || (e.Value == "" && e.ValueFrom == nil) {
				fail("Deployment %s: required env %s is not set", d.Name, name)
			}
		}
		if e, ok := env["NATS_CLIENT_ID"]; ok && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name") {
			fail("Deployment %s: NATS_CLIENT_ID must come from fieldRef metadata.name (unique per replica)", d.Name)
		}
		if e, ok := env["NATS_CLUSTER_ID"]; ok && e.Value != "ticketing" {
			fail("Deployment %s: NATS_CLUSTER_ID = %q, want ticketing", d.Name, e.Value)
		}
		if e, ok := env["COOKIE_SECURE"]; ok && e.Value != "true" {
			fail("Deployment %s: COOKIE_SECURE = %q, want true (the cluster serves TLS)", d.Name, e.Value)
		}
		checkTrustedProxies(fail, d.Name, env["TRUSTED_PROXIES"].Value)
		if e, ok := env["EVENT_BUS"]; ok && e.Value != "stan" && e.Value != "jetstream" {
			fail("Deployment %s: EVENT_BUS = %q, want stan or jetstream", d.Name, e.Value)
		}
		port := int32(3000)
		if e, ok := env["PORT"]; ok {
			p, err := strconv.Atoi(e.Value)
			if err != nil {
				fail("Deployment %s: PORT %q is not a number", d.Name, e.Value)
			}
			port = int32(p)
		}
		if !hasContainerPort(&d.Spec.Template, intstr.FromInt32(port)) {
			fail("Deployment %s: listens on PORT %d but declares no such container port", d.Name, port)
		}
		// A service on the bus is ready without it: the outbox keeps writes
		// working through a blip, so readiness leaves the bus out rather than
		// take every replica out of its Service at once. /readyz itself keeps
		// the contract's meaning (database and bus).
		readiness := "/readyz"
		if _, onBus := env["NATS_URL"]; onBus {
			readiness = "/readyz?exclude=events"
		}
		checkProbe(fail, d.Name, "readinessProbe", c.ReadinessProbe, readiness, port)
		checkProbe(fail, d.Name, "livenessProbe", c.LivenessProbe, "/healthz", port)
		// A service listens only once its database and bus answer: on a cold
		// cluster that takes a while, and liveness must not kill it meanwhile.
		checkProbe(fail, d.Name, "startupProbe", c.StartupProbe, "/healthz", port)
		if sp := c.StartupProbe; sp != nil {
			// Kubernetes' defaults: every 10 s, 3 failures.
			if budget := orDefault(sp.PeriodSeconds, 10) * orDefault(sp.FailureThreshold, 3); budget < 120 {
				fail("Deployment %s: startupProbe allows %ds, want at least 120s for a cold cluster", d.Name, budget)
			}
		}
		if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g != 30 {
			fail("Deployment %s: terminationGracePeriodSeconds must be 30", d.Name)
		}
		checkConnections(b, fail, d, env)
		if e, ok := env["STRIPE_API_URL"]; ok {
			checkStripeMock(b, fail, d.Name, e.Value)
		}
		if e, ok := env["NATS_URL"]; ok {
			checkBus(b, fail, d.Name, e.Value, env["EVENT_BUS"].Value, env["NATS_CLUSTER_ID"].Value)
		}
	}
	for _, app := range sortedKeys(goServices) {
		if !seen[app] {
			fail("no Deployment for service %s", app)
		}
	}
	if mock := stripeMocks(b); len(mock) > 0 && stripeAPIURL(b) == "" {
		fail("Deployment %s runs stripe-mock but payments has no STRIPE_API_URL: payments would charge real Stripe with a placeholder key", mock[0])
	}

	// Every workload: images, secrets, hardening, resources.
	for _, w := range b.workloads() {
		ps := w.tmpl.Spec
		podSC := ps.SecurityContext
		if podSC == nil || podSC.SeccompProfile == nil || podSC.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			fail("%s %s: pod securityContext.seccompProfile must be RuntimeDefault", w.kind, w.name)
		}
		for _, v := range ps.Volumes {
			if c := v.PersistentVolumeClaim; c != nil {
				if _, ok := b.pvcs[c.ClaimName]; !ok {
					fail("%s %s: volume %s: no PersistentVolumeClaim %s in the render", w.kind, w.name, v.Name, c.ClaimName)
				}
			}
			if v.Secret == nil {
				continue
			}
			if _, ok := b.secrets[v.Secret.SecretName]; !ok && !contains(externalSecrets, v.Secret.SecretName) {
				fail("%s %s: volume %s: Secret %s is neither generated nor expected to exist", w.kind, w.name, v.Name, v.Secret.SecretName)
			}
		}
		for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
			where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
			if w.kind == "Deployment" && !artifacts[imageName(c.Image)] {
				fail("%s: image %s is not a skaffold artifact", where, c.Image)
			}
			if strings.HasPrefix(c.Image, "ticketing/") && !artifacts[imageName(c.Image)] {
				fail("%s: image %s is not a skaffold artifact", where, c.Image)
			}
			sc := c.SecurityContext
			switch {
			case sc == nil:
				fail("%s: no securityContext", where)
			default:
				if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
					fail("%s: allowPrivilegeEscalation must be false", where)
				}
				if (sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem) && b.writableRoot[where] == "" {
					fail("%s: readOnlyRootFilesystem must be true", where)
				}
				nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (podSC != nil && podSC.RunAsNonRoot != nil && *podSC.RunAsNonRoot)
				if !nonRoot {
					fail("%s: runAsNonRoot must be true", where)
				}
				if sc.Capabilities == nil || !containsCap(sc.Capabilities.Drop, "ALL") {
					fail("%s: capabilities must drop ALL", where)
				}
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[r]; !ok {
					fail("%s: no %s request", where, r)
				}
				if _, ok := c.Resources.Limits[r]; !ok {
					fail("%s: no %s limit", where, r)
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if s, ok := b.secrets[ref.Name]; ok {
					if _, ok := s.Data[ref.Key]; !ok {
						if _, ok := s.StringData[ref.Key]; !ok {
							fail("%s: env %s: Secret %s has no key %s", where, e.Name, ref.Name, ref.Key)
						}
					}
				} else if !contains(externalSecrets, ref.Name) {
					fail("%s: env %s: Secret %s is neither generated nor expected to exist", where, e.Name, ref.Name)
				}
			}
			for _, vm := range c.VolumeMounts {
				if !hasVolume(w, vm.Name) {
					fail("%s: volumeMount %s names no volume or claim template", where, vm.Name)
				}
			}
		}
	}

	// StatefulSets: governing headless Service exists; NATS Streaming keeps
	// its Raft log outside its store (it recovers every subdirectory of the
	// store as a channel, and a snapshot restore deletes unknown channels).
	for _, s := range b.statefulSets {
		hl, ok := b.services[s.Spec.ServiceName]
		if !ok || hl.Spec.ClusterIP != corev1.ClusterIPNone {
			fail("StatefulSet %s: serviceName %s is not a headless Service", s.Name, s.Spec.ServiceName)
		}
		for _, c := range s.Spec.Template.Spec.Containers {
			store, raft := argValue(c.Args, "-dir"), argValue(c.Args, "--cluster_log_path")
			if rel, err := filepath.Rel(store, raft); store != "" && raft != "" && err == nil && !strings.HasPrefix(rel, "..") {
				fail("StatefulSet %s: --cluster_log_path %s is inside the store directory %s", s.Name, raft, store)
			}
		}
	}

	// HPAs and PDBs point at stateless Deployments.
	deps := map[string]*appsv1.Deployment{}
	for _, d := range b.deployments {
		deps[d.Name] = d
	}
	hpaFor := map[string]bool{}
	for _, h := range b.hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || deps[h.Spec.ScaleTargetRef.Name] == nil {
			fail("HPA %s: target %s/%s does not exist", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
		hpaFor[h.Spec.ScaleTargetRef.Name] = true
	}
	pdbFor := map[string]bool{}
	for _, p := range b.pdbs {
		if p.Spec.Selector == nil {
			fail("PDB %s: no selector", p.Name)
			continue
		}
		for _, w := range b.selected(p.Spec.Selector.MatchLabels) {
			pdbFor[w.name] = true
		}
	}
	for _, s := range b.statefulSets {
		if !pdbFor[s.Name] {
			fail("StatefulSet %s: no PodDisruptionBudget (a drain could take a majority of its members)", s.Name)
		}
	}
	for name, d := range deps {
		if !hpaFor[name] {
			if noAutoscaler[name] == "" {
				fail("Deployment %s: no HorizontalPodAutoscaler", name)
			}
		} else if d.Spec.Replicas != nil {
			fail("Deployment %s: sets replicas although an HPA owns the count", name)
		}
		if !pdbFor[name] {
			fail("Deployment %s: no PodDisruptionBudget", name)
		}
	}
	sort.Strings(errs)
	return errs
}

func orDefault(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}

// argValue returns the value after flag in args ("" if absent).
func argValue(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// checkStripeMock verifies that STRIPE_API_URL reaches a stripe-mock in the
// render: a Service of that name with that port, selecting the stripe-mock
// Deployment.
func checkStripeMock(b *bundle, fail func(string, ...any), depl, url string) {
	rest, ok := strings.CutPrefix(url, "http://")
	host, portStr, hasPort := strings.Cut(rest, ":")
	port, err := strconv.Atoi(strings.TrimSuffix(portStr, "/"))
	if !ok || !hasPort || err != nil {
		fail("Deployment %s: STRIPE_API_URL %q: want http://<service>:<port>", depl, url)
		return
	}
	svc, ok := b.services[host]
	if !ok {
		fail("Deployment %s: STRIPE_API_URL host %s: no Service %s in the render", depl, host, host)
		return
	}
	if !servicePort(svc, int32(port), "") {
		fail("Deployment %s: STRIPE_API_URL: Service %s has no port %d", depl, host, port)
	}
	for _, w := range b.selected(svc.Spec.Selector) {
		for _, c := range w.tmpl.Spec.Containers {
			if imageName(c.Image) == stripeMockImage {
				return
			}
		}
	}
	fail("Deployment %s: STRIPE_API_URL: Service %s does not select a %s pod", depl, host, stripeMockImage)
}

// stripeMocks names the Deployments running stripe-mock.
func stripeMocks(b *bundle) []string {
	var names []string
	for _, d := range b.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			if imageName(c.Image) == stripeMockImage {
				names = append(names, d.Name)
			}
		}
	}
	return names
}

// stripeAPIURL is payments' STRIPE_API_URL ("" when it charges real Stripe).
func stripeAPIURL(b *bundle) string {
	for _, d := range b.deployments {
		if d.Spec.Template.Labels["app"] != "payments" {
			continue
		}
		if c := containerNamed(&d.Spec.Template, "payments"); c != nil {
			for _, e := range c.Env {
				if e.Name == "STRIPE_API_URL" {
					return e.Value
				}
			}
		}
	}
	return ""
}

// checkStripeMode: the dev overlays pay through stripe-mock, prod through
// real Stripe, with no stripe-mock running.
func checkStripeMode(b *bundle, mock bool) []string {
	url, mocks := stripeAPIURL(b), stripeMocks(b)
	switch {
	case mock && (url == "" || len(mocks) == 0):
		return []string{fmt.Sprintf("payments must use the overlay's stripe-mock (STRIPE_API_URL %q, stripe-mock Deployments %v)", url, mocks)}
	case !mock && (url != "" || len(mocks) > 0):
		return []string{fmt.Sprintf("payments must use real Stripe: STRIPE_API_URL %q, stripe-mock Deployments %v", url, mocks)}
	}
	return nil
}

func hasVolume(w workload, name string) bool {
	for _, v := range w.tmpl.Spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return w.kind == "StatefulSet" // claim templates are checked by the API server; names are not in the template
}

func checkProbe(fail func(string, ...any), depl, which string, p *corev1.Probe, path string, port int32) {
	if p == nil || p.HTTPGet == nil {
		fail("Deployment %s: %s must be an httpGet on %s", depl, which, path)
		return
	}
	if p.HTTPGet.Path != path {
		fail("Deployment %s: %s path %s, want %s", depl, which, p.HTTPGet.Path, path)
	}
	if p.HTTPGet.Port.IntVal != port && p.HTTPGet.Port.StrVal != "http" {
		fail("Deployment %s: %s port %s, want %d", depl, which, p.HTTPGet.Port.String(), port)
	}
}

// checkConnections verifies that MONGO_URI and NATS_URL name Services in the
// render (and ports they expose), that replica-set URIs name existing members
// of a StatefulSet started with the same --replSet, and that the Mongo
// NetworkPolicy lets this service in.
func checkConnections(b *bundle, fail func(string, ...any), d *appsv1.Deployment, env map[string]corev1.EnvVar) {
	for _, name := range []string{"MONGO_URI", "NATS_URL"} {
		e, ok := env[name]
		if !ok {
			continue
		}
		scheme, rest, ok := strings.Cut(e.Value, "://")
		if !ok || (name == "MONGO_URI" && scheme != "mongodb") || (name == "NATS_URL" && scheme != "nats") {
			fail("Deployment %s: %s %q has the wrong scheme", d.Name, name, e.Value)
			continue
		}
		hosts, pathQuery, _ := strings.Cut(rest, "/")
		if i := strings.LastIndex(hosts, "@"); i >= 0 {
			hosts = hosts[i+1:] // credentials: checkMongoAuth
		}
		db, query, _ := strings.Cut(pathQuery, "?")
		if name == "MONGO_URI" && db == "" {
			fail("Deployment %s: MONGO_URI %q names no database", d.Name, e.Value)
		}
		var replSet string
		for _, kv := range strings.Split(query, "&") {
			if v, ok := strings.CutPrefix(kv, "replicaSet="); ok {
				replSet = v
			}
		}
		var members []string
		for _, hp := range strings.Split(hosts, ",") {
			host, portStr, ok := strings.Cut(hp, ":")
			port, err := strconv.Atoi(portStr)
			if !ok || err != nil {
				fail("Deployment %s: %s host %q has no port", d.Name, name, hp)
				continue
			}
			labelsOf := strings.Split(host, ".")
			svcName := labelsOf[0]
			if len(labelsOf) >= 2 { // pod-0.headless-svc: a StatefulSet member
				svcName = labelsOf[1]
				members = append(members, labelsOf[0])
			}
			svc, ok := b.services[svcName]
			if !ok {
				fail("Deployment %s: %s host %s: no Service %s in the render", d.Name, name, host, svcName)
				continue
			}
			if !servicePort(svc, int32(port), "") {
				fail("Deployment %s: %s: Service %s has no port %d", d.Name, name, svcName, port)
			}
			if len(labelsOf) >= 2 {
				checkMember(b, fail, d.Name, labelsOf[0], svcName, replSet)
			}
			if name == "MONGO_URI" {
				checkNetpol(b, fail, d, svc)
			}
		}
		if replSet != "" && len(members) < 2 {
			fail("Deployment %s: %s uses replicaSet=%s but names %d member(s)", d.Name, name, replSet, len(members))
		}
	}
}

// checkBus verifies that the server behind NATS_URL speaks the protocol
// EVENT_BUS selects: NATS Streaming with the same cluster id, or NATS with
// JetStream enabled.
func checkBus(b *bundle, fail func(string, ...any), depl, url, bus, clusterID string) {
	host, _, _ := strings.Cut(strings.TrimPrefix(url, "nats://"), ":")
	svc, ok := b.services[host]
	if !ok {
		return // reported by checkConnections
	}
	for _, w := range b.selected(svc.Spec.Selector) {
		for _, c := range w.tmpl.Spec.Containers {
			args := " " + strings.Join(c.Args, " ") + " "
			switch bus {
			case "", "stan":
				if !strings.HasPrefix(c.Image, "nats-streaming:") || !strings.Contains(args, " -cid "+clusterID+" ") {
					fail("Deployment %s: EVENT_BUS=stan needs NATS Streaming with -cid %s behind %s, found %s %s", depl, clusterID, host, c.Image, strings.TrimSpace(args))
				}
			case "jetstream":
				conf, _ := mountedFile(b, w.tmpl, &c, argValue(c.Args, "--config"))
				if !strings.HasPrefix(c.Image, "nats:") || (!strings.Contains(args, " -js ") && !strings.Contains(conf, "jetstream {")) {
					fail("Deployment %s: EVENT_BUS=jetstream needs nats -js behind %s, found %s %s", depl, host, c.Image, strings.TrimSpace(args))
				}
			}
		}
	}
}

func checkMember(b *bundle, fail func(string, ...any), depl, pod, headless, replSet string) {
	for _, s := range b.statefulSets {
		if s.Spec.ServiceName != headless {
			continue
		}
		ord, err := strconv.Atoi(strings.TrimPrefix(pod, s.Name+"-"))
		n := int32(1)
		if s.Spec.Replicas != nil {
			n = *s.Spec.Replicas
		}
		if !strings.HasPrefix(pod, s.Name+"-") || err != nil || int32(ord) >= n {
			fail("Deployment %s: %s is not a pod of StatefulSet %s (%d replicas)", depl, pod, s.Name, n)
		}
		if replSet != "" {
			args := strings.Join(s.Spec.Template.Spec.Containers[0].Args, " ")
			if !strings.Contains(args, "--replSet "+replSet) {
				fail("Deployment %s: replicaSet=%s but StatefulSet %s does not run --replSet %s", depl, replSet, s.Name, replSet)
			}
		}
		return
	}
	fail("Deployment %s: no StatefulSet governed by %s", depl, headless)
}

// checkTrustedProxies requires TRUSTED_PROXIES to name the ingress
// controller's range: unset, every visitor would share the controller's
// address (and its sign-in limits); trusting everyone would let any client
// pick its own address.
func checkTrustedProxies(fail func(string, ...any), depl, value string) {
	if value == "" {
		fail("Deployment %s: TRUSTED_PROXIES is not set (the ingress controller's range)", depl)
		return
	}
	for _, p := range strings.Split(value, ",") {
		p = strings.TrimSpace(p)
		if !strings.Contains(p, "/") {
			p += "/32"
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			fail("Deployment %s: TRUSTED_PROXIES entry %q is not an address or CIDR range", depl, p)
			continue
		}
		if ones, bits := n.Mask.Size(); ones < bits/4 {
			fail("Deployment %s: TRUSTED_PROXIES range %s trusts far more than an ingress controller", depl, n)
		}
	}
}

// checkNetpol requires NetworkPolicies on the Mongo pods behind svc that
// admit this Deployment's pods and no other Deployment's.
func checkNetpol(b *bundle, fail func(string, ...any), d *appsv1.Deployment, svc *corev1.Service) {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var guards []*networkingv1.NetworkPolicy
	for _, np := range b.netpols {
		if !hasType(np, networkingv1.PolicyTypeIngress) || len(np.Spec.PodSelector.MatchLabels) == 0 {
			continue // egress-only, or the namespace-wide default
		}
		if labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(svc.Spec.Selector)) && sel.Matches(labels.Set(np.Spec.PodSelector.MatchLabels)) {
			guards = append(guards, np)
		}
	}
	if len(guards) == 0 {
		fail("Deployment %s: no NetworkPolicy guards the pods of Service %s", d.Name, svc.Name)
		return
	}
	admits := func(podLabels map[string]string) string {
		for _, np := range guards {
			for _, rule := range np.Spec.Ingress {
				for _, peer := range rule.From {
					if peer.PodSelector != nil && peer.NamespaceSelector == nil && peer.IPBlock == nil &&
						labels.SelectorFromSet(peer.PodSelector.MatchLabels).Matches(labels.Set(podLabels)) {
						return np.Name
					}
				}
			}
		}
		return ""
	}
	if admits(d.Spec.Template.Labels) == "" {
		fail("NetworkPolicy %s: does not admit Deployment %s", guards[0].Name, d.Name)
	}
	for _, other := range b.deployments {
		if np := admits(other.Spec.Template.Labels); other.Name != d.Name && np != "" {
			fail("NetworkPolicy %s: also admits Deployment %s", np, other.Name)
		}
	}
}

func containerNamed(t *corev1.PodTemplateSpec, name string) *corev1.Container {
	for i := range t.Spec.Containers {
		if t.Spec.Containers[i].Name == name {
			return &t.Spec.Containers[i]
		}
	}
	return nil
}

// imageName drops a tag or digest: skaffold replaces them at deploy time.
// imageName: an image reference without its tag or digest.
var imageName = manifestrun.ImageName

func containsCap(cs []corev1.Capability, want corev1.Capability) bool {
	for _, c := range cs {
		if c == want {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOverlays(t *testing.T) {
	cfg := loadSkaffold(t)
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			b, err := decode(render(t, ov.name))
			if err != nil {
				t.Fatalf("strict decode: %v", err)
			}
			b.writableRoot = ov.writableRoot
			for _, e := range check(b, overlayArtifacts(t, cfg.cfg, ov), ov.externalSecrets) {
				t.Error(e)
			}
			for _, e := range checkStripeMode(b, ov.mockStripe) {
				t.Error(e)
			}
			if ov.auth {
				for _, e := range slices.Concat(checkMongoAuth(b), checkNetworkPolicies(b), checkBackups(b)) {
					t.Error(e)
				}
			}
			if ov.jetStreamCluster {
				for _, e := range checkJetStreamCluster(b) {
					t.Error(e)
				}
			}
		})
	}
}

// TestOverlayDirsAreChecked keeps the overlay list above in step with the tree.
func TestOverlayDirsAreChecked(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(repoRoot, "infra", "k8s", "overlays"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		found := false
		for _, ov := range overlays {
			found = found || ov.name == e.Name()
		}
		if e.IsDir() && !found {
			t.Errorf("overlay %s is not checked by this test", e.Name())
		}
	}
}
