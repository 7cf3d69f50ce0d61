package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ticketing-go/ticketing/common/session"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

const testKey = "auth-test-key"

// boot starts the real auth service on its own fresh database.
func boot(t *testing.T, extra ...string) svctest.Client {
	t.Helper()
	env := map[string]string{"JWT_KEY": testKey, "MONGO_URI": mongokit.DatabaseURI(t), "BCRYPT_COST": "4"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return svctest.Client{Base: svctest.Boot(t, run, env).URL}
}

func uniqueEmail(t *testing.T) string {
	return fmt.Sprintf("u%d@test.io", time.Now().UnixNano())
}

const goodPassword = "Passw0rd!"

func signup(t *testing.T, c svctest.Client, email string) svctest.Response {
	t.Helper()
	return c.Do(t, "POST", "/api/users/signup", map[string]string{"email": email, "password": goodPassword})
}

func TestSignupReturnsUserAndSetsSession(t *testing.T) {
	c := boot(t)
	r := signup(t, c, "  New.User@Example.COM ")
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	body := r.Map(t)
	if len(body) != 2 || body["email"] != "new.user@example.com" || len(body["id"].(string)) != 24 {
		t.Fatalf("user must be exactly {id, email}, got %s", r.Body)
	}
	cookie := svctest.CookieFrom(r)
	if cookie == "" {
		t.Fatalf("no session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	line := r.Header.Get("Set-Cookie")
	for _, attr := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(line, attr) {
			t.Errorf("cookie lacks %s: %s", attr, line)
		}
	}
	if strings.Contains(line, "Secure") || strings.Contains(line, "Max-Age") || strings.Contains(line, "Expires") {
		t.Errorf("local plain-HTTP cookie must be a non-Secure session cookie: %s", line)
	}
	// The value is base64 of {"jwt": "<token>"} with the user's claims.
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(cookie, "express:sess="))
	if err != nil {
		t.Fatal(err)
	}
	var sess map[string]string
	if err := json.Unmarshal(raw, &sess); err != nil || len(sess) != 1 || sess["jwt"] == "" {
		t.Fatalf("cookie payload %s", raw)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(sess["jwt"], claims, func(*jwt.Token) (any, error) { return []byte(testKey), nil }); err != nil {
		t.Fatal(err)
	}
	if claims["id"] != body["id"] || claims["email"] != "new.user@example.com" || claims["iat"] == nil || claims["exp"] == nil {
		t.Fatalf("claims %v", claims)
	}
}

func TestSecureCookieWhenConfigured(t *testing.T) {
	c := boot(t, "COOKIE_SECURE", "true")
	r := signup(t, c, uniqueEmail(t))
	if !strings.Contains(r.Header.Get("Set-Cookie"), "; Secure") {
		t.Fatalf("cookie not Secure: %s", r.Header.Get("Set-Cookie"))
	}
}

func TestSignupValidation(t *testing.T) {
	c := boot(t)
	for _, tc := range []struct {
		name string
		body any
		want []svctest.ErrorEntry
	}{
		{"bad email", map[string]string{"email": "nope", "password": goodPassword},
			[]svctest.ErrorEntry{{Message: "Email must be valid", Field: "email"}}},
		{"weak password, one entry per rule", map[string]string{"email": "a@b.io", "password": "abc"},
			[]svctest.ErrorEntry{
				{Message: "Password must be between 8 and 64 characters", Field: "password"},
				{Message: "Password must contain an upper-case letter", Field: "password"},
				{Message: "Password must contain a digit", Field: "password"},
				{Message: "Password must contain a special character", Field: "password"},
			}},
		{"too long", map[string]string{"email": "a@b.io", "password": "Aa1!" + strings.Repeat("x", 61)},
			[]svctest.ErrorEntry{{Message: "Password must be between 8 and 64 characters", Field: "password"}}},
		{"over 72 bytes is refused, never truncated", map[string]string{"email": "a@b.io", "password": "Aa1!" + strings.Repeat("é", 40)},
			[]svctest.ErrorEntry{{Message: "Password must be at most 72 bytes long", Field: "password"}}},
		{"operator injection", `{"email":{"$ne":null},"password":"Passw0rd!"}`,
			[]svctest.ErrorEntry{{Message: "Email must be valid", Field: "email"}}},
		{"number as password", `{"email":"a@b.io","password":12345678}`,
			[]svctest.ErrorEntry{{Message: "Password must be a string", Field: "password"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(t, "POST", "/api/users/signup", tc.body)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			got := r.Errors(t)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("errors %+v\nwant   %+v", got, tc.want)
			}
			if svctest.CookieFrom(r) != "" {
				t.Fatal("a failed signup set a session")
			}
		})
	}
}

func TestEmailInUseIgnoresCase(t *testing.T) {
	c := boot(t)
	if r := signup(t, c, "Dup@Test.io"); r.Status != 201 {
		t.Fatalf("first signup %d %s", r.Status, r.Body)
	}
	r := signup(t, c, "dup@test.IO")
	if r.Status != 400 || r.Errors(t)[0].Message != "Email in use" {
		t.Fatalf("second signup %d %s", r.Status, r.Body)
	}
}

func TestConcurrentSignupsOfOneEmail(t *testing.T) {
	c := boot(t, "SIGNUP_BURST", "100") // all from one address

	email := uniqueEmail(t)
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := signup(t, c, email)
			statuses[i] = r.Status
		})
	}
	wg.Wait()
	created, inUse := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 400:
			inUse++
		}
	}
	if created != 1 || inUse != n-1 {
		t.Fatalf("statuses %v: want exactly one 201 and %d × 400", statuses, n-1)
	}
}

