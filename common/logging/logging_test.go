package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/common/logging"
)

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// A line logged with a context that carries a request id names it once; a
// line without one, or logged without a context, names none.
func TestLinesLoggedWithAContextNameItsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "orders").With("component", "x")
	ctx := logging.WithRequestID(context.Background(), "buy-1")
	log.InfoContext(ctx, "with")
	log.InfoContext(ctx, "named already", logging.RequestIDKey, "other")
	log.Info("without")
	log.InfoContext(context.Background(), "none in ctx")
	got := lines(t, &buf)
	for i, want := range []any{"buy-1", "other", nil, nil} {
		if got[i][logging.RequestIDKey] != want || got[i]["service"] != "orders" {
			t.Errorf("line %d %v: request_id %v, want %v", i, got[i], got[i][logging.RequestIDKey], want)
		}
	}
	if n := strings.Count(buf.String(), `"request_id"`); n != 2 {
		t.Errorf("%d request_id attributes in\n%s", n, buf.String())
	}
}

// An id from the network that could forge lines or grow headers is not
// carried.
func TestOnlyValidRequestIDsAreCarried(t *testing.T) {
	for _, id := range []string{"", "has space", "tab\tid", "new\nline", strings.Repeat("x", 129), "é"} {
		if got := logging.RequestID(logging.WithRequestID(context.Background(), id)); got != "" {
			t.Errorf("%q carried as %q", id, got)
		}
	}
	if got := logging.RequestID(logging.WithRequestID(context.Background(), strings.Repeat("x", 128))); len(got) != 128 {
		t.Error("a 128-character id was dropped")
	}
}
