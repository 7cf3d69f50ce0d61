// Package httpx is the gin plumbing every service shares: request ids,
// logging, recovery, metrics, the body limit, the session, and the single
// place where errors become the envelope of docs/contract.md, "HTTP".
package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/health"
	"github.com/ticketing-go/ticketing/common/logging"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/session"
)

// MaxBody is the largest request body accepted (docs/contract.md, "HTTP": over it, 413).
const MaxBody = 1 << 20

const (
	userKey      = "httpx.user"
	requestIDKey = "httpx.requestID"
)

// Options configures New.
type Options struct {
	Logger  *slog.Logger
	Health  *health.Checker
	Metrics *metrics.Metrics
	// Signer, when set, reads the session cookie of every request.
	Signer *session.Signer
	// Unavailable tells whether an error means a dependency is down (503).
	Unavailable func(error) bool
	// TrustedProxies are the addresses or CIDR ranges (TRUSTED_PROXIES)
	// whose X-Forwarded-For / X-Real-IP name the client; none by default,
	// so a client cannot pick its own address (and escape a per-address
	// limit) by sending the header itself.
	TrustedProxies []string
}

// CheckProxies returns an error if a TRUSTED_PROXIES entry is neither an
// address nor a CIDR range.
func CheckProxies(proxies []string) error {
	return gin.New().SetTrustedProxies(proxies)
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns an engine with the shared middleware and the health and
// metrics routes; the service adds its own routes to it.
func New(o Options) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = false // the original answers 404 to unknown methods
	e.ContextWithFallback = true     // handlers pass c as a context.Context
	// gin trusts every peer's X-Forwarded-For until told otherwise; an
	// invalid list (CheckProxies refuses it at start-up) trusts none.
	if e.SetTrustedProxies(o.TrustedProxies) != nil {
		_ = e.SetTrustedProxies(nil)
	}
	e.Use(nosniff, requestID, accessLog(o.Logger, o.Metrics), recovery(o.Logger), errorHandler(o.Logger, o.Unavailable), jsonBodies, bodyLimit)
	if o.Signer != nil {
		e.Use(currentUser(o.Signer))
	}
	e.NoRoute(func(c *gin.Context) { _ = c.Error(apperr.NotFound()) })
	if o.Health != nil {
		e.GET("/healthz", gin.WrapF(o.Health.Live))
		e.GET("/readyz", gin.WrapF(o.Health.Readiness))
	}
	if o.Metrics != nil {
		e.GET("/metrics", gin.WrapH(o.Metrics.Handler()))
	}
	return e
}

// H adapts a handler that returns an error; the error handler renders it.
func H(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			_ = c.Error(err)
			c.Abort()
		}
	}
}

// RequireAuth answers 401 unless the request carries a valid session.
func RequireAuth(c *gin.Context) {
	if _, ok := CurrentUser(c); !ok {
		_ = c.Error(apperr.NotAuthorized())
		c.Abort()
	}
}

// CurrentUser returns the signed-in user, if any.
func CurrentUser(c *gin.Context) (session.User, bool) {
	u, ok := c.Get(userKey)
	if !ok {
		return session.User{}, false
	}
	return u.(session.User), true
}

// Query returns the value of the query parameter name (the first, as
// c.Query does) and whether it decoded. c.Query silently drops a pair that
// is not valid percent-encoding (?cursor=%%%), so a client's mistake would
// pass for "not sent"; here it is ok=false for the handler to refuse.
func Query(c *gin.Context, name string) (value string, ok bool) {
	for pair := range strings.SplitSeq(c.Request.URL.RawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != name {
			continue
		}
		value, err := url.QueryUnescape(v)
		return value, err == nil
	}
	return "", true
}

// RequestID returns the request's id (as sent back in X-Request-Id).
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// requestID keeps the client's X-Request-Id (if logging.ValidRequestID) or
// makes one, sends it back, and puts it in the request's context: handlers
// pass c as their context, so the log lines they write with it and the
// events their writes store (the outbox) carry it on.
func requestID(c *gin.Context) {
	id := c.GetHeader(logging.RequestIDHeader)
	if !logging.ValidRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Request = c.Request.WithContext(logging.WithRequestID(c.Request.Context(), id))
	c.Header(logging.RequestIDHeader, id)
}

