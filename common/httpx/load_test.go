package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/ticketing-go/ticketing/common/apperr"
)

func TestLoad(t *testing.T) {
	errMissing := errors.New("thing: not found")
	errDown := errors.New("database down")
	lookup := func(_ context.Context, id int) (string, error) {
		switch id {
		case 1:
			return "one", nil
		case 2:
			return "", fmt.Errorf("loading 2: %w", errMissing)
		default:
			return "", errDown
		}
	}
	if v, err := Load(t.Context(), lookup, 1, errMissing); v != "one" || err != nil {
		t.Fatalf("found: %q, %v", v, err)
	}
	_, err := Load(t.Context(), lookup, 2, errMissing)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Status != http.StatusNotFound {
		t.Fatalf("the store's not-found (wrapped) must become the 404, got %v", err)
	}
	if _, err := Load(t.Context(), lookup, 3, errMissing); !errors.Is(err, errDown) || errors.As(err, &e) {
		t.Fatalf("another error must pass unchanged (a 500 later), got %v", err)
	}
}
