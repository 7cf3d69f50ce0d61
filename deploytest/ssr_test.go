package deploytest

import (
	"fmt"
	"net/url"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// checkClientSSR follows every API route of the Ingress as the web client's
// server-side rendering would call it (client/lib/server-api.ts: the longest
// matching prefix of API_ROUTES, else API_BASE_URL) and requires the call to
// reach the Service the Ingress routes that path to. Through the ingress
// controller's Service it would not: ingress-nginx matches the Host header
// against the Ingress's host rules and answers any other host from its
// default backend (404), and it redirects plain HTTP for a TLS host (308).
func checkClientSSR(b *bundle, fail func(string, ...any)) {
	var client *corev1.Container
	for _, d := range b.deployments {
		if d.Spec.Template.Labels["app"] == "client" {
			client = containerNamed(&d.Spec.Template, "client")
		}
	}
	if client == nil {
		fail("no client Deployment")
		return
	}
	env := map[string]string{}
	for _, e := range client.Env {
		env[e.Name] = e.Value
	}
	routes, err := parseAPIRoutes(env["API_ROUTES"])
	if err != nil {
		fail("client-depl: API_ROUTES: %v", err)
		return
	}
	ingressPaths := map[string]bool{}
	for _, ing := range b.ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				ingressPaths[strings.TrimSuffix(p.Path, "/")] = true
			}
		}
	}
	for _, prefix := range sortedKeys(routes) {
		if !ingressPaths[prefix] {
			fail("client-depl: API_ROUTES has %s, which the Ingress does not route (one route table: the Ingress's)", prefix)
		}
	}
	for _, ing := range b.ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for _, p := range rule.HTTP.Paths {
				be := p.Backend.Service
				if be == nil || !strings.HasPrefix(p.Path, "/api/") {
					continue
				}
				target := ssrTarget(routes, env["API_BASE_URL"], p.Path+"/x")
				if target == "" {
					fail("client-depl: server-side GET %s/…: neither API_ROUTES nor API_BASE_URL names where to send it", p.Path)
					continue
				}
				u, err := url.Parse(target)
				if err != nil || u.Scheme != "http" {
					fail("client-depl: server-side GET %s/… goes to %q: want http://<service>:<port>", p.Path, target)
					continue
				}
				host, port := serviceOf(u.Hostname()), u.Port()
				if port == "" {
					port = "80"
				}
				if host != be.Name || port != fmt.Sprint(be.Port.Number) {
					fail("client-depl: server-side GET %s/… goes to %s, not to Service %s:%d that the Ingress routes it to "+
						"(an ingress controller answers a host it has no rule for from its default backend, 404, and redirects plain HTTP for a TLS host, 308)",
						p.Path, target, be.Name, be.Port.Number)
				}
			}
		}
	}
}

// parseAPIRoutes reads API_ROUTES as client/lib/server-api.ts does:
// comma-separated prefix=URL pairs.
func parseAPIRoutes(v string) (map[string]string, error) {
	routes := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		prefix, target, ok := strings.Cut(pair, "=")
		if !ok || !strings.HasPrefix(prefix, "/") || target == "" {
			return nil, fmt.Errorf("%q is not prefix=URL", pair)
		}
		routes[strings.TrimSuffix(prefix, "/")] = strings.TrimSuffix(target, "/")
	}
	return routes, nil
}

// ssrTarget is the base URL the client calls for path: the route with the
// longest prefix matching whole segments, else base.
func ssrTarget(routes map[string]string, base, path string) string {
	best, target := -1, base
	for prefix, u := range routes {
		if (path == prefix || strings.HasPrefix(path, prefix+"/")) && len(prefix) > best {
			best, target = len(prefix), u
		}
	}
	return target
}

// serviceOf reduces a cluster DNS name (svc, svc.ns, svc.ns.svc,
// svc.ns.svc.cluster.local) to the Service name.
func serviceOf(host string) string {
	name, _, _ := strings.Cut(host, ".")
	return name
}
