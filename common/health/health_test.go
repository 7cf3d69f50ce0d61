package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadiness(t *testing.T) {
	h := New()
	var dbDown bool
	h.Add("database", func(context.Context) error {
		if dbDown {
			return errors.New("unreachable")
		}
		return nil
	})
	h.Add("events", func(context.Context) error { return nil })

	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		h.Readiness(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := probe(); code != http.StatusOK {
		t.Fatalf("ready: %d %s", code, body)
	}
	dbDown = true
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) || !strings.Contains(body, `"errors"`) {
		t.Fatalf("db down: %d %s", code, body)
	}
	dbDown = false
	h.SetDraining()
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "draining") {
		t.Fatalf("draining: %d %s", code, body)
	}
	rec := httptest.NewRecorder()
	h.Live(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("healthz while draining: %d", rec.Code)
	}
}
