package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzGatewayRequest sends arbitrary methods, paths, forwarded headers and
// bodies through the gateway's handler: it must never panic, must route by
// Match (the Ingress's rules) alone, must answer every request (404 or the
// backend's answer), and must always pass the real client address on as
// the last X-Forwarded-For entry, whatever the client sent in it.
func FuzzGatewayRequest(f *testing.F) {
	routes, err := Routes([]byte(manifest))
	if err != nil {
		f.Fatal(err)
	}
	backends := map[string]string{}
	for _, name := range []string{"auth-srv", "client-srv", "tickets-srv"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			xff := r.Header.Values("X-Forwarded-For")
			_, _ = io.WriteString(w, name+"|"+strings.Join(xff, ","))
		}))
		f.Cleanup(srv.Close)
		backends[name] = srv.URL
	}
	h, err := Handler(routes, backends)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("GET", "/api/users/currentuser", "", "")
	f.Add("POST", "/api/tickets/../users/signin", "203.0.113.7", `{"a":1}`)
	f.Add("PUT", "/api/usersx", "1.2.3.4, 5.6.7.8", "x")
	f.Add("DELETE", "//api//tickets", "", "")
	f.Add("GET", "/%2e%2e/api/users", "", "")
	f.Fuzz(func(t *testing.T, method, path, xff, body string) {
		req, err := http.NewRequest(method, "http://gw.test"+path, strings.NewReader(body))
		if err != nil || !strings.HasPrefix(req.URL.Path, "/") || !printable(xff) ||
			!printable(req.URL.RequestURI()) || strings.Contains(req.URL.RequestURI(), " ") {
			return // not a request a client can send
		}
		req.RemoteAddr = "192.0.2.1:4321"
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		r, ok := Match(routes, req.URL.Path)
		if !ok {
			if rec.Code != http.StatusNotFound {
				t.Fatalf("unrouted %q: %d", req.URL.Path, rec.Code)
			}
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %q: %d %s", method, path, rec.Code, rec.Body)
		}
		service, seen, _ := strings.Cut(rec.Body.String(), "|")
		if service != r.Service {
			t.Fatalf("%q went to %s, Match says %s", req.URL.Path, service, r.Service)
		}
		if !strings.HasSuffix(seen, "192.0.2.1") {
			t.Fatalf("the client's address is not the last X-Forwarded-For entry: %q", seen)
		}
	})
}

func printable(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
