// Package gateway is the local stand-in for ingress-nginx: it reads the
// routes from the Ingress manifest itself, so the local platform and the
// cluster cannot route differently.
package gateway

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Route sends requests whose path has Prefix to the Kubernetes Service.
type Route struct {
	Prefix  string
	Service string
	Port    int
}

// Routes returns the Prefix routes of the Ingress objects in manifest (one or
// more YAML documents), longest prefix first — the order nginx matches in.
// Path only: the first rule's backend for a path wins whatever its host
// (make run serves one site); ReadIngress keeps the hosts.
func Routes(manifest []byte) ([]Route, error) {
	ing, err := ReadIngress(manifest)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var routes []Route
	for _, rule := range ing.Rules {
		for _, r := range rule.Routes {
			if !seen[r.Prefix] {
				seen[r.Prefix] = true
				routes = append(routes, r)
			}
		}
	}
	if len(routes) == 0 {
		return nil, errors.New("gateway: no Ingress paths found")
	}
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].Prefix) > len(routes[j].Prefix) })
	return routes, nil
}

// Match returns the route for path: Prefix matching is by whole path
// segments, as Kubernetes defines it (/api/users matches /api/users/signin,
// not /api/usersx).
func Match(routes []Route, path string) (Route, bool) {
	for _, r := range routes {
		p := strings.TrimSuffix(r.Prefix, "/")
		if p == "" || path == p || strings.HasPrefix(path, p+"/") {
			return r, true
		}
	}
	return Route{}, false
}

// APIRoutes is the web client's API_ROUTES for these routes: each /api/
// prefix and its backend's base URL ("/api/users=http://127.0.0.1:3101,…"),
// so its server-side calls go to the services as the Ingress routes them.
func APIRoutes(routes []Route, backends map[string]string) string {
	var pairs []string
	for _, r := range routes {
		if strings.HasPrefix(r.Prefix, "/api/") && backends[r.Service] != "" {
			pairs = append(pairs, r.Prefix+"="+backends[r.Service])
		}
	}
	return strings.Join(pairs, ",")
}

// Handler proxies each request to the backend of its route; backends maps a
// Service name to a base URL ("auth-srv" → "http://127.0.0.1:3101").
func Handler(routes []Route, backends map[string]string) (http.Handler, error) {
	proxies := map[string]*httputil.ReverseProxy{}
	for _, r := range routes {
		p, err := newProxy(r.Service, backends)
		if err != nil {
			return nil, err
		}
		proxies[r.Service] = p
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r, ok := Match(routes, req.URL.Path)
		if !ok {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errors":[{"message":"Not Found"}]}`)
			return
		}
		proxies[r.Service].ServeHTTP(w, req)
	}), nil
}

// transport is shared by every proxy of the process. Keep connections to
// the backends open between requests, as ingress-nginx does (upstream
// keepalive): net/http's default keeps two idle ones per host, so under
// concurrency most requests would dial anew.
var transport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 256
	// proxy_read_timeout: a backend that accepts but never answers.
	t.ResponseHeaderTimeout = NginxTimeouts.Read
	return t
}()

// newProxy proxies to the backend of Service svc, answering 502 in the
// API's envelope when it is not reachable.
func newProxy(svc string, backends map[string]string) (*httputil.ReverseProxy, error) {
	raw, ok := backends[svc]
	if !ok {
		return nil, fmt.Errorf("gateway: no local backend for service %s", svc)
	}
	target, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("gateway: backend %s: %w", svc, err)
	}
	return &httputil.ReverseProxy{
		Transport: transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Host = pr.In.Host // as nginx does, so absolute links stay on the gateway
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"errors":[{"message":"%s is not reachable"}]}`, svc)
		},
	}, nil
}

// Timeouts bound how long the gateway waits on a client.
type Timeouts struct {
	ReadHeader time.Duration // the request line and headers
	Read       time.Duration // the whole request, body included
	Write      time.Duration // from the end of the headers to the end of the answer
	Idle       time.Duration // a keep-alive connection between requests
}

// NginxTimeouts are ingress-nginx's defaults, so a client that stalls or
// idles is cut off locally as in the cluster: client_header_timeout and
// client_body_timeout 60 s, keepalive_timeout 75 s, and proxy_read_timeout
// 60 s for the backend's answer (plus a little to write it).
var NginxTimeouts = Timeouts{ReadHeader: 60 * time.Second, Read: 60 * time.Second, Write: 65 * time.Second, Idle: 75 * time.Second}

// Server returns the gateway's HTTP server for h. Without timeouts a
// client could hold a connection (and its goroutine and buffers) for ever
// by idling or by sending its body a byte at a time.
func Server(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
}
