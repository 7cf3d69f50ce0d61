package natskit_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/jsbus"
	"github.com/ticketing-go/ticketing/kit/natskit"
)

// A service connecting never changes a stream the operator configured: its
// limits stay (only a missing subject is added, for a stream made by an older
// version).
func TestJetStreamBusLeavesAnExistingStreamsLimits(t *testing.T) {
	srv := natskit.TestJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	older := slices.DeleteFunc(slices.Clone(events.Subjects), func(s string) bool { return s == events.SubjectOrderCompleted })
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: jsbus.DefaultStream, Subjects: older, MaxAge: time.Hour, MaxBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	b, err := jsbus.Connect(ctx, jsbus.Config{URL: srv.URL(), ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := js.Stream(ctx, jsbus.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != time.Hour || cfg.MaxBytes != 1<<20 {
		t.Errorf("limits changed to max age %s, max bytes %d", cfg.MaxAge, cfg.MaxBytes)
	}
	if !slices.Contains(cfg.Subjects, events.SubjectOrderCompleted) {
		t.Errorf("subjects %v: the missing %s was not added", cfg.Subjects, events.SubjectOrderCompleted)
	}
}

// A stream definition that cannot serve the platform is refused before
// anything connects.
func TestJetStreamBusRefusesABadStreamDefinition(t *testing.T) {
	good, err := os.ReadFile(prodStream)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ from, to, want string }{
		"another stream":    {`"name": "TICKETING"`, `"name": "OTHER"`, `names stream "OTHER"`},
		"a subject missing": {`"payment:created",`, ``, "lacks subject payment:created"},
		"work queue":        {`"retention": "limits"`, `"retention": "workqueue"`, "retention must be limits"},
		"not JSON":          {`{`, `[`, "stream definition"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(good), c.from, c.to, 1)
			if bad == string(good) {
				t.Fatalf("no %q in %s", c.from, prodStream)
			}
			file := filepath.Join(t.TempDir(), "stream.json")
			if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := jsbus.Connect(t.Context(), jsbus.Config{URL: "nats://127.0.0.1:1", ClientID: "c1", StreamFile: file})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				if b != nil {
					_ = b.Close()
				}
				t.Fatalf("got %v, want an error about %s", err, c.want)
			}
		})
	}
}

// The stream a service creates when none exists (make run, the dev
// overlays) has the production definition's limits, so it does not grow
// without bound.
func TestJetStreamBusCreatesABoundedStream(t *testing.T) {
	srv := natskit.TestJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := jsbus.Connect(ctx, jsbus.Config{URL: srv.URL(), ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, jsbus.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	got := s.CachedInfo().Config
	data, err := os.ReadFile(prodStream)
	if err != nil {
		t.Fatal(err)
	}
	var prod jetstream.StreamConfig
	if err := json.Unmarshal(data, &prod); err != nil {
		t.Fatal(err)
	}
	if prod.MaxAge <= 0 || prod.MaxBytes <= 0 {
		t.Fatalf("%s has no limits to compare with", prodStream)
	}
	if got.MaxAge != prod.MaxAge || got.MaxBytes != prod.MaxBytes || got.MaxMsgSize != prod.MaxMsgSize ||
		got.Discard != prod.Discard || got.Duplicates != prod.Duplicates {
		t.Errorf("created stream: max age %s, max bytes %d, max message %d, discard %v, duplicates %s; %s: %s, %d, %d, %v, %s",
			got.MaxAge, got.MaxBytes, got.MaxMsgSize, got.Discard, got.Duplicates,
			prodStream, prod.MaxAge, prod.MaxBytes, prod.MaxMsgSize, prod.Discard, prod.Duplicates)
	}
}
