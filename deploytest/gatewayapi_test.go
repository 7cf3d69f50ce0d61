package deploytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/ticketing-go/ticketing/kit/gateway"
)

func gatewayAPIDir() string {
	return filepath.Join(repoRoot, "infra", "k8s", "components", "gateway-api")
}

// renderWith renders an overlay with extra components, as an operator's own
// overlay would (kustomize takes only relative paths to them).
func renderWith(t *testing.T, overlay string, components ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	rel := func(p string) string {
		a, err := filepath.Abs(p)
		if err == nil {
			a, err = filepath.Rel(dir, a)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	kust := "resources:\n  - " + rel(filepath.Join(repoRoot, "infra", "k8s", "overlays", overlay)) + "\ncomponents:\n"
	for _, c := range components {
		kust += "  - " + rel(c) + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kust), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("kubectl", "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s + %v: %v\n%s", overlay, components, err, stderr.String())
	}
	return out
}

// gatewayBundle is a render's Gateway API objects (strictly decoded) and its
// other objects (decoded as decode does).
type gatewayBundle struct {
	*bundle
	gateways []*gatewayv1.Gateway
	routes   []*gatewayv1.HTTPRoute
}

func decodeWithGatewayAPI(data []byte) (*gatewayBundle, error) {
	s := runtime.NewScheme()
	if err := gatewayv1.Install(s); err != nil {
		return nil, err
	}
	gwDec := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	gb := &gatewayBundle{}
	var rest bytes.Buffer
	r := utilyaml.NewYAMLReader(bufioReader(data))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(doc, []byte("apiVersion: gateway.networking.k8s.io/")) {
			rest.WriteString("---\n")
			rest.Write(doc)
			continue
		}
		obj, _, err := gwDec.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *gatewayv1.Gateway:
			gb.gateways = append(gb.gateways, o)
		case *gatewayv1.HTTPRoute:
			gb.routes = append(gb.routes, o)
		default:
			return nil, fmt.Errorf("unexpected Gateway API kind %T", obj)
		}
	}
	b, err := decode(rest.Bytes())
	gb.bundle = b
	return gb, err
}