func TestSignin(t *testing.T) {
	c := boot(t)
	email := uniqueEmail(t)
	signup(t, c, email)

	r := c.Do(t, "POST", "/api/users/signin", map[string]string{"email": strings.ToUpper(email), "password": goodPassword})
	if r.Status != 200 || r.Map(t)["email"] != email || svctest.CookieFrom(r) == "" {
		t.Fatalf("signin %d %s", r.Status, r.Body)
	}
	for name, body := range map[string]map[string]string{
		"wrong password": {"email": email, "password": "Wrong0rd!"},
		"unknown email":  {"email": "nobody@test.io", "password": goodPassword},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.Do(t, "POST", "/api/users/signin", body)
			if r.Status != 400 || r.Errors(t)[0].Message != "Invalid credentials" || svctest.CookieFrom(r) != "" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	r = c.Do(t, "POST", "/api/users/signin", map[string]string{"email": "x"})
	want := []svctest.ErrorEntry{{Message: "Email must be valid", Field: "email"}, {Message: "You must supply a password", Field: "password"}}
	if r.Status != 400 || fmt.Sprint(r.Errors(t)) != fmt.Sprint(want) {
		t.Fatalf("validation %d %s", r.Status, r.Body)
	}
}

func TestSigninRateLimited(t *testing.T) {
	c := boot(t, "SIGNIN_BURST", "3", "SIGNIN_REFILL", "1h")
	email := uniqueEmail(t)
	signup(t, c, email)
	bad := map[string]string{"email": email, "password": "Wrong0rd!"}
	for i := range 3 {
		if r := c.Do(t, "POST", "/api/users/signin", bad); r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := c.Do(t, "POST", "/api/users/signin", map[string]string{"email": email, "password": goodPassword})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 failures: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	r.Errors(t)
	// Another account is not locked by someone else's failures.
	other := uniqueEmail(t)
	signup(t, c, other)
	if r := c.Do(t, "POST", "/api/users/signin", map[string]string{"email": other, "password": goodPassword}); r.Status != 200 {
		t.Fatalf("other account: %d %s", r.Status, r.Body)
	}
}

func TestCurrentUserAndSignout(t *testing.T) {
	c := boot(t)
	email := uniqueEmail(t)
	r := signup(t, c, email)
	id := r.Map(t)["id"]
	c.Cookie = svctest.CookieFrom(r)

	r = c.Do(t, "GET", "/api/users/currentuser", nil)
	cu, _ := r.Map(t)["currentUser"].(map[string]any)
	if r.Status != 200 || cu["id"] != id || cu["email"] != email || cu["iat"] == nil {
		t.Fatalf("currentuser %d %s", r.Status, r.Body)
	}

	r = c.Do(t, "POST", "/api/users/signout", nil)
	if r.Status != 200 || string(r.Body) != "{}" {
		t.Fatalf("signout %d %s", r.Status, r.Body)
	}
	line := r.Header.Get("Set-Cookie")
	if !strings.HasPrefix(line, "express:sess=;") || !strings.Contains(line, "Expires=Thu, 01 Jan 1970") {
		t.Fatalf("signout must empty and expire the cookie: %q", line)
	}
}

func TestCurrentUserNullForBadSessions(t *testing.T) {
	c := boot(t)
	hdr := func(tok string) string { return "express:sess=" + session.EncodeCookie(tok) }
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"id": "x", "email": "a@b.io", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"id": "x", "email": "a@b.io", "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()}).SignedString([]byte(testKey))
	for name, cookie := range map[string]string{
		"none":     "",
		"garbage":  "express:sess=%%%garbage",
		"not json": "express:sess=" + base64.StdEncoding.EncodeToString([]byte("hi")),
		"forged":   svctest.SessionCookie(t, "someone-elses-key", "x", "a@b.io"),
		"alg none": hdr(none),
		"expired":  hdr(expired),
	} {
		t.Run(name, func(t *testing.T) {
			c.Cookie = cookie
			r := c.Do(t, "GET", "/api/users/currentuser", nil)
			if r.Status != 200 || string(r.Body) != `{"currentUser":null}` {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	c.Cookie = svctest.SessionCookie(t, testKey, "64b7f0c2a1b2c3d4e5f60718", "a@b.io")
	if r := c.Do(t, "GET", "/api/users/currentuser", nil); !strings.Contains(string(r.Body), `"email":"a@b.io"`) {
		t.Fatalf("valid cookie from another service: %s", r.Body)
	}
}

func TestBadInputNeverFails(t *testing.T) {
	c := boot(t)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"malformed json", "POST", "/api/users/signup", `{"email":`, 400},
		{"array", "POST", "/api/users/signup", `[]`, 400},
		{"null", "POST", "/api/users/signin", `null`, 400},
		{"string", "POST", "/api/users/signin", `"x"`, 400},
		{"huge body", "POST", "/api/users/signup", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"unknown route", "GET", "/api/users/nope", nil, 404},
		{"unknown method", "DELETE", "/api/users/signup", nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Do(t, tc.method, tc.path, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			r.Errors(t)
			if r.Header.Get("X-Request-Id") == "" {
				t.Fatal("no X-Request-Id")
			}
		})
	}
}

func TestRefusesToStartWithoutRequiredConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MONGO_URI": "mongodb://127.0.0.1:1/x"}, "JWT_KEY"},
		{map[string]string{"JWT_KEY": "k"}, "MONGO_URI"},
		{map[string]string{"JWT_KEY": "k", "MONGO_URI": "mongodb://127.0.0.1:1/x", "JWT_TTL": "forever"}, "JWT_TTL"},
		{map[string]string{"JWT_KEY": "k", "MONGO_URI": "mongodb://127.0.0.1:1/x", "BCRYPT_COST": "99"}, "BCRYPT_COST"},
		{map[string]string{"JWT_KEY": "k", "MONGO_URI": "mongodb://127.0.0.1:1/x", "TRUSTED_PROXIES": "10.0.0.0/8, ingress-nginx"}, "TRUSTED_PROXIES"},
	} {
		err := run(t.Context(), nil, func(k string) string { return tc.env[k] }, &svctest.SyncBuffer{}, &svctest.SyncBuffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v: err %v, want it to name %s", tc.env, err, tc.want)
		}
	}
}
