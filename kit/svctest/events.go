package svctest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/stanbus"
	"github.com/ticketing-go/ticketing/kit/natskit"
)

var clientSeq atomic.Int64

// Bus connects a test's own client to the server, closed at the end.
func Bus(t testing.TB, s *natskit.STAN) events.Bus {
	t.Helper()
	b, err := stanbus.Connect(context.Background(), stanbus.Config{URL: s.URL(), ClusterID: s.ClusterID(),
		ClientID: fmt.Sprintf("test-%d", clientSeq.Add(1)), Log: slog.New(slog.DiscardHandler), PingInterval: 1, PingMaxOut: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// BusEnv is the environment a service needs to reach s.
func BusEnv(s *natskit.STAN, clientID string) map[string]string {
	return map[string]string{"NATS_URL": s.URL(), "NATS_CLUSTER_ID": s.ClusterID(), "NATS_CLIENT_ID": clientID, "ACK_WAIT": "1s", "OUTBOX_INTERVAL": "200ms"}
}

// Publish publishes payload as JSON on subject.
func Publish(t testing.TB, b events.Bus, subject string, payload any) {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Publish(ctx, subject, data); err != nil {
		t.Fatal(err)
	}
}

// Recorder keeps every message published on some subjects, in order.
type Recorder struct {
	mu   sync.Mutex
	msgs []events.Message
}

// Record subscribes a recorder (its own queue group) to subjects.
func Record(t testing.TB, b events.Bus, subjects ...string) *Recorder {
	t.Helper()
	r := &Recorder{}
	group := fmt.Sprintf("test-recorder-%d", clientSeq.Add(1))
	for _, s := range subjects {
		err := b.Subscribe(events.Listener{Subject: s, QueueGroup: group, AckWait: time.Second, Handler: func(_ context.Context, m events.Message) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.msgs = append(r.msgs, m)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// Messages returns what was recorded on subject whose JSON has field id
// equal to id ("" for all).
func (r *Recorder) Messages(subject, idField, id string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, m := range r.msgs {
		if m.Subject != subject {
			continue
		}
		var v map[string]any
		if json.Unmarshal(m.Data, &v) != nil {
			continue
		}
		if id != "" && fmt.Sprint(v[idField]) != id {
			continue
		}
		out = append(out, v)
	}
	return out
}

// Raw returns the raw payloads recorded on subject.
func (r *Recorder) Raw(subject string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.Subject == subject {
			out = append(out, string(m.Data))
		}
	}
	return out
}

// Reset forgets what was recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = nil
}