// checkGatewayAPI: the HTTPRoutes serve what the Ingress serves — its
// hosts, its routes to the same Services and ports — through a Gateway
// listener with the Ingress's TLS hosts and certificate, and plain HTTP only
// redirects to HTTPS.
func checkGatewayAPI(gb *gatewayBundle) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if len(gb.ingresses) != 1 || len(gb.gateways) != 1 {
		return []string{fmt.Sprintf("want one Ingress and one Gateway, got %d and %d", len(gb.ingresses), len(gb.gateways))}
	}
	ing, gw := gb.ingresses[0], gb.gateways[0]
	var want []string
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			want = append(want, fmt.Sprintf("%s %s -> %s:%d", r.Host, p.Path, p.Backend.Service.Name, p.Backend.Service.Port.Number))
		}
	}
	listeners := map[gatewayv1.SectionName]gatewayv1.Listener{}
	for _, l := range gw.Spec.Listeners {
		listeners[l.Name] = l
	}
	for _, tls := range ing.Spec.TLS {
		for _, h := range tls.Hosts {
			served := false
			for _, l := range gw.Spec.Listeners {
				if l.Protocol != gatewayv1.HTTPSProtocolType || l.Hostname == nil || string(*l.Hostname) != h || l.TLS == nil {
					continue
				}
				for _, ref := range l.TLS.CertificateRefs {
					served = served || (string(ref.Name) == tls.SecretName && (ref.Kind == nil || *ref.Kind == "Secret"))
				}
			}
			if !served {
				fail("Gateway %s: no HTTPS listener for %s with the Ingress's certificate %s", gw.Name, h, tls.SecretName)
			}
		}
	}
	var got []string
	redirects := false
	for _, hr := range gb.routes {
		var via []gatewayv1.Listener
		for _, p := range hr.Spec.ParentRefs {
			l, ok := listeners[ptrOr(p.SectionName)]
			if string(p.Name) != gw.Name || !ok {
				fail("HTTPRoute %s: parent %s/%s is not a listener of Gateway %s", hr.Name, p.Name, ptrOr(p.SectionName), gw.Name)
				continue
			}
			via = append(via, l)
		}
		for _, rule := range hr.Spec.Rules {
			isRedirect := len(rule.BackendRefs) == 0 && slices.ContainsFunc(rule.Filters, func(f gatewayv1.HTTPRouteFilter) bool {
				return f.Type == gatewayv1.HTTPRouteFilterRequestRedirect && f.RequestRedirect != nil && ptrOr(f.RequestRedirect.Scheme) == "https"
			})
			for _, l := range via {
				switch {
				case isRedirect && l.Protocol == gatewayv1.HTTPProtocolType:
					redirects = true
				case isRedirect:
					fail("HTTPRoute %s: redirects on the %s listener %s", hr.Name, l.Protocol, l.Name)
				case l.Protocol != gatewayv1.HTTPSProtocolType:
					fail("HTTPRoute %s: serves the API over %s (listener %s); only HTTPS may", hr.Name, l.Protocol, l.Name)
				}
			}
			if isRedirect {
				continue
			}
			for _, m := range rule.Matches {
				for _, h := range hr.Spec.Hostnames {
					for _, be := range rule.BackendRefs {
						got = append(got, fmt.Sprintf("%s %s -> %s:%d", h, ptrOr(m.Path.Value), be.Name, ptrOr(be.Port)))
						if m.Path.Type == nil || *m.Path.Type != gatewayv1.PathMatchPathPrefix {
							fail("HTTPRoute %s: %s is not a PathPrefix match (the Ingress's pathType Prefix)", hr.Name, ptrOr(m.Path.Value))
						}
						if svc, ok := gb.services[string(be.Name)]; !ok || !servicePort(svc, ptrOr(be.Port), "") {
							fail("HTTPRoute %s: backend %s:%d is not a Service port of the render", hr.Name, be.Name, ptrOr(be.Port))
						}
					}
				}
			}
		}
	}
	if !redirects {
		fail("no HTTPRoute redirects plain HTTP to HTTPS (ingress-nginx does, for a host with TLS)")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		fail("HTTPRoutes serve\n%s\nthe Ingress serves\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	slices.Sort(errs)
	return errs
}

func ptrOr[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// The Gateway API component on top of prod serves exactly what prod's
// Ingress serves, and kit/gateway reads the same routes from either.
func TestGatewayAPIEqualsTheIngress(t *testing.T) {
	src := renderWith(t, "prod", gatewayAPIDir())
	gb, err := decodeWithGatewayAPI(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range checkGatewayAPI(gb) {
		t.Error(e)
	}
	ingRoutes, err := gateway.Routes(src)
	if err != nil {
		t.Fatal(err)
	}
	hrRoutes, err := gateway.HTTPRoutes(src)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hrRoutes, ingRoutes) {
		t.Errorf("kit/gateway reads %v from the HTTPRoutes, %v from the Ingress", hrRoutes, ingRoutes)
	}

	// Planted mistakes, one at a time.
	cases := []struct {
		name, want string
		mutate     func(gb *gatewayBundle)
	}{
		{"a path missing", "HTTPRoutes serve", func(gb *gatewayBundle) {
			r := gb.routes[0]
			r.Spec.Rules = r.Spec.Rules[1:]
		}},
		{"another backend", "HTTPRoutes serve", func(gb *gatewayBundle) {
			gb.routes[0].Spec.Rules[0].BackendRefs[0].Name = "tickets-srv"
		}},
		{"another host", "HTTPRoutes serve", func(gb *gatewayBundle) {
			gb.routes[0].Spec.Hostnames = []gatewayv1.Hostname{"tickets.example.com"}
		}},
		{"another certificate", "no HTTPS listener for ticketing.dev with the Ingress's certificate ticketing-tls", func(gb *gatewayBundle) {
			gb.gateways[0].Spec.Listeners[0].TLS.CertificateRefs[0].Name = "other-tls"
		}},
		{"API over plain HTTP", "serves the API over HTTP", func(gb *gatewayBundle) {
			gb.routes[0].Spec.ParentRefs[0].SectionName = ptrTo(gatewayv1.SectionName("http"))
		}},
		{"no redirect", "no HTTPRoute redirects plain HTTP to HTTPS", func(gb *gatewayBundle) {
			gb.routes = gb.routes[:1]
		}},
		{"unknown listener", "is not a listener of Gateway", func(gb *gatewayBundle) {
			gb.routes[0].Spec.ParentRefs[0].SectionName = ptrTo(gatewayv1.SectionName("https-x"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gb, err := decodeWithGatewayAPI(src)
			if err != nil {
				t.Fatal(err)
			}
			c.mutate(gb)
			errs := checkGatewayAPI(gb)
			for _, e := range errs {
				if strings.Contains(e, c.want) {
					return
				}
			}
			t.Errorf("planted mistake not caught; want %q, got:\n%s", c.want, strings.Join(errs, "\n"))
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
