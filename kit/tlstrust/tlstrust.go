// Package tlstrust is how the tools that reach a platform from outside (the
// e2e suite and the bench, with URL=… CA=…) trust a dev cluster's
// self-signed certificate or private CA: that file's certificates besides
// the system's roots, and nothing else.
package tlstrust

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// Config is a client TLS configuration that trusts the certificates in the
// PEM file caFile besides the system's roots.
func Config(caFile string) (*tls.Config, error) {
	data, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// SelfSigned starts a TLS server with a self-signed certificate, as a dev
// cluster's ingress has, and writes that certificate to a PEM file: the
// file to trust, for tests of the tools that take one. The server stops
// with the test.
func SelfSigned(t testing.TB) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}
