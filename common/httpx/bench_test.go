package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/httpx"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/session"
)

// BenchmarkCurrentUser is GET /api/users/currentuser with a valid session
// through the whole shared chain (request id, access log at the services'
// default level, metrics, recovery, error handler, body limit, session),
// beside the bare net/http handler the bench compares it with.
func BenchmarkCurrentUser(b *testing.B) {
	signer, err := session.NewSigner("bench-key", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	token, err := signer.Issue("6744e1b2c3d4e5f601234567", "bench@test.io")
	if err != nil {
		b.Fatal(err)
	}
	cookie := session.CookieName + "=" + session.EncodeCookie(token)
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e := httpx.New(httpx.Options{Logger: log, Metrics: metrics.New("bench"), Signer: signer})
	e.GET("/api/users/currentuser", func(c *gin.Context) {
		u, _ := httpx.CurrentUser(c)
		c.JSON(http.StatusOK, struct {
			CurrentUser session.User `json:"currentUser"`
		}{u})
	})
	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"currentUser":null}`)
	})
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{{"chain", e}, {"bare", bare}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "/api/users/currentuser", nil)
					req.Header.Set("Cookie", cookie)
					w := httptest.NewRecorder()
					tc.h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		})
	}
}
