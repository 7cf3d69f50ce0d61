package gateway_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/gateway"
)

// The Gateway API routes of infra/ route exactly as the base Ingress.
func TestHTTPRoutesOfTheRepositoryEqualTheIngress(t *testing.T) {
	read := func(p ...string) []byte {
		data, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "infra", "k8s"}, p...)...))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	ing, err := gateway.Routes(read("base", "ingress.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hr, err := gateway.RoutesOf(read("components", "gateway-api", "httproutes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hr, ing) {
		t.Errorf("HTTPRoutes route %v; the Ingress %v", hr, ing)
	}
}

func TestHTTPRoutesRefusesWhatItCannotServeAlike(t *testing.T) {
	for name, c := range map[string]struct{ manifest, want string }{
		"regex match": {`kind: HTTPRoute
spec:
  rules:
    - matches: [{path: {type: RegularExpression, value: "/api/.*"}}]
      backendRefs: [{name: a, port: 1}]`, "PathPrefix"},
		"traffic split": {`kind: HTTPRoute
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: a, port: 1}, {name: b, port: 1}]`, "traffic split"},
		"only a redirect": {`kind: HTTPRoute
spec:
  rules:
    - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]`, "no HTTPRoute paths"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := gateway.HTTPRoutes([]byte(c.manifest)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error about %s", err, c.want)
			}
		})
	}
}

func TestHTTPRoutesLongestPrefixFirstAndMatch(t *testing.T) {
	routes, err := gateway.HTTPRoutes([]byte(`kind: HTTPRoute
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /}}]
      backendRefs: [{name: client-srv, port: 3000}]
    - matches: [{path: {type: PathPrefix, value: /api/users}}]
      backendRefs: [{name: auth-srv, port: 3000}]`))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := gateway.Match(routes, "/api/users/signin"); r.Service != "auth-srv" {
		t.Errorf("/api/users/signin went to %s", r.Service)
	}
	if r, _ := gateway.Match(routes, "/api/usersx"); r.Service != "client-srv" {
		t.Errorf("/api/usersx went to %s", r.Service)
	}
}
