package main

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/svctest"
)

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Issue 13, item 1: a signed-up user could make a service hold ~1 GB by
// sending a huge foreign cookie beside a valid session, varied each time.
// 1,000 such requests (256 KB each) through the real service must leave the
// live heap within 20 MB of idle.
func TestBigCookiesBesideSessionsDoNotPinMemory(t *testing.T) {
	c := boot(t)
	junk := "junk=" + strings.Repeat("j", 256<<10)
	c.Do(t, "GET", "/api/users/currentuser", nil) // warm up the route
	idle := liveHeap()
	for i := range 1000 {
		cookie := junk + "; " + svctest.SessionCookie(t, testKey, fmt.Sprintf("%024x", i+1), fmt.Sprint("u", i, "@x.io"))
		r := c.Do(t, "GET", "/api/users/currentuser", nil, "Cookie", cookie)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), fmt.Sprint(`"u`, i, `@x.io"`)) {
			t.Fatalf("request %d: %d %.200s", i, r.Status, r.Body)
		}
	}
	after := liveHeap()
	grown := int64(after) - int64(idle)
	t.Logf("live heap: idle %.1f MB, after 1,000 requests %.1f MB (%+.1f MB)", mb(idle), mb(after), float64(grown)/(1<<20))
	if grown > 20<<20 {
		t.Fatalf("live heap grew by %.1f MB, want under 20 MB", float64(grown)/(1<<20))
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// from returns the headers of a request the trusted local proxy forwarded
// for the client at addr.
func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

// Issue 13, item 2: a plain cross-site HTML form cannot sign a visitor in
// or up: its body types are refused before they are read, and what the
// browser says came from another site is refused too.
func TestCrossSiteFormsCannotSignInOrUp(t *testing.T) {
	c := boot(t)
	email := uniqueEmail(t)
	signup(t, c, email)
	body := `{"email":"` + email + `","password":"` + goodPassword + `"}`
	for _, path := range []string{"/api/users/signin", "/api/users/signup"} {
		for _, tc := range []struct {
			name   string
			hdr    []string
			status int
		}{
			{"text/plain form", []string{"Content-Type", "text/plain"}, 415},
			{"urlencoded form", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
			{"multipart form", []string{"Content-Type", "multipart/form-data; boundary=b"}, 415},
			{"cross-site fetch", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.test"}, 403},
			{"foreign origin", []string{"Origin", "https://evil.test"}, 403},
		} {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				r := c.Do(t, "POST", path, body, tc.hdr...)
				if r.Status != tc.status || svctest.CookieFrom(r) != "" {
					t.Fatalf("status %d, want %d, cookie %q: %s", r.Status, tc.status, svctest.CookieFrom(r), r.Body)
				}
				r.Errors(t)
			})
		}
	}
	// The client's own pages (same origin) still sign in.
	r := c.Do(t, "POST", "/api/users/signin", body, "Sec-Fetch-Site", "same-origin", "Origin", c.Base)
	if r.Status != 200 {
		t.Fatalf("same-origin sign-in: %d %s", r.Status, r.Body)
	}
}

// Issue 13, item 3: an attacker's wrong passwords for someone's e-mail
// throttle the attacker, not the owner: the owner's right password from
// their own address still works while the attacker waits.
func TestOwnerSignsInWhileAttackerIsThrottled(t *testing.T) {
	c := boot(t, "TRUSTED_PROXIES", "127.0.0.1", "SIGNIN_BURST", "3", "SIGNIN_REFILL", "1h")
	email := uniqueEmail(t)
	signup(t, c, email)
	attacker, owner := from("203.0.113.9"), from("198.51.100.7")
	wrong := map[string]string{"email": email, "password": "Wrong0rd!"}
	right := map[string]string{"email": email, "password": goodPassword}
	for i := range 3 {
		if r := c.Do(t, "POST", "/api/users/signin", wrong, attacker...); r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := c.Do(t, "POST", "/api/users/signin", wrong, attacker...)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("attacker after 3 failures: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if r := c.Do(t, "POST", "/api/users/signin", right, owner...); r.Status != 200 || svctest.CookieFrom(r) == "" {
		t.Fatalf("owner from their own address while the attacker is throttled: %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "POST", "/api/users/signin", right, attacker...); r.Status != http.StatusTooManyRequests {
		t.Fatalf("the throttled address must still wait: %d %s", r.Status, r.Body)
	}
}

// Issue 13, item 3: one address guessing across many e-mails is throttled
// by its address.
func TestAddressSprayingEmailsIsThrottled(t *testing.T) {
	c := boot(t, "TRUSTED_PROXIES", "127.0.0.1", "SIGNIN_IP_BURST", "4", "SIGNIN_REFILL", "1h")
	for i := range 4 {
		body := map[string]string{"email": fmt.Sprint("spray", i, "@test.io"), "password": "Wrong0rd!"}
		if r := c.Do(t, "POST", "/api/users/signin", body, from("203.0.113.9")...); r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	body := map[string]string{"email": "spray-next@test.io", "password": "Wrong0rd!"}
	if r := c.Do(t, "POST", "/api/users/signin", body, from("203.0.113.9")...); r.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth e-mail from one address: %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "POST", "/api/users/signin", body, from("198.51.100.7")...); r.Status != 400 {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
}

// Issue 13, item 4: with no trusted proxy configured, a forged
// X-Forwarded-For (or X-Real-IP) does not give a direct client a fresh
// address for every attempt.
func TestForgedForwardedForDoesNotEscapeTheAddressLimit(t *testing.T) {
	c := boot(t, "SIGNIN_IP_BURST", "3", "SIGNIN_REFILL", "1h")
	for i := range 3 {
		body := map[string]string{"email": fmt.Sprint("forge", i, "@test.io"), "password": "Wrong0rd!"}
		if r := c.Do(t, "POST", "/api/users/signin", body, "X-Forwarded-For", fmt.Sprint("203.0.113.", i+1)); r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	body := map[string]string{"email": "forge-next@test.io", "password": "Wrong0rd!"}
	for _, h := range []string{"X-Forwarded-For", "X-Real-IP"} {
		if r := c.Do(t, "POST", "/api/users/signin", body, h, "198.51.100.99"); r.Status != http.StatusTooManyRequests {
			t.Fatalf("forged %s escaped the per-address limit: %d %s", h, r.Status, r.Body)
		}
	}
}

// Issue 13, item 6: sign-up is throttled per address (it is also how one
// learns whether an e-mail is registered); other addresses are not.
func TestSignupThrottledPerAddress(t *testing.T) {
	c := boot(t, "TRUSTED_PROXIES", "127.0.0.1", "SIGNUP_BURST", "3", "SIGNUP_REFILL", "1h")
	for i := range 3 {
		body := map[string]string{"email": fmt.Sprint("many", i, "@test.io"), "password": goodPassword}
		if r := c.Do(t, "POST", "/api/users/signup", body, from("203.0.113.9")...); r.Status != 201 {
			t.Fatalf("sign-up %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	body := map[string]string{"email": "many0@test.io", "password": goodPassword}
	r := c.Do(t, "POST", "/api/users/signup", body, from("203.0.113.9")...)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth sign-up from one address: %d %s", r.Status, r.Body)
	}
	if r := c.Do(t, "POST", "/api/users/signup", body, from("198.51.100.7")...); r.Status != 400 || r.Errors(t)[0].Message != "Email in use" {
		t.Fatalf("another address: %d %s", r.Status, r.Body)
	}
}
