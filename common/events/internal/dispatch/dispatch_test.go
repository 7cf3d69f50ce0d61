package dispatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
)

func TestCallTurnsPanicsIntoErrors(t *testing.T) {
	err := Call(context.Background(), func(context.Context, events.Message) error { panic("boom") }, time.Second, events.Message{})
	if err == nil {
		t.Fatal("panic swallowed")
	}
}

func TestCallBoundsTheHandlerByTheAckWait(t *testing.T) {
	err := Call(context.Background(), func(ctx context.Context, _ events.Message) error {
		<-ctx.Done()
		return ctx.Err()
	}, 10*time.Millisecond, events.Message{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestGateWaitsForRunningHandlers(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("refused before close")
	}
	closed := make(chan struct{})
	go func() {
		g.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a handler ran")
	case <-time.After(20 * time.Millisecond): // a bounded check that Close is still waiting
	}
	g.Leave()
	<-closed
	if g.Enter() {
		t.Fatal("admitted after close")
	}
}

func TestAckWait(t *testing.T) {
	l := events.Listener{}
	if AckWait(l, 0) != DefaultAckWait || AckWait(l, 2*time.Second) != 2*time.Second {
		t.Fatal("defaults")
	}
	l.AckWait = 3 * time.Second
	if AckWait(l, 2*time.Second) != 3*time.Second {
		t.Fatal("listener's own")
	}
}
