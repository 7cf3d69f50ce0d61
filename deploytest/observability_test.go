package deploytest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/outbox"
)

func monitoringDir() string {
	return filepath.Join(repoRoot, "infra", "k8s", "components", "monitoring")
}

// platformMetrics are series the alerts read from outside the services:
// kube-state-metrics' restart counter (kube-prometheus-stack installs it).
var platformMetrics = []string{"kube_pod_container_status_restarts_total"}

// exportedMetrics builds what every service registers — the registry of
// common/metrics (HTTP, Go runtime, process), the listener metrics of
// common/events and the outbox relay's (common/service registers both for
// every service on the bus) — and returns every series name it can expose,
// histograms expanded into _bucket, _sum and _count.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New("deploytest")
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1")) // never dialled
	if err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelayWith(client.Database("deploytest").Collection("outbox"), nil, slog.New(slog.NewTextHandler(io.Discard, nil)), outbox.Config{})
	m.Register(events.NewMetrics().Collectors()...)
	m.Register(relay.Collectors()...)
	// Vectors appear in a scrape only once they have a child: observe one
	// of each so Gather lists them with their type.
	m.Observe("GET", "/api/x", 500, time.Millisecond)
	names := map[string]bool{}
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range append(events.NewMetrics().Collectors(), relay.Collectors()...) {
			c.Describe(ch)
		}
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if mm := fqName.FindStringSubmatch(d.String()); mm != nil {
			names[mm[1]] = true
		}
	}
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	for n := range names {
		if strings.HasSuffix(n, "_duration_seconds") { // the histograms
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		}
	}
	return names
}

