package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/common/logging"
)

// Every payload names its entities in the handled event's log line.
func TestEveryPayloadNamesItsEntity(t *testing.T) {
	for _, topic := range Topics {
		if _, ok := topic.Payload().(entity); !ok {
			t.Errorf("%s: its payload does not name its entity for the log", topic.Subject())
		}
	}
}

// A handled event is logged at info with its subject, its entity and the
// request id of its context; a failed one is left to the bus to log.
func TestOnLogsTheHandledEventWithItsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo, "tickets")
	fail := errors.New("not yet")
	var result error
	l := On(TopicOrderCreated, GroupTickets, 0, log, func(context.Context, OrderCreated) error { return result })
	ctx := logging.WithRequestID(context.Background(), "buy-1")
	data := []byte(`{"id":"o1","version":0,"status":"created","userId":"u","expiresAt":"2026-12-02T15:00:00.000Z","ticket":{"id":"t1","price":20}}`)
	m := Message{Subject: SubjectOrderCreated, Data: data, Sequence: 7}
	if err := l.Handler(ctx, m); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%s: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"msg": "event handled", "level": "INFO", "subject": "order:created", "group": GroupTickets,
		"seq": 7.0, "order": "o1", "ticket": "t1", "request_id": "buy-1", "service": "tickets"} {
		if line[k] != want {
			t.Errorf("%s = %v, want %v (%s)", k, line[k], want, buf.String())
		}
	}
	buf.Reset()
	result = fail
	if err := l.Handler(ctx, m); !errors.Is(err, fail) || buf.Len() != 0 {
		t.Fatalf("failed handler: %v, logged %q", err, buf.String())
	}
	if err := l.Handler(ctx, Message{Subject: SubjectOrderCreated, Data: []byte("{")}); err != nil || !strings.Contains(buf.String(), `"request_id":"buy-1"`) {
		t.Fatalf("undecodable: %v, logged %q", err, buf.String())
	}
}
