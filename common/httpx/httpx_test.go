package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketing-go/ticketing/common/apperr"
	"github.com/ticketing-go/ticketing/common/health"
	"github.com/ticketing-go/ticketing/common/logging"
	"github.com/ticketing-go/ticketing/common/metrics"
	"github.com/ticketing-go/ticketing/common/session"
)

type signup struct {
	Email    string `json:"email" validate:"required,email"`
	Password string `json:"password" validate:"required"`
	Age      int    `json:"age"`
}

func (signup) Messages() Messages {
	return Messages{"email": "Email must be valid", "password": "You must supply a password"}
}

var errDown = errors.New("db down")

func testEngine(t *testing.T) (*gin.Engine, *session.Signer) {
	t.Helper()
	signer, err := session.NewSigner("secret", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Health: health.New(), Metrics: metrics.New("test"), Signer: signer,
		Unavailable: func(err error) bool { return errors.Is(err, errDown) }})
	e.POST("/bind", H(func(c *gin.Context) error {
		var req signup
		if err := BindJSON(c, &req); err != nil {
			return err
		}
		c.JSON(http.StatusOK, req)
		return nil
	}))
	e.GET("/panic", func(*gin.Context) { panic("boom") })
	e.GET("/secret", H(func(*gin.Context) error { return errors.New("password=hunter2") }))
	e.GET("/down", H(func(*gin.Context) error { return errDown }))
	e.GET("/me", RequireAuth, func(c *gin.Context) {
		u, _ := CurrentUser(c)
		c.JSON(http.StatusOK, u)
	})
	return e, signer
}

func do(e http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func envelope(t *testing.T, rec *httptest.ResponseRecorder) []apperr.FieldError {
	t.Helper()
	var env apperr.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env.Errors) == 0 {
		t.Fatalf("not an error envelope: %d %s", rec.Code, rec.Body)
	}
	return env.Errors
}

