package eventbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/eventbus"
)

func TestConnectRefusesAnUnknownTransport(t *testing.T) {
	if b, err := eventbus.Connect(t.Context(), eventbus.Config{Kind: "kafka", URL: "nats://127.0.0.1:1"}, nil); err == nil || b != nil {
		t.Fatalf("got %v, %v", b, err)
	}
}

// Connect keeps retrying an unreachable bus until its context ends, and then
// reports a nil bus (not a nil pointer inside a non-nil interface).
func TestConnectGivesUpWhenTheContextEnds(t *testing.T) {
	for _, kind := range []string{"stan", "jetstream"} {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		b, err := eventbus.Connect(ctx, eventbus.Config{Kind: kind, URL: "nats://127.0.0.1:1", ClusterID: "ticketing", ClientID: "c1"}, nil)
		cancel()
		if err == nil || b != nil {
			t.Fatalf("%s: got %v, %v", kind, b, err)
		}
	}
}
