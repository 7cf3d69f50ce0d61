// Package bustest is the contract every event-bus transport must pass
// (CONTRACT §7): delivery, redelivery after the ack wait, queue groups,
// durable resumption, persistence and reconnection across server restarts.
// Each transport's test runs it against its embedded server.
package bustest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/money"
	"github.com/ticketing-go/ticketing/kit/poll"
)

// Server is one transport's server under test, fresh for each test so tests
// never share a durable queue group.
type Server struct {
	// Connect returns a connected bus for a replica with the given client
	// id; it is closed when the test ends.
	Connect func(t *testing.T, clientID string) events.Bus
	// Stop stops the server; Start brings it back on the same address and
	// store.
	Stop  func(t *testing.T)
	Start func(t *testing.T)
}

// patience bounds every wait; generous, as -race on two cores is slow.
const patience = 20 * time.Second

// Run runs the contract; newServer starts a server for one test.
func Run(t *testing.T, newServer func(t *testing.T) Server) {
	t.Run("delivers what was published", func(t *testing.T) {
		srv := newServer(t)
		bus := srv.Connect(t, "c1")
		tickets, orders := &inbox{}, &inbox{}
		subscribe(t, bus, events.SubjectTicketCreated, events.GroupOrders, 0, tickets)
		subscribe(t, bus, events.SubjectOrderCreated, events.GroupOrders, 0, orders)

		want := events.TicketCreated{ID: "t1", Version: 0, Title: "concert", Price: money.Cents(1999), UserID: "u1"}
		if err := events.Publish(ctxFor(t), bus, events.TopicTicketCreated, want); err != nil {
			t.Fatal(err)
		}
		publish(t, bus, events.SubjectTicketCreated, "2", "3")
		tickets.waitFor(t, 3)
		got := tickets.messages()
		ev, err := events.Decode[events.TicketCreated](got[0])
		if err != nil || ev != want {
			t.Fatalf("decoded %+v, %v; want %+v (data %s)", ev, err, want, got[0].Data)
		}
		if string(got[0].Data) != `{"id":"t1","version":0,"title":"concert","price":19.99,"userId":"u1"}` {
			t.Fatalf("wire form %s", got[0].Data)
		}
		for i, m := range got {
			if m.Subject != events.SubjectTicketCreated || m.Redelivered || m.Sequence == 0 || (i > 0 && m.Sequence <= got[i-1].Sequence) {
				t.Fatalf("delivery %d: %+v", i, m)
			}
		}
		if n := len(orders.messages()); n != 0 {
			t.Fatalf("order:created listener got %d ticket messages", n)
		}
	})

	t.Run("refuses unknown subjects and bad listeners", func(t *testing.T) {
		bus := newServer(t).Connect(t, "c1")
		if err := bus.Publish(ctxFor(t), "ticket.created", []byte("{}")); err == nil {
			t.Fatal("published on an unknown subject")
		}
		ok := events.Listener{Subject: events.SubjectTicketCreated, QueueGroup: events.GroupOrders, Handler: (&inbox{}).handle}
		bad := []events.Listener{ok, ok, ok, ok}
		bad[0].Subject = "nope"
		bad[1].QueueGroup = ""
		bad[2].AckWait = 100 * time.Millisecond
		bad[3].Handler = nil
		for _, l := range bad {
			if err := bus.Subscribe(l); err == nil {
				t.Fatalf("subscribed %+v", l)
			}
		}
		if err := bus.Subscribe(ok); err != nil {
			t.Fatal(err)
		}
		if err := bus.Subscribe(ok); err == nil {
			t.Fatal("subscribed the same subject and group twice")
		}
	})

	t.Run("a failed handler gets the message again after the ack wait", func(t *testing.T) {
		bus := newServer(t).Connect(t, "c1")
		in := &inbox{failFirst: 1}
		subscribe(t, bus, events.SubjectOrderCreated, events.GroupPayments, time.Second, in)
		publish(t, bus, events.SubjectOrderCreated, "x")
		in.waitFor(t, 2)
		ms, at := in.messages(), in.times()
		if ms[0].Redelivered || !ms[1].Redelivered || ms[0].Sequence != ms[1].Sequence {
			t.Fatalf("deliveries %+v", ms)
		}
		if gap := at[1].Sub(at[0]); gap < 900*time.Millisecond {
			t.Fatalf("redelivered after %v, before the 1s ack wait", gap)
		}
		// Acknowledged now: a later message arrives, the old one does not.
		publish(t, bus, events.SubjectOrderCreated, "y")
		in.waitFor(t, 3)
		if got := in.data(); !slices.Equal(got, []string{"x", "x", "y"}) {
			t.Fatalf("got %v", got)
		}
	})

	t.Run("replicas of a queue group share the work and every group gets everything", func(t *testing.T) {
		srv := newServer(t)
		replicas := []*inbox{{}, {}}
		for i, in := range replicas {
			subscribe(t, srv.Connect(t, fmt.Sprintf("orders-%d", i)), events.SubjectTicketCreated, events.GroupOrders, 0, in)
		}
		other := &inbox{}
		subscribe(t, srv.Connect(t, "tickets-0"), events.SubjectTicketCreated, events.GroupTickets, 0, other)

		pub := srv.Connect(t, "pub")
		var want []string
		for i := range 60 {
			want = append(want, fmt.Sprint(i))
		}
		publish(t, pub, events.SubjectTicketCreated, want...)
		poll.Until(t, patience, func() bool { return len(replicas[0].data())+len(replicas[1].data()) >= len(want) }, "all delivered to the group")
		other.waitFor(t, len(want))

		shared := append(replicas[0].data(), replicas[1].data()...)
		slices.SortFunc(shared, byNumber)
		if !slices.Equal(shared, want) {
			t.Fatalf("the group got %v, want each of %v once", shared, want)
		}
		if len(replicas[0].data()) == 0 || len(replicas[1].data()) == 0 {
			t.Fatalf("work not shared: %d / %d", len(replicas[0].data()), len(replicas[1].data()))
		}
		if got := other.data(); !slices.Equal(got, want) {
			t.Fatalf("the other group got %v", got)
		}
	})

	t.Run("a restarted consumer resumes where it stopped", func(t *testing.T) {
		srv := newServer(t)
		pub := srv.Connect(t, "pub")
		first := &inbox{}
		b1 := srv.Connect(t, "orders-0")
		subscribe(t, b1, events.SubjectPaymentCreated, events.GroupOrders, 0, first)
		publish(t, pub, events.SubjectPaymentCreated, "a", "b")
		first.waitFor(t, 2)
		if err := b1.Close(); err != nil {
			t.Fatal(err)
		}

		publish(t, pub, events.SubjectPaymentCreated, "c", "d") // while no one listens
		second := &inbox{}
		subscribe(t, srv.Connect(t, "orders-0"), events.SubjectPaymentCreated, events.GroupOrders, 0, second)
		second.waitFor(t, 2)
		// A message published now comes after anything replayed, so once it
		// is here a replay of a or b would have shown.
		publish(t, pub, events.SubjectPaymentCreated, "e")
		second.waitFor(t, 3)
		if got := second.data(); !slices.Equal(got, []string{"c", "d", "e"}) {
			t.Fatalf("after the restart got %v, want [c d e]", got)
		}
	})

	t.Run("messages and durable positions survive a server restart", func(t *testing.T) {
		srv := newServer(t)
		bus := srv.Connect(t, "c1")
		publish(t, bus, events.SubjectOrderCancelled, "early")
		in := &inbox{}
		subscribe(t, bus, events.SubjectOrderCancelled, events.GroupTickets, 0, in)
		publish(t, bus, events.SubjectOrderCancelled, "a1")
		in.waitFor(t, 2)
		if err := bus.Close(); err != nil {
			t.Fatal(err)
		}

		srv.Stop(t)
		srv.Start(t)

		bus = srv.Connect(t, "c2")
		resumed, fresh := &inbox{}, &inbox{}
		subscribe(t, bus, events.SubjectOrderCancelled, events.GroupTickets, 0, resumed)
		subscribe(t, bus, events.SubjectOrderCancelled, events.GroupPayments, 0, fresh)
		publish(t, bus, events.SubjectOrderCancelled, "a2")
		fresh.waitFor(t, 3)
		resumed.waitFor(t, 1)
		if got := fresh.data(); !slices.Equal(got, []string{"early", "a1", "a2"}) {
			t.Fatalf("a new group got %v after the restart", got)
		}
		if got := resumed.data(); !slices.Equal(got, []string{"a2"}) {
			t.Fatalf("the old group got %v after the restart, want [a2]", got)
		}
	})

	t.Run("a connected bus rides out a server restart", func(t *testing.T) {
		srv := newServer(t)
		bus := srv.Connect(t, "c1")
		in := &inbox{}
		subscribe(t, bus, events.SubjectExpirationComplete, events.GroupOrders, 0, in)
		publish(t, bus, events.SubjectExpirationComplete, "before")
		in.waitFor(t, 1)

		srv.Stop(t)
		poll.Until(t, patience, func() bool { return errors.Is(bus.Ready(ctxFor(t)), events.ErrUnavailable) }, "readiness to fail")
		if err := bus.Publish(ctxFor(t), events.SubjectExpirationComplete, []byte("lost")); !errors.Is(err, events.ErrUnavailable) {
			t.Fatalf("publish while down: %v, want ErrUnavailable", err)
		}
		srv.Start(t)
		poll.Until(t, patience, func() bool { return bus.Ready(ctxFor(t)) == nil }, "readiness to recover")
		publish(t, bus, events.SubjectExpirationComplete, "after")
		in.waitFor(t, 2)
		if got := in.data(); !slices.Equal(got, []string{"before", "after"}) {
			t.Fatalf("got %v", got)
		}
	})
}

