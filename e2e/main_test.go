// Package e2e drives the whole platform as a user meets it: the real service
// binaries started by the dev stack (as `make run` does), through the
// gateway, over HTTP only.
//
// With E2E_URL (and E2E_CA, a PEM file of the certificate to trust) the same
// tests drive a platform that is already running instead, e.g. a cluster:
// `make e2e URL=https://ticketing.dev CA=infra/certs/ticketing.dev.crt`.
// Tests that need the local stack itself (its processes, ports, event bus)
// are skipped then, saying why. E2E_EXPIRATION_WINDOW tells the tests the
// platform's EXPIRATION_WINDOW (default 15m there); the tests that wait for an
// order to expire run only when it is at most a minute.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/stackrun"
	"github.com/ticketing-go/ticketing/kit/tlstrust"
)

// The local stack's offset keeps it clear of `make run` (+0), the bench
// (+2000) and the browser tests (+3000), and every port below 32768, out of
// the range the kernel hands to outgoing connections.
const portOffset = 1000

var (
	// gateway is where the tests send every request: the local stack's
	// gateway, or E2E_URL.
	gateway = stackrun.GatewayURL(portOffset)
	// window is the orders' expiration window on the platform under test.
	window = 3 * time.Second
	// external is set when E2E_URL names a platform started elsewhere.
	external bool
	// transport trusts E2E_CA, if given, besides the system's roots.
	transport http.RoundTripper = http.DefaultTransport
	// stackLog is the local stack's output: every service's log lines,
	// each prefixed with the service's name (kit/cmd/devstack).
	stackLog string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		if err := configure(os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		if external {
			fmt.Fprintf(os.Stderr, "e2e: against %s (expiration window %v)\n", gateway, window)
			return m.Run()
		}
		stop, err := startStack()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer stop()
		return m.Run()
	}())
}

// target is the platform under test, as E2E_URL, E2E_CA and
// E2E_EXPIRATION_WINDOW describe it; zero fields keep the local stack's.
type target struct {
	url       string
	window    time.Duration
	transport http.RoundTripper
}

func targetFrom(getenv func(string) string) (target, error) {
	var tg target
	if ca := getenv("E2E_CA"); ca != "" {
		rt, err := trusting(ca)
		if err != nil {
			return tg, err
		}
		tg.transport = rt
	}
	u := strings.TrimRight(getenv("E2E_URL"), "/")
	if u == "" {
		return tg, nil
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return tg, fmt.Errorf("E2E_URL=%s: want http:// or https://", u)
	}
	tg.url, tg.window = u, 15*time.Minute // the services' default
	if w := getenv("E2E_EXPIRATION_WINDOW"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			return tg, fmt.Errorf("E2E_EXPIRATION_WINDOW: %w", err)
		}
		tg.window = d
	}
	return tg, nil
}

// configure points the suite at the target.
func configure(getenv func(string) string) error {
	tg, err := targetFrom(getenv)
	if err != nil {
		return err
	}
	if tg.transport != nil {
		transport = tg.transport
	}
	if tg.url != "" {
		gateway, window, external = tg.url, tg.window, true
	}
	return nil
}

// trusting is a transport that also trusts the certificates in a PEM file
// (a self-signed certificate or a private CA).
func trusting(caFile string) (http.RoundTripper, error) {
	cfg, err := tlstrust.Config(caFile)
	if err != nil {
		return nil, fmt.Errorf("E2E_CA: %w", err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// localOnly skips a test that needs the local stack itself when the suite
// targets a platform elsewhere (E2E_URL); make test always runs it.
func localOnly(t *testing.T, why string) {
	t.Helper()
	if external {
		t.Skipf("E2E_URL=%s is not the local stack, and this test %s", gateway, why)
	}
}

// shortWindow skips a test that waits for orders to expire when the
// platform's window is too long to wait for.
func shortWindow(t *testing.T) {
	t.Helper()
	if window > time.Minute {
		t.Skipf("the platform's expiration window is %v: run it with EXPIRATION_WINDOW=10s on orders and E2E_EXPIRATION_WINDOW=10s to include this test", window)
	}
}

func startStack() (func(), error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	// EVENT_BUS from the environment picks the transport (make test runs
	// the suite on both). Every test user signs up from this one address.
	// LOG_LEVEL=info: the request and event lines a purchase is followed by
	// (trace_test.go), as production logs them.
	st, err := stackrun.Start(stackrun.Options{Root: root, Offset: portOffset, Prefix: "e2e-",
		Env: []string{"EXPIRATION_WINDOW=" + window.String(), "LOG_LEVEL=info", "SIGNUP_BURST=10000"}})
	if err != nil {
		return nil, err
	}
	stackLog = st.Log
	return st.Stop, nil
}

// user is a browser-like client keeping its session cookie. (net/http's
// cookie jar cannot: "express:sess" is not a valid cookie name by RFC 6265's
// token rules, which browsers do not enforce.)
type user struct {
	t      *testing.T
	http   *http.Client
	cookie string
	id     string
	email  string
	// requestID, when set, is sent as X-Request-Id with every request.
	requestID string
}

func signup(t *testing.T) *user {
	t.Helper()
	u := &user{t: t, http: &http.Client{Timeout: 30 * time.Second, Transport: transport}, email: fmt.Sprintf("e2e%d@test.io", time.Now().UnixNano())}
	status, body := u.do("POST", "/api/users/signup", map[string]string{"email": u.email, "password": "Passw0rd!"})
	if status != 201 {
		t.Fatalf("signup: %d %v", status, body)
	}
	u.id = body["id"].(string)
	return u
}

func (u *user) do(method, path string, body any) (int, map[string]any) {
	u.t.Helper()
	status, raw := u.raw(method, path, body)
	var m map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &m); err != nil {
			u.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return status, m
}

func (u *user) raw(method, path string, body any) (int, []byte) {
	u.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, gateway+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.cookie != "" {
		req.Header.Set("Cookie", u.cookie)
	}
	if u.requestID != "" {
		req.Header.Set("X-Request-Id", u.requestID)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		u.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	for _, line := range resp.Header.Values("Set-Cookie") {
		if nv, _, _ := strings.Cut(line, ";"); strings.HasPrefix(nv, "express:sess=") {
			u.cookie = nv
		}
	}
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// until polls cond with a deadline.
func until(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listed(u *user, ticketID string) bool {
	_, raw := u.raw("GET", "/api/tickets?limit=500", nil)
	return strings.Contains(string(raw), `"id":"`+ticketID+`"`)
}
