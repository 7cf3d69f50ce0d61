package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

const manifest = `
apiVersion: v1
kind: Service
metadata: {name: x}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ingress}
spec:
  ingressClassName: nginx
  rules:
    - host: ticketing.dev
      http:
        paths:
          - {path: /api/users, pathType: Prefix, backend: {service: {name: auth-srv, port: {number: 3000}}}}
          - {path: /, pathType: Prefix, backend: {service: {name: client-srv, port: {number: 3000}}}}
          - {path: /api/tickets, pathType: Prefix, backend: {service: {name: tickets-srv, port: {number: 3000}}}}
`

func TestRoutesAndMatch(t *testing.T) {
	routes, err := Routes([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api/users/signin": "auth-srv", "/api/users": "auth-srv", "/api/usersx": "client-srv",
		"/api/tickets/abc": "tickets-srv", "/": "client-srv", "/orders/1": "client-srv",
	} {
		r, ok := Match(routes, path)
		if !ok || r.Service != want {
			t.Errorf("%s → %v %v, want %s", path, r, ok, want)
		}
	}
}

func TestHandlerProxiesWithForwardedHeaders(t *testing.T) {
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "auth "+r.URL.Path+" "+r.Header.Get("X-Forwarded-For"))
	}))
	defer auth.Close()
	routes, _ := Routes([]byte(manifest))
	if _, err := Handler(routes, map[string]string{"auth-srv": auth.URL}); err == nil {
		t.Fatal("a route without a backend must be refused")
	}
	h, err := Handler(routes, map[string]string{"auth-srv": auth.URL, "client-srv": "http://127.0.0.1:1", "tickets-srv": "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(h)
	defer gw.Close()
	resp, err := http.Get(gw.URL + "/api/users/currentuser")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "auth /api/users/currentuser 127.0.0.1" {
		t.Fatalf("got %q", body)
	}
	resp, err = http.Get(gw.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("down backend: %d", resp.StatusCode)
	}
}

func TestAPIRoutesNameEachAPIPrefixsBackend(t *testing.T) {
	routes, err := Routes([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	got := APIRoutes(routes, map[string]string{"auth-srv": "http://127.0.0.1:3101", "tickets-srv": "http://127.0.0.1:3102", "client-srv": "http://127.0.0.1:3000"})
	if want := "/api/tickets=http://127.0.0.1:3102,/api/users=http://127.0.0.1:3101"; got != want {
		t.Errorf("APIRoutes = %q, want %q", got, want)
	}
}
