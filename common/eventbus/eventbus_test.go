package eventbus_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// Half a credential pair, or both a password and a password file, is a
// configuration mistake reported before anything connects.
func TestConnectRefusesIncompleteCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  eventbus.Config
		want string
	}{
		{"user without password", eventbus.Config{User: "orders"}, "NATS_USER and NATS_PASSWORD"},
		{"password without user", eventbus.Config{Password: "x"}, "NATS_USER and NATS_PASSWORD"},
		{"password file without user", eventbus.Config{PasswordFile: file}, "NATS_USER and NATS_PASSWORD"},
		{"password and file", eventbus.Config{User: "orders", Password: "x", PasswordFile: file}, "set one"},
		{"missing file", eventbus.Config{User: "orders", PasswordFile: file + ".missing"}, "NATS_PASSWORD_FILE"},
		{"stream definition on stan", eventbus.Config{ClusterID: "ticketing", StreamConfig: "/etc/x.json"}, "NATS_STREAM_CONFIG"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Kind, c.cfg.URL, c.cfg.ClientID = "stan", "nats://127.0.0.1:1", "c1"
			b, err := eventbus.Connect(t.Context(), c.cfg, nil)
			if err == nil || b != nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, %v; want an error about %s", b, err, c.want)
			}
		})
	}
}
