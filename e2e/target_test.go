package e2e

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/tlstrust"
)

// A person with a cluster runs the suite against its URL with the
// self-signed certificate they made: that certificate must be trusted, and
// nothing else beyond the system's roots.
func TestTargetTrustsTheGivenCertificateOnly(t *testing.T) {
	srv, ca := tlstrust.SelfSigned(t)
	env := map[string]string{"E2E_URL": srv.URL + "/", "E2E_CA": ca}
	tg, err := targetFrom(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if tg.url != srv.URL || tg.window != 15*time.Minute {
		t.Errorf("target %q window %v, want %q and the services' default 15m", tg.url, tg.window, srv.URL)
	}
	resp, err := (&http.Client{Transport: tg.transport, Timeout: 10 * time.Second}).Get(tg.url)
	if err != nil {
		t.Fatalf("with E2E_CA: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Timeout: 10 * time.Second}).Get(tg.url); err == nil {
		t.Error("without E2E_CA the self-signed certificate was accepted")
	}

	for name, env := range map[string]map[string]string{
		"scheme missing": {"E2E_URL": "ticketing.dev"},
		"bad window":     {"E2E_URL": "https://ticketing.dev", "E2E_EXPIRATION_WINDOW": "ten seconds"},
		"not a PEM":      {"E2E_CA": filepath.Join(t.TempDir(), "missing.crt")},
	} {
		if _, err := targetFrom(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
