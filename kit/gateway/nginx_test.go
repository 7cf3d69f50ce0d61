package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// nginxManifest: one Ingress with a TLS host, another rule for a host
// without TLS, and a third Ingress whose rule has no host (every host).
const nginxManifest = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ingress}
spec:
  tls:
    - hosts: [ticketing.dev]
      secretName: ticketing-dev-tls
  rules:
    - host: ticketing.dev
      http:
        paths:
          - {path: /api/users, pathType: Prefix, backend: {service: {name: auth-srv, port: {number: 3000}}}}
          - {path: /, pathType: Prefix, backend: {service: {name: client-srv, port: {number: 3000}}}}
    - host: plain.test
      http:
        paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: auth-srv, port: {number: 3000}}}}
    - host: "*.wild.test"
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: client-srv, port: {number: 3000}}}}
`

// nginxStack serves nginxManifest in ingress-nginx mode on a plain and a TLS
// listener, in front of backends that echo who they are and what they saw.
func nginxStack(t *testing.T, manifest string) (n *Nginx, plainAddr, tlsAddr string) {
	t.Helper()
	backend := func(name string) string {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, name+" "+r.Host+" "+r.Header.Get("X-Forwarded-Proto")+" "+r.URL.RequestURI())
		}))
		t.Cleanup(s.Close)
		return s.URL
	}
	ing, err := ReadIngress([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, httpsPort, _ := net.SplitHostPort(tlsLn.Addr().String())
	n, err = NewNginx(ing, map[string]string{"auth-srv": backend("auth"), "client-srv": backend("client")}, httpsPort)
	if err != nil {
		t.Fatal(err)
	}
	plain, secure := Server(n.HTTP(), NginxTimeouts), Server(n.HTTPS(), NginxTimeouts)
	secure.TLSConfig = n.TLSConfig()
	go func() { _ = plain.Serve(plainLn) }()
	go func() { _ = secure.ServeTLS(tlsLn, "", "") }()
	t.Cleanup(func() { _ = plain.Close(); _ = secure.Close() })
	return n, plainLn.Addr().String(), tlsLn.Addr().String()
}

// client resolves every host to addr (as curl --resolve does) and trusts
// pool; it does not follow redirects.
func client(addr string, pool *x509.CertPool) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func TestNginxRoutesByHostAndPath(t *testing.T) {
	n, plainAddr, tlsAddr := nginxStack(t, nginxManifest)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(n.CertPEM()) {
		t.Fatal("no certificate PEM")
	}
	secure, plain := client(tlsAddr, pool), client(plainAddr, nil)
	for _, c := range []struct {
		name   string
		c      *http.Client
		url    string
		status int
		body   string
	}{
		{"TLS host over https, API path", secure, "https://ticketing.dev/api/users/currentuser", 200, "auth ticketing.dev https /api/users/currentuser"},
		{"TLS host over https, the client", secure, "https://ticketing.dev/tickets/1?x=y", 200, "client ticketing.dev https /tickets/1?x=y"},
		{"host without TLS over http", plain, "http://plain.test/api/x", 200, "auth plain.test http /api/x"},
		{"host without TLS, path no rule names", plain, "http://plain.test/other", 404, "404 Not Found"},
		{"wildcard host", plain, "http://a.wild.test/", 200, "client a.wild.test http /"},
		{"wildcard is one label only", plain, "http://a.b.wild.test/", 404, "404 Not Found"},
		{"another host: default backend", plain, "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local/api/users/currentuser", 404, "404 Not Found"},
		{"no Host but an address: default backend", plain, "http://127.0.0.1/api/users/currentuser", 404, "404 Not Found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := get(t, c.c, c.url)
			if status != c.status || !strings.Contains(body, c.body) {
				t.Errorf("%s → %d %q, want %d with %q", c.url, status, body, c.status, c.body)
			}
		})
	}
}

func TestNginxRedirectsPlainHTTPForTLSHosts(t *testing.T) {
	_, plainAddr, tlsAddr := nginxStack(t, nginxManifest)
	_, httpsPort, _ := net.SplitHostPort(tlsAddr)
	status, h, _ := get(t, client(plainAddr, nil), "http://ticketing.dev/api/users/currentuser?a=1")
	if want := "https://ticketing.dev:" + httpsPort + "/api/users/currentuser?a=1"; status != http.StatusPermanentRedirect || h.Get("Location") != want {
		t.Errorf("plain HTTP for the TLS host → %d Location %q, want 308 to %s", status, h.Get("Location"), want)
	}
}

func TestNginxCertificateCoversTheTLSHostsOnly(t *testing.T) {
	n, _, tlsAddr := nginxStack(t, nginxManifest)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(n.CertPEM())
	for host, ok := range map[string]bool{"ticketing.dev": true, "plain.test": false} {
		conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{ServerName: host, RootCAs: pool})
		if (err == nil) != ok {
			t.Errorf("TLS handshake for %s: err %v, want success %v", host, err, ok)
		}
		if conn != nil {
			_ = conn.Close()
		}
	}
}

func TestNginxHSTSOnTLSHosts(t *testing.T) {
	n, _, tlsAddr := nginxStack(t, nginxManifest)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(n.CertPEM())
	_, h, _ := get(t, client(tlsAddr, pool), "https://ticketing.dev/")
	if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=31536000") {
		t.Errorf("Strict-Transport-Security %q, want ingress-nginx's max-age=31536000; includeSubDomains", h.Get("Strict-Transport-Security"))
	}
}

func TestReadIngressRefusesWhatNginxModeCannotServe(t *testing.T) {
	for name, m := range map[string]string{
		"no ingress":   "kind: Service\n",
		"exact path":   "kind: Ingress\nspec: {rules: [{host: a, http: {paths: [{path: /x, pathType: Exact, backend: {service: {name: s, port: {number: 1}}}}]}}]}\n",
		"port by name": "kind: Ingress\nspec: {rules: [{host: a, http: {paths: [{path: /x, pathType: Prefix, backend: {service: {name: s, port: {name: http}}}}]}}]}\n",
		"no service":   "kind: Ingress\nspec: {rules: [{host: a, http: {paths: [{path: /x, pathType: Prefix, backend: {}}]}}]}\n",
	} {
		if _, err := ReadIngress([]byte(m)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