func TestErrorsUseTheEnvelope(t *testing.T) {
	e, _ := testEngine(t)
	big := `{"email":"` + strings.Repeat("a", MaxBody) + `"}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     []apperr.FieldError
	}{
		{"missing fields", "POST", "/bind", `{}`, 400, []apperr.FieldError{{Message: "Email must be valid", Field: "email"}, {Message: "You must supply a password", Field: "password"}}},
		{"empty body", "POST", "/bind", ``, 400, []apperr.FieldError{{Message: "Email must be valid", Field: "email"}, {Message: "You must supply a password", Field: "password"}}},
		{"bad email", "POST", "/bind", `{"email":"nope","password":"x"}`, 400, []apperr.FieldError{{Message: "Email must be valid", Field: "email"}}},
		{"operator injection", "POST", "/bind", `{"email":{"$ne":null},"password":"x"}`, 400, []apperr.FieldError{{Message: "Email must be valid", Field: "email"}}},
		{"wrong type without message", "POST", "/bind", `{"email":"a@x.io","password":"x","age":"old"}`, 400, []apperr.FieldError{{Message: "Invalid value for age", Field: "age"}}},
		{"malformed json", "POST", "/bind", `{"email":`, 400, []apperr.FieldError{{Message: "Request body must be valid JSON"}}},
		{"array body", "POST", "/bind", `[1,2]`, 400, []apperr.FieldError{{Message: "Request body must be a JSON object"}}},
		{"string body", "POST", "/bind", `"hi"`, 400, []apperr.FieldError{{Message: "Request body must be a JSON object"}}},
		{"too large", "POST", "/bind", big, 413, []apperr.FieldError{{Message: "Request body too large"}}},
		{"unknown route", "GET", "/nope", ``, 404, []apperr.FieldError{{Message: "Not Found"}}},
		{"unknown method", "DELETE", "/bind", ``, 404, []apperr.FieldError{{Message: "Not Found"}}},
		{"panic", "GET", "/panic", ``, 500, []apperr.FieldError{{Message: "Something went wrong"}}},
		{"unknown error hidden", "GET", "/secret", ``, 500, []apperr.FieldError{{Message: "Something went wrong"}}},
		{"dependency down", "GET", "/down", ``, 503, []apperr.FieldError{{Message: "Service temporarily unavailable, please retry"}}},
		{"signed out", "GET", "/me", ``, 401, []apperr.FieldError{{Message: "Not authorized"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(e, tc.method, tc.path, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			got := envelope(t, rec)
			if len(got) != len(tc.want) {
				t.Fatalf("entries %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("entries %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func TestChunkedBodyOverLimitIs413(t *testing.T) {
	e, _ := testEngine(t)
	req := httptest.NewRequest("POST", "/bind", strings.NewReader(`{"email":"`+strings.Repeat("a", MaxBody)+`"}`))
	req.ContentLength = -1 // as if chunked: the limit must hold while reading
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

func TestRequestIDKeptOrMade(t *testing.T) {
	e, _ := testEngine(t)
	if id := do(e, "GET", "/healthz", "", "X-Request-Id", "abc-123").Header().Get("X-Request-Id"); id != "abc-123" {
		t.Fatalf("kept id = %q", id)
	}
	if id := do(e, "GET", "/nope", "").Header().Get("X-Request-Id"); len(id) != 24 {
		t.Fatalf("made id = %q", id)
	}
	if id := do(e, "GET", "/healthz", "", "X-Request-Id", "bad\tid").Header().Get("X-Request-Id"); id == "bad\tid" {
		t.Fatal("kept an unprintable id")
	}
}

// A handler passes c as its context: the request's id must ride it, so the
// handler's log lines and the events its writes store carry it on.
func TestRequestIDRidesTheHandlersContext(t *testing.T) {
	e, _ := testEngine(t)
	var seen []string
	e.GET("/ctx", func(c *gin.Context) {
		var ctx context.Context = c
		derived, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		seen = append(seen, logging.RequestID(ctx), logging.RequestID(derived))
	})
	rec := do(e, "GET", "/ctx", "", "X-Request-Id", "buy-1")
	if seen[0] != "buy-1" || seen[1] != "buy-1" {
		t.Fatalf("handler context carries %q (derived %q), want buy-1", seen[0], seen[1])
	}
	seen = nil
	made := do(e, "GET", "/ctx", "").Header().Get("X-Request-Id")
	if seen[0] != made || rec.Header().Get("X-Request-Id") != "buy-1" {
		t.Fatalf("made id %q, context carries %q", made, seen[0])
	}
}

func TestCurrentUserFromCookie(t *testing.T) {
	e, signer := testEngine(t)
	tok, _ := signer.Issue("id1", "a@x.io")
	rec := do(e, "GET", "/me", "", "Cookie", "express:sess="+session.EncodeCookie(tok))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"email":"a@x.io"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"express:sess=garbage", "express:sess=" + session.EncodeCookie("x.y.z")} {
		if rec := do(e, "GET", "/me", "", "Cookie", bad); rec.Code != 401 {
			t.Fatalf("cookie %q: %d", bad, rec.Code)
		}
	}
}

func TestMetricsLabelRouteTemplates(t *testing.T) {
	e, _ := testEngine(t)
	do(e, "GET", "/me", "")
	do(e, "GET", "/nope/123", "")
	body := do(e, "GET", "/metrics", "").Body.String()
	if !strings.Contains(body, `http_requests_total{method="GET",route="/me",service="test",status="401"} 1`) ||
		!strings.Contains(body, `route="unmatched"`) || strings.Contains(body, "/nope/123") {
		t.Fatalf("metrics:\n%s", body)
	}
}

// FuzzBindJSON: no body, however odd, under any content type, may panic or
// produce a 5xx; a body is read only when it says application/json.
func FuzzBindJSON(f *testing.F) {
	e, _ := testEngine(&testing.T{})
	for _, s := range []string{`{}`, `{"email":"a@x.io","password":"p"}`, `[`, `null`, `{"email":1e999}`, `{"age":1.5}`, "\x00"} {
		f.Add("application/json", s)
	}
	for _, ct := range []string{"application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/json;;", "APPLICATION/JSON"} {
		f.Add(ct, `{"email":"a@x.io","password":"p"}`)
	}
	f.Fuzz(func(t *testing.T, ctype, body string) {
		rec := do(e, "POST", "/bind", body, "Content-Type", ctype)
		if rec.Code >= 500 {
			t.Fatalf("%q %q gave %d %s", ctype, body, rec.Code, rec.Body)
		}
		if rec.Code != 200 {
			envelope(t, rec)
		}
		mt, _, err := mime.ParseMediaType(ctype)
		isJSON := err == nil && mt == "application/json"
		if (rec.Code == http.StatusUnsupportedMediaType) != (!isJSON && body != "") {
			t.Fatalf("%q with body %q gave %d", ctype, body, rec.Code)
		}
	})
}
