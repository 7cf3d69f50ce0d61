package main

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// `make bench URL=https://ticketing.dev CA=…` must get through a dev
// cluster's self-signed certificate, and only through the one it names.
func TestCATrustsTheGivenCertificate(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := trusting(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with -ca: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}).Get(srv.URL); err == nil {
		t.Error("without -ca the self-signed certificate was accepted")
	}
	if _, err := trusting(filepath.Join(t.TempDir(), "none.crt")); err == nil {
		t.Error("a missing file was accepted")
	}
}
