package replica

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
)

func TestByIDHandsTheParsedIDAndItsError(t *testing.T) {
	want := bson.NewObjectID()
	step := errors.New("replica step failed")
	var got bson.ObjectID
	h := ByID(func(_ context.Context, id bson.ObjectID, e events.OrderCancelled) error {
		got = id
		if e.Version != 3 {
			t.Errorf("event reached fn as %+v", e)
		}
		return step
	})
	if err := h(t.Context(), events.OrderCancelled{ID: want.Hex(), Version: 3}); !errors.Is(err, step) {
		t.Fatalf("fn's error must withhold the ack, got %v", err)
	}
	if got != want {
		t.Fatalf("fn got id %s, want %s", got.Hex(), want.Hex())
	}
}

func TestByIDAcknowledgesAnIDThatIsNoObjectID(t *testing.T) {
	for _, id := range []string{"", "42", "not-an-object-id", bson.NewObjectID().Hex() + "0"} {
		called := false
		h := ByID(func(context.Context, bson.ObjectID, events.TicketCreated) error {
			called = true
			return errors.New("must not run")
		})
		if err := h(t.Context(), events.TicketCreated{ID: id}); err != nil || called {
			t.Fatalf("id %q: err %v, fn called %v; want acknowledged without fn", id, err, called)
		}
	}
}
