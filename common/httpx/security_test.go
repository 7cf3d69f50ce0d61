package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// readRecorder notes whether anyone read the request body.
type readRecorder struct {
	io.Reader
	read bool
}

func (r *readRecorder) Read(p []byte) (int, error) {
	r.read = true
	return r.Reader.Read(p)
}

// Issue 13, item 2: a body is JSON only when the request says so; anything
// else (what a plain cross-site HTML form can send) is a 415 before the
// body is read.
func TestBodiesMustSayApplicationJSON(t *testing.T) {
	e, _ := testEngine(t)
	body := `{"email":"a@x.io","password":"p"}`
	for _, tc := range []struct {
		ctype  string
		status int
	}{
		{"application/json", 200},
		{"application/json; charset=utf-8", 200},
		{"Application/JSON;charset=UTF-8", 200},
		{"text/plain", 415},
		{"text/plain; charset=utf-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"", 415},
		{"application/jsonx", 415},
		{"application/json-patch+json", 415},
		{"application/json; charset", 415}, // not a media type
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			rd := &readRecorder{Reader: strings.NewReader(body)}
			req := httptest.NewRequest("POST", "/bind", rd)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 415 {
				if got := envelope(t, rec); len(got) != 1 || !strings.Contains(got[0].Message, "application/json") {
					t.Fatalf("the message must name the expected type: %+v", got)
				}
				if rd.read {
					t.Fatal("the body was read before the request was refused")
				}
			}
		})
	}
	// Without a body the type does not matter (sign-out, DELETE).
	req := httptest.NewRequest("POST", "/bind", nil)
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("no body: %d %s", rec.Code, rec.Body)
	}
	// A chunked body of another type is refused too.
	req = httptest.NewRequest("POST", "/bind", strings.NewReader(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "text/plain")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("chunked text/plain: %d %s", rec.Code, rec.Body)
	}
}

// Issue 13, item 4: X-Forwarded-For and X-Real-IP are believed only from
// configured proxies; by default from none, whatever the peer's address.
func TestForwardedForTrustedOnlyFromConfiguredProxies(t *testing.T) {
	e, _ := testEngine(t)
	e.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
	for _, peer := range []string{"127.0.0.1:1234", "10.1.2.3:1234", "192.168.0.9:1234", "[::1]:1234"} {
		for _, h := range []string{"X-Forwarded-For", "X-Real-IP"} {
			req := httptest.NewRequest("GET", "/ip", nil)
			req.RemoteAddr = peer
			req.Header.Set(h, "203.0.113.7")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if strings.Contains(rec.Body.String(), "203.0.113.7") {
				t.Errorf("peer %s: forged %s believed: client %s", peer, h, rec.Body)
			}
		}
	}
}

// Issue 13, item 5: API answers carry nosniff, so a browser never runs an
// answer as script or renders it as HTML by guessing its type.
func TestAnswersCarryNosniff(t *testing.T) {
	e, _ := testEngine(t)
	for _, path := range []string{"/healthz", "/nope", "/me", "/panic"} {
		if got := do(e, "GET", path, "").Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, got)
		}
	}
}

func TestForwardedForFromConfiguredProxies(t *testing.T) {
	e := New(Options{TrustedProxies: []string{"10.244.0.0/16"}})
	e.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
	for peer, want := range map[string]string{"10.244.3.4:1": "203.0.113.7", "10.245.0.1:1": "10.245.0.1", "127.0.0.1:1": "127.0.0.1"} {
		req := httptest.NewRequest("GET", "/ip", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Body.String() != want {
			t.Errorf("peer %s: client %s, want %s", peer, rec.Body, want)
		}
	}
	if CheckProxies([]string{"10.0.0.0/8", "::1"}) != nil || CheckProxies([]string{"ingress"}) == nil {
		t.Fatal("CheckProxies must take addresses and ranges and refuse anything else")
	}
	// An invalid list that slipped through trusts nobody, not everybody.
	e = New(Options{TrustedProxies: []string{"nonsense"}})
	e.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
	req := httptest.NewRequest("GET", "/ip", nil)
	req.RemoteAddr = "10.0.0.1:1"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Body.String() != "10.0.0.1" {
		t.Fatalf("invalid list: client %s", rec.Body)
	}
}

// Issue 13, item 2: sign-up and sign-in refuse what a browser says came
// from another site.
func TestSameOrigin(t *testing.T) {
	e := New(Options{})
	e.POST("/signin", SameOrigin, func(c *gin.Context) { c.Status(200) })
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"no browser headers (curl, a service)", nil, 200},
		{"same origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://shop.test"}, 200},
		{"same site", []string{"Sec-Fetch-Site", "same-site"}, 200},
		{"typed by the user", []string{"Sec-Fetch-Site", "none"}, 200},
		{"cross site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://shop.test"}, 403},
		{"origin of this host", []string{"Origin", "http://shop.test"}, 200},
		{"origin of another host", []string{"Origin", "https://evil.test"}, 403},
		{"origin on another port", []string{"Origin", "http://shop.test:8081"}, 403},
		{"opaque origin", []string{"Origin", "null"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://shop.test/signin", nil)
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.Header.Set(tc.hdr[i], tc.hdr[i+1])
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if rec.Code == 403 {
				envelope(t, rec)
			}
		})
	}
}

func TestQueryRefusesUndecodableValues(t *testing.T) {
	for raw, want := range map[string]struct {
		value string
		ok    bool
	}{
		"":                     {"", true},
		"cursor=abc":           {"abc", true},
		"limit=2&cursor=a%2Bb": {"a+b", true},
		"cursor=a+b":           {"a b", true},
		"cursor=%%%":           {"", false},
		"limit=1&cursor=%zz":   {"", false},
		"cursor=ok&cursor=%%%": {"ok", true}, // the first, as c.Query
		"%%%=1&cursor=x":       {"x", true},  // another undecodable key is not ours
		"cursorx=%%%":          {"", true},
		"c%75rsor=y":           {"y", true},
	} {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/?"+raw, nil)
		if v, ok := Query(c, "cursor"); v != want.value || ok != want.ok {
			t.Errorf("?%s: %q %v, want %q %v", raw, v, ok, want.value, want.ok)
		}
	}
}
