// Package httpx is the gin plumbing every service shares: request ids,
// logging, recovery, metrics, the body limit, the session, and the single
// place where errors become the envelope of CONTRACT §1.
package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/health"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/session"
)

// MaxBody is the largest request body accepted (CONTRACT §1: over it, 413).
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
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns an engine with the shared middleware and the health and
// metrics routes; the service adds its own routes to it.
func New(o Options) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = false // the original answers 404 to unknown methods
	e.ContextWithFallback = true     // handlers pass c as a context.Context
	// Only loopback and cluster-internal proxies (the gateway, ingress-nginx)
	// may set the client address through X-Forwarded-For.
	_ = e.SetTrustedProxies([]string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"})
	e.Use(requestID, accessLog(o.Logger, o.Metrics), recovery(o.Logger), errorHandler(o.Logger, o.Unavailable), bodyLimit)
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

// RequestID returns the request's id (as sent back in X-Request-Id).
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !validRequestID(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-Id", id)
}

// validRequestID keeps a client's id only if it is short and printable, so it
// cannot forge log lines or blow up headers.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
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