func accessLog(log *slog.Logger, m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		took := time.Since(start)
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		if m != nil {
			m.Observe(c.Request.Method, route, c.Writer.Status(), took)
		}
		if log != nil && route != "/healthz" && route != "/readyz" && route != "/metrics" {
			log.LogAttrs(c, slog.LevelInfo, "request",
				slog.String("request_id", RequestID(c)), slog.String("method", c.Request.Method),
				slog.String("path", c.Request.URL.Path), slog.Int("status", c.Writer.Status()),
				slog.Duration("took", took))
		}
	}
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				render(c, log, apperr.Internal(errors.New("panic")), slog.Any("panic", p))
				c.Abort()
			}
		}()
		c.Next()
	}
}

// nosniff stops a browser from guessing the type of an answer, so an API
// answer (JSON that echoes user input) is never run as script or HTML.
func nosniff(c *gin.Context) { c.Header("X-Content-Type-Options", "nosniff") }

// jsonBodies refuses, before anything reads it, a body that is not
// application/json (docs/contract.md, "HTTP"). A plain cross-site HTML form can send
// text/plain, form-urlencoded or multipart without a CORS preflight, but
// never application/json; taking only that type is what stops a form on
// another site from signing a visitor in or up.
func jsonBodies(c *gin.Context) {
	if c.Request.ContentLength == 0 || c.Request.Body == nil || c.Request.Body == http.NoBody {
		return
	}
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err == nil && mt == "application/json" {
		return
	}
	_ = c.Error(apperr.UnsupportedMediaType("application/json"))
	c.Abort()
}

// SameOrigin refuses a request a browser made from another site: one whose
// Sec-Fetch-Site says cross-site, or (browsers without Fetch Metadata) whose
// Origin is not this host. Requests without either header (curl, server-side
// rendering, other services) pass: they carry no visitor's browser to abuse.
// Sign-up and sign-in use it against login CSRF, beside jsonBodies.
func SameOrigin(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" {
		if site == "cross-site" {
			crossSite(c)
		}
		return
	}
	origin := c.GetHeader("Origin")
	if origin == "" {
		return
	}
	if u, err := url.Parse(origin); err != nil || u.Host == "" || u.Host != c.Request.Host {
		crossSite(c)
	}
}

func crossSite(c *gin.Context) {
	_ = c.Error(apperr.Forbidden("Cross-site request refused"))
	c.Abort()
}

func bodyLimit(c *gin.Context) {
	if c.Request.ContentLength > MaxBody {
		_ = c.Error(apperr.TooLarge())
		c.Abort()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
}

func errorHandler(log *slog.Logger, unavailable func(error) bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		err := c.Errors.Last().Err
		var e *apperr.Error
		if !errors.As(err, &e) && unavailable != nil && unavailable(err) {
			e = apperr.Unavailable(err)
		}
		if e == nil {
			e = apperr.From(err)
		}
		render(c, log, e)
	}
}

func render(c *gin.Context, log *slog.Logger, e *apperr.Error, attrs ...slog.Attr) {
	if e.Status >= 500 && log != nil {
		attrs = append(attrs, slog.String("request_id", RequestID(c)), slog.Int("status", e.Status),
			slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path), slog.Any("cause", e.Cause))
		log.LogAttrs(c, slog.LevelError, "request failed", attrs...)
	}
	for k, vs := range e.Header() {
		for _, v := range vs {
			c.Writer.Header().Add(k, v)
		}
	}
	c.JSON(e.Status, e.Envelope())
}

func currentUser(s *session.Signer) gin.HandlerFunc {
	return func(c *gin.Context) {
		// Any problem with the cookie means "signed out", never an error.
		if u, err := s.UserFromRequest(c.Request); err == nil {
			c.Set(userKey, u)
		}
	}
}
