package main

import (
	"io"
	"strings"
	"testing"
)

// A payment request that cannot wait at all for the orders service is a
// misconfiguration: the service refuses to start, naming the variable.
func TestRefusesANonPositiveTimeout(t *testing.T) {
	for _, w := range []string{"0s", "-1m"} {
		vars := map[string]string{"JWT_KEY": testKey, "MONGO_URI": "mongodb://127.0.0.1:1/payments",
			"NATS_URL": "nats://127.0.0.1:1", "NATS_CLUSTER_ID": "c", "NATS_CLIENT_ID": "payments-test", "PAYMENT_TIMEOUT": w, "STRIPE_KEY": "sk_test_x"}
		err := run(t.Context(), nil, func(k string) string { return vars[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "PAYMENT_TIMEOUT: must be positive") {
			t.Errorf("PAYMENT_TIMEOUT=%s: %v", w, err)
		}
	}
}
