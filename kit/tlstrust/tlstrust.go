// Package tlstrust is how the tools that reach a platform from outside (the
// e2e suite and the bench, with URL=… CA=…) trust a dev cluster's
// self-signed certificate or private CA: that file's certificates besides
// the system's roots, and nothing else.
package tlstrust

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
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
