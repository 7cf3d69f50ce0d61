package main

import (
	"io"
	"strings"
	"testing"
)

// An order that expires at once, or before it was made, is a
// misconfiguration: the service refuses to start, naming the variable.
func TestRefusesANonPositiveWindow(t *testing.T) {
	for _, w := range []string{"0s", "-1m"} {
		vars := map[string]string{"JWT_KEY": testKey, "MONGO_URI": "mongodb://127.0.0.1:1/orders",
			"NATS_URL": "nats://127.0.0.1:1", "NATS_CLUSTER_ID": "c", "NATS_CLIENT_ID": "orders-test", "EXPIRATION_WINDOW": w}
		err := run(t.Context(), nil, func(k string) string { return vars[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "EXPIRATION_WINDOW: must be positive") {
			t.Errorf("EXPIRATION_WINDOW=%s: %v", w, err)
		}
	}
}