// promQLMetrics returns the metric names a PromQL expression reads: what is
// left once strings, label matchers, ranges, grouping clauses, function
// calls, keywords and numbers are taken out.
func promQLMetrics(expr string) []string {
	for _, re := range []string{`"(?:[^"\\]|\\.)*"`, `\{[^}]*\}`, `\[[^\]]*\]`,
		`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`, `\$\w+`} {
		expr = regexp.MustCompile(re).ReplaceAllString(expr, " ")
	}
	keywords := map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true, "le": true, "inf": true, "nan": true}
	var out []string
	for _, m := range regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`).FindAllString(expr, -1) {
		if strings.HasSuffix(m, "(") || keywords[strings.ToLower(m)] {
			continue
		}
		out = append(out, m)
	}
	return out
}

type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// queries returns every PromQL expression of the dashboard and the alerts,
// keyed by where it is.
func queries(t *testing.T, dash []byte, rule *monitoringv1.PrometheusRule) map[string]string {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	qs := map[string]string{}
	for _, p := range d.Panels {
		for i, tg := range p.Targets {
			qs[fmt.Sprintf("dashboard panel %q query %d", p.Title, i)] = tg.Expr
		}
	}
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			qs["alert "+r.Alert] = r.Expr.String()
		}
	}
	return qs
}

// checkQueries reports queries that read no metric, or one nobody exports.
func checkQueries(qs map[string]string, exported map[string]bool) []string {
	var errs []string
	for _, where := range sortedKeys(qs) {
		names := promQLMetrics(qs[where])
		if len(names) == 0 {
			errs = append(errs, fmt.Sprintf("%s: reads no metric: %s", where, qs[where]))
		}
		for _, n := range names {
			if !exported[n] && !slices.Contains(platformMetrics, n) {
				errs = append(errs, fmt.Sprintf("%s: %s is not a metric the services export", where, n))
			}
		}
	}
	return errs
}

func loadMonitoring(t *testing.T) ([]byte, *monitoringv1.PrometheusRule, *monitoringv1.PodMonitor) {
	t.Helper()
	s := runtime.NewScheme()
	if err := monitoringv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	dec := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(monitoringDir(), name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	rule, _, err := dec.Decode(read("prometheusrule.yaml"), nil, nil)
	if err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	pm, _, err := dec.Decode(read("podmonitor.yaml"), nil, nil)
	if err != nil {
		t.Fatalf("podmonitor.yaml: %v", err)
	}
	return read("ticketing-dashboard.json"), rule.(*monitoringv1.PrometheusRule), pm.(*monitoringv1.PodMonitor)
}

// TestDashboardAndAlertsReadExportedMetrics: every query of the Grafana
// dashboard and of the alerts names only metrics the services export; the
// alerts the runbook promises exist; the PodMonitor and the scrape
// annotations reach every Go service's metrics port in prod.
func TestDashboardAndAlertsReadExportedMetrics(t *testing.T) {
	dash, rule, pm := loadMonitoring(t)
	exported := exportedMetrics(t)
	for _, want := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "events_consumed_total",
		"events_redelivered_total", "outbox_backlog", "process_resident_memory_bytes"} {
		if !exported[want] {
			t.Fatalf("the services do not export %s (exported: %v)", want, sortedKeys(exported))
		}
	}
	qs := queries(t, dash, rule)
	for _, e := range checkQueries(qs, exported) {
		t.Error(e)
	}
	read := map[string]bool{}
	for _, q := range qs {
		for _, n := range promQLMetrics(q) {
			read[n] = true
		}
	}
	for _, want := range []string{"http_requests_total", "http_request_duration_seconds_bucket", "events_consumed_total",
		"events_redelivered_total", "outbox_backlog", "process_resident_memory_bytes", "kube_pod_container_status_restarts_total"} {
		if !read[want] {
			t.Errorf("neither the dashboard nor the alerts read %s", want)
		}
	}
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
		}
	}
	for _, want := range []string{"TicketingOutboxBacklogGrowing", "TicketingEventRedeliveries", "TicketingHTTP5xxRate", "TicketingPodRestarts"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}

	b, err := decode(render(t, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range b.deployments {
		app := d.Spec.Template.Labels["app"]
		if _, isGo := goServices[app]; !isGo {
			continue
		}
		if !selects(&pm.Spec.Selector, d.Spec.Template.Labels) {
			t.Errorf("PodMonitor %s does not select Deployment %s", pm.Name, d.Name)
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			if ep.Port == nil || !hasContainerPortNamed(&d.Spec.Template.Spec, *ep.Port) {
				t.Errorf("PodMonitor %s: Deployment %s has no port named %v", pm.Name, d.Name, ep.Port)
			}
		}
		a := d.Spec.Template.Annotations
		if a["prometheus.io/scrape"] != "true" || a["prometheus.io/path"] != "/metrics" || a["prometheus.io/port"] != "3000" {
			t.Errorf("Deployment %s: prometheus.io annotations %v, want scrape true, port 3000, path /metrics", d.Name, a)
		}
	}
}

// A planted mistake: a query naming a metric that does not exist (or is
// misspelt) is reported, and so is one that reads nothing.
func TestQueryCheckCatchesUnknownMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	errs := checkQueries(map[string]string{
		"typo":    `sum by (route) (rate(http_request_total{status=~"5.."}[5m]))`,
		"nothing": `vector(1)`,
		"good":    `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))`,
	}, exported)
	want := []string{"nothing: reads no metric: vector(1)", "typo: http_request_total is not a metric the services export"}
	if !slices.Equal(errs, want) {
		t.Errorf("got %q, want %q", errs, want)
	}
}

func hasContainerPortNamed(ps *corev1.PodSpec, name string) bool {
	for _, c := range ps.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

// The monitoring component renders on top of prod (as the runbook says to
// use it) with the dashboard ConfigMap Grafana's sidecar picks up.
func TestMonitoringComponentRendersWithProd(t *testing.T) {
	out := renderWith(t, "prod", monitoringDir())
	for _, want := range []string{"kind: PodMonitor", "kind: PrometheusRule", "grafana_dashboard: \"1\"", "name: ticketing-dashboard\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the render has no %q", want)
		}
	}
}
