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

// A Kubernetes readiness probe can leave a check out (/readyz?exclude=events,
// as kube-apiserver's /readyz?exclude=etcd): a bus blip then takes no
// replica out of its Service, while /readyz itself stays the contract's
// "database and event bus reachable".
func TestReadinessExclude(t *testing.T) {
	h := New()
	var dbDown, busDown bool
	h.Add("database", func(context.Context) error {
		if dbDown {
			return errors.New("unreachable")
		}
		return nil
	})
	h.Add("events", func(context.Context) error {
		if busDown {
			return errors.New("disconnected")
		}
		return nil
	})
	probe := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.Readiness(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	busDown = true
	if code, body := probe("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"events":"disconnected"`) {
		t.Errorf("/readyz with the bus down: %d %s, want 503 (CONTRACT §1)", code, body)
	}
	if code, body := probe("/readyz?exclude=events"); code != http.StatusOK || strings.Contains(body, "disconnected") {
		t.Errorf("/readyz?exclude=events with the bus down: %d %s, want 200 without the bus", code, body)
	}
	dbDown = true
	if code, body := probe("/readyz?exclude=events"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) {
		t.Errorf("/readyz?exclude=events with the database down: %d %s, want 503", code, body)
	}
	dbDown = false
	if code, body := probe("/readyz?exclude=event"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no such check") {
		t.Errorf("excluding a check that does not exist: %d %s, want 503 naming it (a misspelt probe must fail, not include the bus silently)", code, body)
	}
	h.SetDraining()
	if code, _ := probe("/readyz?exclude=events"); code != http.StatusServiceUnavailable {
		t.Errorf("draining with exclude=events: %d, want 503", code)
	}
}
