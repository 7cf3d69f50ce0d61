package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestFromKeepsTypedErrorsAndHidesOthers(t *testing.T) {
	nf := fmt.Errorf("loading ticket: %w", NotFound())
	if got := From(nf); got.Status != http.StatusNotFound || got.Entries[0].Message != "Not Found" {
		t.Fatalf("wrapped NotFound became %+v", got)
	}
	secret := errors.New("mongo: connection refused at 10.0.0.7")
	got := From(secret)
	if got.Status != http.StatusInternalServerError || got.Entries[0].Message != "Something went wrong" {
		t.Fatalf("unknown error became %+v", got)
	}
	if !errors.Is(got, secret) {
		t.Fatal("cause must stay reachable for the log")
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	e := TooManyRequests("Too many attempts", 1500*time.Millisecond)
	if v := e.Header().Get("Retry-After"); v != "2" {
		t.Fatalf("Retry-After = %q, want 2", v)
	}
	if v := BadRequest("x").Header().Get("Retry-After"); v != "" {
		t.Fatalf("unexpected Retry-After %q", v)
	}
}
