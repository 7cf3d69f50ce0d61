package timer

import (
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/kit/mongokit"
)

// Purge removes timers that fired before the cutoff and whose event has left
// the outbox: one whose expiration:complete still waits for the bus stays,
// and so does one that fired recently.
func TestPurgeKeepsUnpublishedEvents(t *testing.T) {
	ctx := t.Context()
	// A relay that is never run: what it would publish stays in the outbox.
	relay := outbox.NewRelayWith(mongokit.Database(t).Collection(Collection), nil, slog.New(slog.DiscardHandler), outbox.Config{})
	s, err := NewStore(ctx, relay)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"waiting", "published"} {
		if err := s.Schedule(ctx, Timer{OrderID: id, ExpiresAt: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FireDue(ctx, now.Add(-time.Minute)); err != nil { // fired a minute ago
		t.Fatal(err)
	}
	if err := s.Schedule(ctx, Timer{OrderID: "recent", ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FireDue(ctx, now); err != nil { // fired just now
		t.Fatal(err)
	}
	// What the relay does once the bus acknowledged: the event leaves.
	pull := func(id string) {
		var d struct {
			Outbox []outbox.Event `bson:"outbox"`
		}
		if err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil || len(d.Outbox) != 1 || d.Outbox[0].Subject != events.SubjectExpirationComplete {
			t.Fatalf("%s: outbox %+v, %v", id, d.Outbox, err)
		}
		if _, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$pull", Value: bson.D{{Key: outbox.Field, Value: d.Outbox[0]}}}}); err != nil {
			t.Fatal(err)
		}
	}
	pull("published")
	pull("recent")
	n, err := s.Purge(ctx, now.Add(-30*time.Second))
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
	cur, err := s.c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var left []Timer
	if err := cur.All(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].OrderID != "recent" || left[1].OrderID != "waiting" {
		t.Fatalf("left %+v, want the recent one and the one whose event is unpublished", left)
	}
}

// A cancel that overtakes its order's creation (they travel on different
// subjects) leaves a mark, so the late creation schedules nothing and the
// cancelled order never expires; a cancel after firing changes nothing.
func TestCancelBeforeScheduleNeverFires(t *testing.T) {
	ctx := t.Context()
	relay := outbox.NewRelayWith(mongokit.Database(t).Collection(Collection), nil, slog.New(slog.DiscardHandler), outbox.Config{})
	s, err := NewStore(ctx, relay)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := s.Cancel(ctx, "early"); err != nil {
		t.Fatal(err)
	}
	if err := s.Schedule(ctx, Timer{OrderID: "early", ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Schedule(ctx, Timer{OrderID: "fired", ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	fired, err := s.FireDue(ctx, now)
	if err != nil || len(fired) != 1 || fired[0] != "fired" {
		t.Fatalf("fired %v, %v; want only the order not cancelled", fired, err)
	}
	if err := s.Cancel(ctx, "fired"); err != nil {
		t.Fatalf("cancel after firing: %v", err)
	}
	if _, ok, err := s.Next(ctx); ok || err != nil {
		t.Fatalf("a timer still pending (%v, %v)", ok, err)
	}
}
