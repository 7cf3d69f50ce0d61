package gateway

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// serve runs the gateway's server with short timeouts in front of one
// backend that reads the whole body and answers 200.
func serve(t *testing.T) string {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	routes, err := Routes([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	h, err := Handler(routes, map[string]string{"auth-srv": backend.URL, "client-srv": backend.URL, "tickets-srv": backend.URL})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const d = 300 * time.Millisecond
	srv := Server(h, Timeouts{ReadHeader: d, Read: d, Write: 5 * time.Second, Idle: d})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// closedWithin reads from conn until the server closes it, failing the
// test if that takes longer than limit (the read deadline is the poll's
// deadline, not a sleep).
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection still open after %v", limit)
	}
}

// Issue 13, item 7: an idle keep-alive connection is closed, as
// ingress-nginx's keepalive_timeout does.
func TestIdleKeepAliveConnectionsAreClosed(t *testing.T) {
	addr := serve(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /api/users/currentuser HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	closedWithin(t, conn, 5*time.Second)
}

// Issue 13, item 7: a client that stops sending its body (or its headers)
// is cut off, as client_body_timeout / client_header_timeout do.
func TestStalledRequestsAreCutOff(t *testing.T) {
	addr := serve(t)
	for name, partial := range map[string]string{
		"body":    "POST /api/users/signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
		"headers": "POST /api/users/signin HTTP/1.1\r\nHost: x\r\nContent-Ty",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, partial); err != nil {
				t.Fatal(err)
			}
			closedWithin(t, conn, 5*time.Second)
		})
	}
}

// The defaults are ingress-nginx's: client_header_timeout and
// client_body_timeout 60 s, keepalive_timeout 75 s, proxy_read_timeout 60 s.
func TestDefaultTimeoutsAreIngressNginx(t *testing.T) {
	srv := Server(http.NotFoundHandler(), NginxTimeouts)
	if srv.ReadHeaderTimeout != 60*time.Second || srv.ReadTimeout != 60*time.Second || srv.IdleTimeout != 75*time.Second || srv.WriteTimeout < 60*time.Second {
		t.Fatalf("timeouts %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}
