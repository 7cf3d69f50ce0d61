// Package svctest boots a real service in-process, the way its main does,
// and talks to it over HTTP — the black-box harness of every service's tests.
package svctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/session"
	"github.com/ticketing-go/ticketing/kit/ports"
)

// RunFunc is a service's run function (the Mat Ryer shape).
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Service is a running service.
type Service struct {
	URL    string
	Port   int
	Logs   *SyncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Boot starts run with env (PORT is chosen here) and waits until /readyz
// answers 200. The service is stopped at the end of the test.
func Boot(t testing.TB, run RunFunc, env map[string]string) *Service {
	t.Helper()
	s, err := Start(run, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("service stopped with error: %v\nlogs:\n%s", err, s.Logs)
		}
	})
	return s
}

// Start is Boot without a test, for benchmarks and the dev stack.
func Start(run RunFunc, env map[string]string) (*Service, error) {
	// Another test process may bind the port between its check and the
	// service's listen: then the service exits at once, and another port is
	// tried.
	for range 3 {
		s, err := start(run, env)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			return s, err
		}
	}
	return start(run, env)
}

func start(run RunFunc, env map[string]string) (*Service, error) {
	port := FreePort()
	vars := map[string]string{"PORT": strconv.Itoa(port), "SHUTDOWN_DRAIN": "0s", "LOG_LEVEL": "warn", "COOKIE_SECURE": "false"}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{URL: "http://127.0.0.1:" + strconv.Itoa(port), Port: port, Logs: &SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, nil, func(k string) string { return vars[k] }, s.Logs, s.Logs) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			cancel()
			return nil, fmt.Errorf("service exited during start-up: %v\nlogs:\n%s", err, s.Logs)
		default:
		}
		if resp, err := http.Get(s.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	return nil, fmt.Errorf("service not ready after 30s\nlogs:\n%s", s.Logs)
}

// Stop cancels the service's context and waits for run to return.
func (s *Service) Stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			s.err = fmt.Errorf("service did not stop within 30s")
		}
	})
	return s.err
}

// FreePort returns a loopback TCP port that was free a moment ago, outside
// the range client sockets take theirs from (kit/ports).
func FreePort() int { return ports.MustFree() }

// Response is a decoded HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
}

// Map decodes the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Errors decodes the error envelope, failing if the body is not one.
func (r Response) Errors(t testing.TB) []ErrorEntry {
	t.Helper()
	var env struct {
		Errors []ErrorEntry `json:"errors"`
	}
	r.JSON(t, &env)
	if len(env.Errors) == 0 {
		t.Fatalf("status %d: not an error envelope: %s", r.Status, r.Body)
	}
	return env.Errors
}

// ErrorEntry is one entry of the error envelope.
type ErrorEntry struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Client sends requests to one service, optionally with a session cookie.
type Client struct {
	Base   string
	Cookie string // the whole Cookie header value, e.g. "express:sess=..."
	HTTP   *http.Client
}

// Do sends body (a string, []byte, nil, or a value to marshal) and returns
// the answer. It fails the test only on transport errors.
func (c Client) Do(t testing.TB, method, path string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Cookie != "" {
		req.Header.Set("Cookie", c.Cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// SessionCookie returns a Cookie header value carrying a session for the user,
// signed with key — what a signed-in browser sends.
func SessionCookie(t testing.TB, key, userID, email string) string {
	t.Helper()
	s, err := session.NewSigner(key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Issue(userID, email)
	if err != nil {
		t.Fatal(err)
	}
	return session.CookieName + "=" + session.EncodeCookie(tok)
}

// CookieFrom returns the Cookie header value for the session a response set,
// or "" if it set none.
func CookieFrom(r Response) string {
	for _, line := range r.Header.Values("Set-Cookie") {
		nv, _, _ := strings.Cut(line, ";")
		if strings.HasPrefix(nv, session.CookieName+"=") {
			return nv
		}
	}
	return ""
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