// inbox is a listener that keeps what it received.
type inbox struct {
	mu        sync.Mutex
	failFirst int // fail this many deliveries first
	msgs      []events.Message
	at        []time.Time
}

func (in *inbox) handle(_ context.Context, m events.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs = append(in.msgs, m)
	in.at = append(in.at, time.Now())
	if in.failFirst > 0 {
		in.failFirst--
		return errors.New("planned failure")
	}
	return nil
}

func (in *inbox) messages() []events.Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.msgs)
}

func (in *inbox) times() []time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.at)
}

func (in *inbox) data() []string {
	var out []string
	for _, m := range in.messages() {
		out = append(out, string(m.Data))
	}
	return out
}

func (in *inbox) waitFor(t *testing.T, n int) {
	t.Helper()
	poll.Until(t, patience, func() bool { return len(in.messages()) >= n }, "%d deliveries; got %v", n, in)
}

func (in *inbox) String() string { return fmt.Sprint(in.data()) }

func subscribe(t *testing.T, bus events.Bus, subject, group string, ackWait time.Duration, in *inbox) {
	t.Helper()
	if err := bus.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: ackWait, Handler: in.handle}); err != nil {
		t.Fatal(err)
	}
}

func publish(t *testing.T, bus events.Bus, subject string, data ...string) {
	t.Helper()
	for _, d := range data {
		if err := bus.Publish(ctxFor(t), subject, []byte(d)); err != nil {
			t.Fatalf("publish %q: %v", d, err)
		}
	}
}

// ctxFor bounds one bus call.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func byNumber(a, b string) int {
	var x, y int
	fmt.Sscan(a, &x)
	fmt.Sscan(b, &y)
	return x - y
}

// Logger logs to the test's output until the test ends, and nowhere after:
// a bus's goroutines may still log while it closes.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

var _ io.Writer = (*testWriter)(nil)
