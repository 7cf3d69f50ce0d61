package main

import (
	"io"
	"strings"
	"testing"
)

// A limit that refills in no time limits nothing: the service refuses to
// start, naming the variable.
func TestRefusesANonPositiveRefill(t *testing.T) {
	for _, v := range []string{"SIGNIN_REFILL", "SIGNUP_REFILL"} {
		vars := map[string]string{"JWT_KEY": testKey, "MONGO_URI": "mongodb://127.0.0.1:1/auth", v: "0s"}
		err := run(t.Context(), nil, func(k string) string { return vars[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), v+": must be positive") {
			t.Errorf("%s=0s: %v", v, err)
		}
	}
}
