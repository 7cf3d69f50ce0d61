package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"

	"go.yaml.in/yaml/v3"
)

// httpRoute is the part of a Gateway API HTTPRoute the gateway routes by.
type httpRoute struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Rules []struct {
			Matches []struct {
				Path *struct {
					Type  string `yaml:"type"`
					Value string `yaml:"value"`
				} `yaml:"path"`
			} `yaml:"matches"`
			BackendRefs []struct {
				Kind string `yaml:"kind"`
				Name string `yaml:"name"`
				Port int    `yaml:"port"`
			} `yaml:"backendRefs"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

// HTTPRoutes returns the PathPrefix routes of the HTTPRoute objects in
// manifest, longest prefix first (Gateway API's precedence, as nginx's).
// Rules without a backend (an HTTP-to-HTTPS redirect) route nothing and are
// skipped; a rule the local gateway cannot honour (another match type, or
// traffic split across several backends) is an error rather than a route
// that behaves differently here than in the cluster.
func HTTPRoutes(manifest []byte) ([]Route, error) {
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	seen := map[string]bool{}
	var routes []Route
	for {
		var hr httpRoute
		err := dec.Decode(&hr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gateway: reading HTTPRoute: %w", err)
		}
		if hr.Kind != "HTTPRoute" {
			continue
		}
		for _, rule := range hr.Spec.Rules {
			if len(rule.BackendRefs) == 0 {
				continue
			}
			if len(rule.BackendRefs) > 1 {
				return nil, fmt.Errorf("gateway: a rule with %d backends (traffic split) is not supported", len(rule.BackendRefs))
			}
			be := rule.BackendRefs[0]
			if be.Kind != "" && be.Kind != "Service" {
				return nil, fmt.Errorf("gateway: backend kind %s not supported", be.Kind)
			}
			for _, m := range rule.Matches {
				if m.Path == nil || m.Path.Type != "PathPrefix" {
					return nil, errors.New("gateway: only path matches of type PathPrefix are supported")
				}
				if seen[m.Path.Value] {
					continue
				}
				seen[m.Path.Value] = true
				routes = append(routes, Route{Prefix: m.Path.Value, Service: be.Name, Port: be.Port})
			}
		}
	}
	if len(routes) == 0 {
		return nil, errors.New("gateway: no HTTPRoute paths found")
	}
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].Prefix) > len(routes[j].Prefix) })
	return routes, nil
}

// RoutesOf reads the routes of a manifest holding either Ingress or
// HTTPRoute objects, so the local platform can serve either.
func RoutesOf(manifest []byte) ([]Route, error) {
	routes, err := Routes(manifest)
	if err == nil {
		return routes, nil
	}
	if hr, herr := HTTPRoutes(manifest); herr == nil {
		return hr, nil
	}
	return nil, err
}
