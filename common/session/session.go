// Package session issues and verifies the platform's session: a JWT (HS256)
// carried in the cookie "express:sess" whose value is standard base64 of
// {"jwt":"<token>"} — the format of the Node app's cookie-session, so its
// clients keep working (docs/contract.md, "Session").
package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// CookieName is the cookie-session name of the original app. The ':' is not
// a valid token character, so net/http refuses to read or write it; this
// package formats and parses the header itself.
const CookieName = "express:sess"

// User is the signed-in user as the token carries it.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
}

type claims struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// Signer issues and verifies tokens with one secret. It holds no global state.
type Signer struct {
	key      []byte
	ttl      time.Duration
	now      func() time.Time
	verified *verifiedCookies
}

// NewSigner returns a Signer for the secret key; tokens live for ttl.
func NewSigner(key string, ttl time.Duration) (*Signer, error) {
	if key == "" {
		return nil, errors.New("session: empty JWT key")
	}
	if ttl <= 0 {
		return nil, errors.New("session: token lifetime must be positive")
	}
	return &Signer{key: []byte(key), ttl: ttl, now: time.Now, verified: &verifiedCookies{users: map[cookieKey]User{}}}, nil
}

// WithClock returns a copy of s that reads time from now (tests).
func (s *Signer) WithClock(now func() time.Time) *Signer {
	c := *s
	c.now = now
	return &c
}

// Issue returns a signed token for the user.
func (s *Signer) Issue(id, email string) (string, error) {
	now := s.now()
	c := claims{ID: id, Email: email, RegisteredClaims: jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
	}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.key)
}

// Verify checks the token's signature (HS256 only) and expiry.
func (s *Signer) Verify(token string) (User, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return User{}, err
	}
	if c.ID == "" || c.Email == "" || c.IssuedAt == nil {
		return User{}, errors.New("session: token lacks id, email or iat")
	}
	return User{ID: c.ID, Email: c.Email, IssuedAt: c.IssuedAt.Unix(), ExpiresAt: c.ExpiresAt.Unix()}, nil
}

type payload struct {
	JWT string `json:"jwt"`
}

// EncodeCookie returns the cookie value for a token.
func EncodeCookie(token string) string {
	b, _ := json.Marshal(payload{JWT: token}) // a struct of one string cannot fail
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeCookie returns the token inside a cookie value.
func DecodeCookie(value string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		// cookie-session's own writer pads, but tolerate clients that strip it.
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(value, "="))
		if err != nil {
			return "", fmt.Errorf("session: cookie is not base64: %w", err)
		}
	}
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("session: cookie is not a session object: %w", err)
	}
	if p.JWT == "" {
		return "", errors.New("session: cookie holds no token")
	}
	return p.JWT, nil
}

// UserFromRequest returns the user of the request's session cookie, or an
// error if it has none or it does not verify. A browser sends the same
// cookie with every request, so a cookie value that verified is remembered
// (by its SHA-256) until its token expires: the repeat costs a hash and a map
// lookup instead of two base64 and three JSON decodes and an HMAC.
func (s *Signer) UserFromRequest(r *http.Request) (User, error) {
	value, ok := cookieValue(r.Header.Values("Cookie"), CookieName)
	if !ok {
		return User{}, http.ErrNoCookie
	}
	// A digest, never the value itself: the value is a slice of the whole
	// Cookie header, so keeping it would keep any junk cookie sent beside
	// it (256 KB each) alive for as long as the entry lives.
	key := cookieKey(sha256.Sum256([]byte(value)))
	now := s.now().Unix()
	// The token's exp check (now before exp) at the seconds it is kept in.
	if u, ok := s.verified.get(key); ok && now < u.ExpiresAt {
		return u, nil
	}
	token, err := DecodeCookie(value)
	if err != nil {
		return User{}, err
	}
	u, err := s.Verify(token)
	if err != nil {
		return User{}, err
	}
	s.verified.put(key, u, now)
	return u, nil
}

type cookieKey [sha256.Size]byte

// verifiedCookies is a bounded map of cookie digests that verified. Only
// successes are kept, so garbage cookies cannot fill it. Every entry has a
// fixed size: a 32-byte key and the token's id and e-mail (which auth keeps
// to 254 bytes), copied out of the JSON, so the map holds at most
// maxVerified × ~400 bytes whatever the requests carried.
type verifiedCookies struct {
	mu        sync.Mutex
	users     map[cookieKey]User
	lastSweep int64 // the second of the last sweep for expired entries
}

// maxVerified bounds the memory: 1024 sessions of ~400 bytes.
const maxVerified = 1024

func (v *verifiedCookies) get(k cookieKey) (User, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	u, ok := v.users[k]
	return u, ok
}

// put remembers u. When full, it first drops every expired entry, and only
// if none had expired evicts one at random (map order), so expired sessions
// never crowd out live ones. The sweep runs at most once a second, so a full
// map of live sessions costs no scan per request.
func (v *verifiedCookies) put(k cookieKey, u User, now int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.users) >= maxVerified && now != v.lastSweep {
		v.lastSweep = now
		for key, old := range v.users {
			if now >= old.ExpiresAt {
				delete(v.users, key)
			}
		}
	}
	if len(v.users) >= maxVerified {
		for key := range v.users {
			delete(v.users, key)
			break
		}
	}
	v.users[k] = u
}

// FromRequest returns the token of the request's session cookie.
func FromRequest(r *http.Request) (string, error) {
	value, ok := cookieValue(r.Header.Values("Cookie"), CookieName)
	if !ok {
		return "", http.ErrNoCookie
	}
	return DecodeCookie(value)
}

// cookieValue finds name in Cookie headers ("a=1; b=2"), unquoting a value.
func cookieValue(headers []string, name string) (string, bool) {
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// SetCookie adds the session cookie for token to the response headers.
func SetCookie(h http.Header, token string, secure bool) {
	h.Add("Set-Cookie", cookieLine(EncodeCookie(token), secure, false))
}

// ClearCookie adds a Set-Cookie that empties and expires the session.
func ClearCookie(h http.Header, secure bool) {
	h.Add("Set-Cookie", cookieLine("", secure, true))
}

func cookieLine(value string, secure, expire bool) string {
	var b strings.Builder
	b.WriteString(CookieName + "=" + value + "; Path=/")
	if expire {
		b.WriteString("; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0")
	}
	b.WriteString("; HttpOnly; SameSite=Lax")
	if secure {
		b.WriteString("; Secure")
	}
	return b.String()
}
