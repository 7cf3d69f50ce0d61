package session

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func newSigner(t *testing.T) *Signer {
	t.Helper()
	s, err := NewSigner("test-secret", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	s := newSigner(t)
	tok, err := s.Issue("64b7f0c2a1b2c3d4e5f60718", "a@x.io")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "64b7f0c2a1b2c3d4e5f60718" || u.Email != "a@x.io" || u.IssuedAt == 0 || u.ExpiresAt-u.IssuedAt != 3600 {
		t.Fatalf("got %+v", u)
	}
}

func TestVerifyRejects(t *testing.T) {
	s := newSigner(t)
	good, _ := s.Issue("id1", "a@x.io")
	other, _ := NewSigner("another-secret", time.Hour)
	wrongKey, _ := other.Issue("id1", "a@x.io")
	expired, _ := s.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) }).Issue("id1", "a@x.io")
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"id": "id1", "email": "a@x.io", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"id": "id1", "email": "a@x.io", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("test-secret"))
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"id": "id1", "email": "a@x.io", "iat": time.Now().Unix()}).SignedString([]byte("test-secret"))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"id":"admin","email":"a@x.io","iat":1,"exp":9999999999}`)) + "." + parts[2]

	for name, tok := range map[string]string{
		"wrong key": wrongKey, "expired": expired, "alg none": none, "HS512": hs512,
		"no exp": noExp, "tampered": tampered, "garbage": "not.a.jwt", "empty": "",
	} {
		t.Run(name, func(t *testing.T) {
			if u, err := s.Verify(tok); err == nil {
				t.Fatalf("accepted %+v", u)
			}
		})
	}
}

func TestCookieFormatIsCookieSessions(t *testing.T) {
	h := http.Header{}
	SetCookie(h, "abc.def.ghi", false)
	line := h.Get("Set-Cookie")
	want := "express:sess=" + base64.StdEncoding.EncodeToString([]byte(`{"jwt":"abc.def.ghi"}`)) + "; Path=/; HttpOnly; SameSite=Lax"
	if line != want {
		t.Fatalf("Set-Cookie = %q\nwant        %q", line, want)
	}
	h = http.Header{}
	SetCookie(h, "t", true)
	if !strings.HasSuffix(h.Get("Set-Cookie"), "; Secure") {
		t.Fatalf("secure cookie lacks Secure: %q", h.Get("Set-Cookie"))
	}
	h = http.Header{}
	ClearCookie(h, false)
	if c := h.Get("Set-Cookie"); !strings.HasPrefix(c, "express:sess=; Path=/; Expires=Thu, 01 Jan 1970") || !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("clear cookie = %q", c)
	}
}

func TestFromRequest(t *testing.T) {
	val := EncodeCookie("tok")
	for name, tc := range map[string]struct {
		header string
		want   string
		ok     bool
	}{
		"alone":        {"express:sess=" + val, "tok", true},
		"among others": {"a=1; express:sess=" + val + "; b=2", "tok", true},
		"quoted":       {`express:sess="` + val + `"`, "tok", true},
		"unpadded":     {"express:sess=" + strings.TrimRight(val, "="), "tok", true},
		"missing":      {"a=1", "", false},
		"not base64":   {"express:sess=%%%", "", false},
		"not json":     {"express:sess=" + base64.StdEncoding.EncodeToString([]byte("hello")), "", false},
		"no jwt":       {"express:sess=" + base64.StdEncoding.EncodeToString([]byte(`{}`)), "", false},
	} {
		t.Run(name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.Header.Set("Cookie", tc.header)
			got, err := FromRequest(r)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("FromRequest = %q, %v", got, err)
			}
		})
	}
}

// FuzzCookieToUser feeds arbitrary cookie headers through decoding and
// verification: it must never panic, and must only accept tokens it issued.
func FuzzCookieToUser(f *testing.F) {
	s, _ := NewSigner("fuzz-secret", time.Hour)
	tok, _ := s.Issue("id1", "a@x.io")
	f.Add("express:sess=" + EncodeCookie(tok))
	f.Add("express:sess=" + EncodeCookie("a.b.c"))
	f.Add("express:sess=eyJqd3QiOm51bGx9")
	f.Add(`express:sess="e30="; x=y`)
	f.Fuzz(func(t *testing.T, header string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		// Twice: the second answer may come from the remembered cookies.
		for range 2 {
			if u, err := s.UserFromRequest(r); err == nil && (u.ID != "id1" || u.Email != "a@x.io") {
				t.Fatalf("accepted a token it did not issue: %+v", u)
			}
		}
	})
}

func requestWith(cookie string) *http.Request {
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", CookieName+"="+cookie)
	return r
}

// A remembered cookie stops being accepted when its token expires.
func TestUserFromRequestForgetsExpiredSessions(t *testing.T) {
	now := time.Now()
	s := newSigner(t).WithClock(func() time.Time { return now })
	tok, _ := s.Issue("id1", "a@x.io")
	cookie := EncodeCookie(tok)
	for range 2 { // the second from memory
		if u, err := s.UserFromRequest(requestWith(cookie)); err != nil || u.ID != "id1" {
			t.Fatalf("fresh session: %+v, %v", u, err)
		}
	}
	now = now.Add(time.Hour)
	if u, err := s.UserFromRequest(requestWith(cookie)); err == nil {
		t.Fatalf("expired session accepted: %+v", u)
	}
}

// Many users at once, more than are remembered, with forged cookies mixed
// in: each request gets its own user or an error, never another's (-race).
func TestUserFromRequestConcurrently(t *testing.T) {
	s := newSigner(t)
	const users = maxVerified + 200
	cookies := make([]string, users)
	for i := range cookies {
		tok, err := s.Issue(fmt.Sprint("id", i), fmt.Sprint(i, "@x.io"))
		if err != nil {
			t.Fatal(err)
		}
		cookies[i] = EncodeCookie(tok)
	}
	forger, _ := NewSigner("not-the-key", time.Hour)
	forged, _ := forger.Issue("id0", "0@x.io")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < 4*users; i += 8 {
				n := i % users
				u, err := s.UserFromRequest(requestWith(cookies[n]))
				if err != nil || u.ID != fmt.Sprint("id", n) || u.Email != fmt.Sprint(n, "@x.io") {
					t.Errorf("cookie %d: %+v, %v", n, u, err)
					return
				}
				if u, err := s.UserFromRequest(requestWith(EncodeCookie(forged))); err == nil {
					t.Errorf("forged cookie accepted: %+v", u)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := len(s.verified.users); n > maxVerified {
		t.Fatalf("%d cookies remembered, at most %d", n, maxVerified)
	}
}

// When the remembered cookies are full, the expired ones go first, all of
// them, rather than live sessions picked at random.
func TestRememberedCookiesDropExpiredFirst(t *testing.T) {
	now := time.Now()
	s := newSigner(t).WithClock(func() time.Time { return now })
	short, _ := NewSigner("test-secret", time.Minute)
	short = short.WithClock(func() time.Time { return now })
	var live []string
	for i := range maxVerified {
		signer := s
		if i%2 == 0 {
			signer = short // expires in a minute
		}
		tok, err := signer.Issue(fmt.Sprint("id", i), fmt.Sprint(i, "@x.io"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserFromRequest(requestWith(EncodeCookie(tok))); err != nil {
			t.Fatal(err)
		}
		if signer == s {
			live = append(live, EncodeCookie(tok))
		}
	}
	now = now.Add(2 * time.Minute)
	tok, _ := s.Issue("new", "new@x.io")
	if _, err := s.UserFromRequest(requestWith(EncodeCookie(tok))); err != nil {
		t.Fatal(err)
	}
	if n := len(s.verified.users); n != len(live)+1 {
		t.Fatalf("%d cookies remembered, want the %d live ones and the new one", n, len(live))
	}
	for _, c := range live {
		if _, ok := s.verified.get(cookieKey(sha256.Sum256([]byte(c)))); !ok {
			t.Fatal("a live session was evicted while expired ones were kept")
		}
	}
}
