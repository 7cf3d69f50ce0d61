package tlstrust

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A dev cluster's self-signed certificate is trusted when its file is
// named, and only then; a missing file or one without a certificate is an
// error, not a silent fall-back to the system's roots.
func TestConfigTrustsTheGivenCertificateOnly(t *testing.T) {
	srv, ca := SelfSigned(t)
	dir := t.TempDir()
	cfg, err := Config(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}).Get(srv.URL)
	if err != nil {
		t.Fatalf("trusting the file: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Get(srv.URL); err == nil {
		t.Error("without the file the self-signed certificate was accepted")
	}
	if _, err := Config(filepath.Join(dir, "none.crt")); err == nil {
		t.Error("a missing file was accepted")
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Config(notPEM); err == nil {
		t.Error("a file without a certificate was accepted")
	}
}
