// Package e2e drives the whole platform as a user meets it: the real service
// binaries started by the dev stack (as `make run` does), through the
// gateway, over HTTP only.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gateway is the stack's address. The offset keeps it clear of `make run`
// (+0), the bench (+2000) and the browser tests (+3000), and every port below
// 32768, out of the range the kernel hands to outgoing connections.
const (
	portOffset = 1000
	gateway    = "http://127.0.0.1:9080"
	window     = 3 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		stop, err := startStack()
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer stop()
		return m.Run()
	}())
}

func startStack() (func(), error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "e2e-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "bin")
	// The binaries make run runs, built the same way.
	build := exec.Command("make", "--no-print-directory", "build", "devstack", "BIN="+bin)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make build devstack: %v\n%s", err, out)
	}
	logs, err := os.Create(filepath.Join(tmp, "devstack.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "devstack"), "-data", filepath.Join(tmp, "data"), "-bin", bin,
		"-port-offset", fmt.Sprint(portOffset), "-ingress", filepath.Join(root, "infra/k8s/base/ingress.yaml"),
		"-client", filepath.Join(tmp, "no-client"))
	// EVENT_BUS from the environment picks the transport (make test runs
	// the suite on both).
	// Every test user signs up from this one address.
	cmd.Env = append(os.Environ(), "EXPIRATION_WINDOW="+window.String(), "LOG_LEVEL=warn", "SIGNUP_BURST=10000")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = logs.Close()
		_ = os.RemoveAll(tmp)
	}
	deadline := time.Now().Add(5 * time.Minute) // a cold stripe-mock build
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logs.Name())
			return nil, fmt.Errorf("devstack exited: %v\n%s", err, out)
		default:
		}
		if resp, err := http.Get(gateway + "/api/users/currentuser"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("the stack did not come up")
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
}

func signup(t *testing.T) *user {
	t.Helper()
	u := &user{t: t, http: &http.Client{Timeout: 30 * time.Second}, email: fmt.Sprintf("e2e%d@test.io", time.Now().UnixNano())}
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
