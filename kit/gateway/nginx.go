package gateway

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file is the gateway in ingress-nginx mode: what the controller does
// with an Ingress by default, so a test run through it sees what a cluster
// sees. Host rules (a request whose Host matches no rule gets the default
// backend's 404, even if its path would match), TLS for the hosts of
// spec.tls with a certificate (here a self-signed one), a 308 from http to
// https for those hosts (ssl-redirect), and HSTS on their https answers.
// Handler (gateway.go) stays path-only: make run serves one site on one
// address.

// Ingress is what ingress-nginx mode serves: the rules of every Ingress
// (merged by host, as the controller merges them) and the TLS hosts.
type Ingress struct {
	Rules    []HostRule
	TLSHosts []string
}

// HostRule routes the requests for Host ("" for any host, "*.x" for one
// label under x) by path; Routes are longest prefix first.
type HostRule struct {
	Host   string
	Routes []Route
}

type ingressDoc struct {
	Kind string `yaml:"kind"`
	Spec struct {
		TLS []struct {
			Hosts []string `yaml:"hosts"`
		} `yaml:"tls"`
		Rules []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Path     string `yaml:"path"`
					PathType string `yaml:"pathType"`
					Backend  struct {
						Service *struct {
							Name string `yaml:"name"`
							Port struct {
								Number int    `yaml:"number"`
								Name   string `yaml:"name"`
							} `yaml:"port"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

// ReadIngress reads every Ingress of a manifest (one or more YAML
// documents, e.g. a rendered overlay). It refuses what this mode would
// serve differently from ingress-nginx rather than guess: paths other than
// Prefix/ImplementationSpecific, backends that are not a Service port
// number.
func ReadIngress(manifest []byte) (*Ingress, error) {
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	ing := &Ingress{}
	byHost := map[string]int{}
	tls := map[string]bool{}
	for {
		var doc ingressDoc
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("gateway: reading ingress: %w", err)
		}
		if doc.Kind != "Ingress" {
			continue
		}
		for _, t := range doc.Spec.TLS {
			for _, h := range t.Hosts {
				if !tls[h] {
					tls[h] = true
					ing.TLSHosts = append(ing.TLSHosts, h)
				}
			}
		}
		for _, rule := range doc.Spec.Rules {
			i, ok := byHost[rule.Host]
			if !ok {
				i = len(ing.Rules)
				byHost[rule.Host] = i
				ing.Rules = append(ing.Rules, HostRule{Host: rule.Host})
			}
			for _, p := range rule.HTTP.Paths {
				if p.PathType != "Prefix" && p.PathType != "ImplementationSpecific" {
					return nil, fmt.Errorf("gateway: host %q path %s: pathType %s not supported", rule.Host, p.Path, p.PathType)
				}
				be := p.Backend.Service
				if be == nil || be.Name == "" || be.Port.Number == 0 {
					return nil, fmt.Errorf("gateway: host %q path %s: want a service backend with a port number", rule.Host, p.Path)
				}
				ing.Rules[i].Routes = append(ing.Rules[i].Routes, Route{Prefix: p.Path, Service: be.Name, Port: be.Port.Number})
			}
		}
	}
	if len(ing.Rules) == 0 {
		return nil, errors.New("gateway: no Ingress rules found")
	}
	for _, r := range ing.Rules {
		sort.SliceStable(r.Routes, func(i, j int) bool { return len(r.Routes[i].Prefix) > len(r.Routes[j].Prefix) })
	}
	return ing, nil
}

// Services returns every Service the Ingress routes to.
func (ing *Ingress) Services() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range ing.Rules {
		for _, rt := range r.Routes {
			if !seen[rt.Service] {
				seen[rt.Service] = true
				out = append(out, rt.Service)
			}
		}
	}
	return out
}

// Nginx serves an Ingress as ingress-nginx does by default.
type Nginx struct {
	ing       *Ingress
	proxies   map[string]*httputil.ReverseProxy
	httpsPort string
	cert      tls.Certificate
	certPEM   []byte
}

// NewNginx proxies to backends (Service name → base URL). httpsPort is the
// port the https listener is reached on, named in the redirect's Location
// unless it is 443.
func NewNginx(ing *Ingress, backends map[string]string, httpsPort string) (*Nginx, error) {
	proxies := map[string]*httputil.ReverseProxy{}
	for _, svc := range ing.Services() {
		p, err := newProxy(svc, backends)
		if err != nil {
			return nil, err
		}
		proxies[svc] = p
	}
	n := &Nginx{ing: ing, proxies: proxies, httpsPort: httpsPort}
	if len(ing.TLSHosts) > 0 {
		cert, pemBytes, err := selfSigned(ing.TLSHosts)
		if err != nil {
			return nil, err
		}
		n.cert, n.certPEM = cert, pemBytes
	}
	return n, nil
}

// CertPEM is the self-signed certificate of the TLS hosts, to trust
// (curl --cacert), or nil when the Ingress has none.
func (n *Nginx) CertPEM() []byte { return n.certPEM }

// TLSConfig serves the certificate for every name: for a host it does not
// cover the client's verification fails, as with ingress-nginx's fake
// default certificate.
func (n *Nginx) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{n.cert}}
}

// HTTP is the plain-HTTP listener's handler: TLS hosts are redirected.
func (n *Nginx) HTTP() http.Handler { return n.handler(false) }

// HTTPS is the TLS listener's handler.
func (n *Nginx) HTTPS() http.Handler { return n.handler(true) }

func (n *Nginx) handler(secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host := hostOnly(req.Host)
		rule, ok := n.rule(host)
		if !ok {
			defaultBackend(w)
			return
		}
		tlsHost := n.isTLSHost(host)
		if tlsHost && !secure {
			target := "https://" + host
			if n.httpsPort != "" && n.httpsPort != "443" {
				target += ":" + n.httpsPort
			}
			http.Redirect(w, req, target+req.URL.RequestURI(), http.StatusPermanentRedirect)
			return
		}
		if tlsHost {
			w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		r, ok := Match(rule.Routes, req.URL.Path)
		if !ok {
			defaultBackend(w)
			return
		}
		n.proxies[r.Service].ServeHTTP(w, req)
	})
}

// rule finds the rule for host: an exact host first, then a wildcard, then
// the rule without a host.
func (n *Nginx) rule(host string) (HostRule, bool) {
	var wild, any *HostRule
	for i := range n.ing.Rules {
		r := &n.ing.Rules[i]
		switch {
		case r.Host == host:
			return *r, true
		case strings.HasPrefix(r.Host, "*.") && wildcardMatch(r.Host, host):
			wild = r
		case r.Host == "":
			any = r
		}
	}
	if wild != nil {
		return *wild, true
	}
	if any != nil {
		return *any, true
	}
	return HostRule{}, false
}

func (n *Nginx) isTLSHost(host string) bool {
	for _, h := range n.ing.TLSHosts {
		if h == host || (strings.HasPrefix(h, "*.") && wildcardMatch(h, host)) {
			return true
		}
	}
	return false
}

// wildcardMatch: "*.x" covers exactly one label before x, as Kubernetes
// defines wildcard hosts.
func wildcardMatch(pattern, host string) bool {
	label, rest, ok := strings.Cut(host, ".")
	return ok && label != "" && "*."+rest == pattern
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return strings.ToLower(h)
	}
	return strings.ToLower(hostport)
}

// defaultBackend answers as ingress-nginx's default server does.
func defaultBackend(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// selfSigned makes a certificate for hosts that is its own CA, so a client
// trusts it with that one PEM.
func selfSigned(hosts []string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0]},
		DNSNames:              hosts,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return cert, certPEM, err
}
