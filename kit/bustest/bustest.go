// Package bustest is the contract every event-bus transport must pass; each
// transport's test runs it against its embedded server.
package bustest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/kit/poll"
)

// Transport is what the suite needs of a transport under test.
type Transport struct {
	// Connect returns a bus for a replica with the given client id.
	Connect func(t *testing.T, clientID string) events.Bus
	// Restart stops the server and starts it again with the same store.
	Restart func(t *testing.T)
}

// recorder is a listener that keeps what it received.
type recorder struct {
	mu   sync.Mutex
	got  []string
	fail atomic.Int32 // fail this many deliveries first
}

func (r *recorder) handle(_ context.Context, m events.Message) error {
	if r.fail.Load() > 0 {
		r.fail.Add(-1)
		return fmt.Errorf("planned failure")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, string(m.Data))
	return nil
}

func (r *recorder) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func publish(t *testing.T, b events.Bus, subject string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := b.Publish(ctx, subject, []byte(m))
		cancel()
		if err != nil {
			t.Fatalf("publish %s: %v", m, err)
		}
	}
}

var seq atomic.Int64

// unique returns a subject and group no other test uses.
func unique(prefix string) (string, string) {
	n := seq.Add(1)
	return fmt.Sprintf("%s:%d:%d", prefix, time.Now().UnixNano(), n), fmt.Sprintf("group-%d", n)
}

// Run runs the contract.
func Run(t *testing.T, tr Transport) {
	t.Run("publish and consume in order", func(t *testing.T) {
		b := tr.Connect(t, "pc")
		subject, group := unique("pc")
		r := &recorder{}
		if err := b.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: time.Second, Handler: r.handle}); err != nil {
			t.Fatal(err)
		}
		publish(t, b, subject, "1", "2", "3")
		poll.Until(t, 10*time.Second, func() bool { return len(r.received()) == 3 }, "3 messages, got %v", r.received())
		if got := fmt.Sprint(r.received()); got != "[1 2 3]" {
			t.Fatalf("order %s", got)
		}
	})

	t.Run("a failed handler gets the message again", func(t *testing.T) {
		b := tr.Connect(t, "rd")
		subject, group := unique("rd")
		r := &recorder{}
		r.fail.Store(2)
		if err := b.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: time.Second, Handler: r.handle}); err != nil {
			t.Fatal(err)
		}
		publish(t, b, subject, "x")
		poll.Until(t, 15*time.Second, func() bool { return len(r.received()) == 1 }, "redelivery")
	})

	t.Run("replicas of a queue group share the work", func(t *testing.T) {
		subject, group := unique("qg")
		var mu sync.Mutex
		counts := map[string]int{}
		perReplica := [2]atomic.Int32{}
		for i := range 2 {
			b := tr.Connect(t, fmt.Sprintf("qg%d", i))
			err := b.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: 5 * time.Second, Handler: func(_ context.Context, m events.Message) error {
				mu.Lock()
				counts[string(m.Data)]++
				mu.Unlock()
				perReplica[i].Add(1)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
		pub := tr.Connect(t, "qgpub")
		for i := range 100 {
			publish(t, pub, subject, fmt.Sprint(i))
		}
		poll.Until(t, 15*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(counts) == 100 }, "all 100 delivered")
		mu.Lock()
		defer mu.Unlock()
		for m, n := range counts {
			if n != 1 {
				t.Fatalf("message %s handled %d times", m, n)
			}
		}
		if perReplica[0].Load() == 0 || perReplica[1].Load() == 0 {
			t.Fatalf("work not shared: %d / %d", perReplica[0].Load(), perReplica[1].Load())
		}
	})

	t.Run("a restarted consumer resumes where it stopped", func(t *testing.T) {
		subject, group := unique("rs")
		pub := tr.Connect(t, "rspub")
		r1 := &recorder{}
		b1 := tr.Connect(t, "rs1")
		if err := b1.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: time.Second, Handler: r1.handle}); err != nil {
			t.Fatal(err)
		}
		publish(t, pub, subject, "a", "b")
		poll.Until(t, 10*time.Second, func() bool { return len(r1.received()) == 2 }, "first two")
		if err := b1.Close(); err != nil {
			t.Fatal(err)
		}
		publish(t, pub, subject, "c")
		r2 := &recorder{}
		b2 := tr.Connect(t, "rs1")
		if err := b2.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: time.Second, Handler: r2.handle}); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, func() bool { return len(r2.received()) == 1 }, "the one published while away")
		publish(t, pub, subject, "d")
		poll.Until(t, 10*time.Second, func() bool { return len(r2.received()) == 2 }, "the next one")
		if got := fmt.Sprint(r2.received()); got != "[c d]" {
			t.Fatalf("after restart got %s; acked ones must not come back", got)
		}
	})

	t.Run("messages and subscriptions survive a server restart", func(t *testing.T) {
		subject, group := unique("sr")
		b := tr.Connect(t, "sr")
		r := &recorder{}
		if err := b.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: time.Second, Handler: r.handle}); err != nil {
			t.Fatal(err)
		}
		publish(t, b, subject, "before")
		poll.Until(t, 10*time.Second, func() bool { return len(r.received()) == 1 }, "before restart")
		tr.Restart(t)
		// Publishing works again once the bus has reconnected by itself.
		poll.Until(t, 30*time.Second, func() bool { return b.Ready(t.Context()) == nil }, "bus ready again")
		publish(t, b, subject, "after")
		poll.Until(t, 30*time.Second, func() bool { return len(r.received()) == 2 }, "after restart, got %v", r.received())
		if got := fmt.Sprint(r.received()); got != "[before after]" {
			t.Fatalf("got %s", got)
		}
	})
}
