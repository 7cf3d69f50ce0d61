package bustest_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/jsbus"
	"github.com/ticketing-go/ticketing/common/events/stanbus"
	"github.com/ticketing-go/ticketing/common/logging"
	"github.com/ticketing-go/ticketing/kit/bustest"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
)

// Test settings: fast heartbeats, pings and retries, so outages are noticed
// and healed in about a second rather than the production minutes.
var (
	fastSTAN = natskit.Options{HBInterval: 250 * time.Millisecond, HBTimeout: 250 * time.Millisecond, HBFail: 2}
	retry    = 100 * time.Millisecond
)

func startSTAN(t testing.TB, dir string) *natskit.STAN {
	o := fastSTAN
	o.Dir = dir
	srv, err := natskit.StartSTAN(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func connectSTAN(t testing.TB, srv *natskit.STAN, clientID string) *stanbus.Bus {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := stanbus.Connect(ctx, stanbus.Config{URL: srv.URL(), ClusterID: srv.ClusterID(), ClientID: clientID,
		Log: bustest.Logger(t), PingInterval: 1, PingMaxOut: 2, ReconnectWait: retry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func startJetStream(t testing.TB) *natskit.JetStream {
	srv, err := natskit.StartJetStream(natskit.JetStreamOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func connectJetStream(t testing.TB, srv *natskit.JetStream, clientID string) *jsbus.Bus {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := jsbus.Connect(ctx, jsbus.Config{URL: srv.URL(), ClientID: clientID, Log: bustest.Logger(t), ReconnectWait: retry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestNATSStreaming(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bustest.Server {
		srv := startSTAN(t, t.TempDir())
		return bustest.Server{
			Connect: func(t *testing.T, id string) events.Bus { return connectSTAN(t, srv, id) },
			Stop:    func(*testing.T) { srv.Stop() },
			Start:   func(t *testing.T) { restart(t, srv.Restart) },
		}
	})
}

func TestJetStream(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bustest.Server {
		srv := startJetStream(t)
		return bustest.Server{
			Connect: func(t *testing.T, id string) events.Bus { return connectJetStream(t, srv, id) },
			Stop:    func(*testing.T) { srv.Stop() },
			Start:   func(t *testing.T) { restart(t, srv.Restart) },
		}
	})
}

func restart(t *testing.T, fn func() error) {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
}

// A longer outage makes stan give the session up; the bus must then connect
// anew and resubscribe, and the durable group resumes.
func TestNATSStreamingLostSessionIsReestablished(t *testing.T) {
	srv := startSTAN(t, t.TempDir())
	bus := connectSTAN(t, srv, "c1")
	got := make(chan string, 10)
	subscribeChan(t, bus, got)

	srv.Stop()
	poll.Until(t, 20*time.Second, func() bool { return errors.Is(bus.Ready(t.Context()), stanbus.ErrLost) }, "the session to be declared lost")
	if err := bus.Publish(t.Context(), events.SubjectTicketUpdated, []byte("x")); !errors.Is(err, events.ErrUnavailable) {
		t.Fatalf("publish while lost: %v", err)
	}
	restart(t, srv.Restart)
	poll.Until(t, 20*time.Second, func() bool { return bus.Ready(t.Context()) == nil }, "a new session")
	publishAndReceive(t, bus, got, "after")
}

// A server restarted without its store has forgotten the client: its pings
// are refused at once, and the bus re-registers and resubscribes.
func TestNATSStreamingServerThatForgotTheClient(t *testing.T) {
	srv := startSTAN(t, "") // memory store
	bus := connectSTAN(t, srv, "c1")
	got := make(chan string, 10)
	subscribeChan(t, bus, got)
	publishAndReceive(t, bus, got, "before")

	restart(t, srv.Restart)
	// The server refuses publishes from clients it does not know, so one that
	// succeeds went through a new session; its delivery needs the
	// resubscription.
	poll.Until(t, 20*time.Second, func() bool {
		return bus.Publish(t.Context(), events.SubjectTicketUpdated, []byte("after")) == nil
	}, "a publish through a new session")
	receive(t, got, "after")
}

// A stream deleted under a running bus (as by a server that lost its store)
// is declared again with its consumers, and consumption resumes.
func TestJetStreamStreamDeletedUnderTheBus(t *testing.T) {
	srv := startJetStream(t)
	bus := connectJetStream(t, srv, "c1")
	got := make(chan string, 10)
	subscribeChan(t, bus, got)
	publishAndReceive(t, bus, got, "before")

	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(t.Context(), jsbus.DefaultStream); err != nil {
		t.Fatal(err)
	}
	// Publishing fails until the bus has declared the stream again.
	poll.Until(t, 20*time.Second, func() bool {
		return bus.Publish(t.Context(), events.SubjectTicketUpdated, []byte("after")) == nil
	}, "the stream to be declared again")
	receive(t, got, "after")
}

// The request id a publisher's context carries rides the JetStream message
// as its X-Request-Id header into the handler's context, and the payload is
// exactly what was published; a publish without one delivers none.
func TestJetStreamCarriesTheRequestID(t *testing.T) {
	srv := startJetStream(t)
	bus := connectJetStream(t, srv, "c1")
	got := make(chan [2]string, 10)
	subscribeRequestIDs(t, bus, got)
	if m := roundTrip(t, bus, got, `{"id":"t1"}`, "buy-1"); m != [2]string{`{"id":"t1"}`, "buy-1"} {
		t.Fatalf("delivered %q with request id %q, want the payload as published and buy-1", m[0], m[1])
	}
	if m := roundTrip(t, bus, got, `{"id":"t2"}`, ""); m != [2]string{`{"id":"t2"}`, ""} {
		t.Fatalf("delivered %q with request id %q, want none", m[0], m[1])
	}
	// What the publisher sent is a header, not a field: another NATS client
	// reads it as such.
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stored, err := js.Stream(t.Context(), jsbus.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stored.GetMsg(t.Context(), 1)
	if err != nil || raw.Header.Get("X-Request-Id") != "buy-1" || string(raw.Data) != `{"id":"t1"}` {
		t.Fatalf("stored message %+v, %v", raw, err)
	}
}

// NATS Streaming messages have no headers: the id is not carried, and
// publishing with one is no error.
func TestNATSStreamingCarriesNoRequestID(t *testing.T) {
	bus := connectSTAN(t, startSTAN(t, ""), "c1")
	got := make(chan [2]string, 10)
	subscribeRequestIDs(t, bus, got)
	if m := roundTrip(t, bus, got, `{"id":"t1"}`, "buy-1"); m != [2]string{`{"id":"t1"}`, ""} {
		t.Fatalf("delivered %q with request id %q, want the payload and no id", m[0], m[1])
	}
}

// roundTrip publishes data with the request id id in the context (none if
// empty) and returns what the handler got: the payload and its context's id.
func roundTrip(t *testing.T, bus events.Bus, got <-chan [2]string, data, id string) [2]string {
	t.Helper()
	if err := bus.Publish(logging.WithRequestID(t.Context(), id), events.SubjectTicketUpdated, []byte(data)); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		return m
	case <-time.After(20 * time.Second):
		t.Fatalf("%s not delivered", data)
		return [2]string{}
	}
}

func subscribeRequestIDs(t *testing.T, bus events.Bus, got chan<- [2]string) {
	t.Helper()
	err := bus.Subscribe(events.Listener{Subject: events.SubjectTicketUpdated, QueueGroup: events.GroupOrders,
		Handler: func(ctx context.Context, m events.Message) error {
			got <- [2]string{string(m.Data), logging.RequestID(ctx)}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
}

// Both servers run side by side in one process (the dev stack and the
// transport tests do so).
func TestBothServersInOneProcess(t *testing.T) {
	s, j := startSTAN(t, ""), startJetStream(t)
	if s.URL() == j.URL() {
		t.Fatal("same address")
	}
	for _, bus := range []events.Bus{connectSTAN(t, s, "c1"), connectJetStream(t, j, "c1")} {
		got := make(chan string, 10)
		subscribeChan(t, bus, got)
		publishAndReceive(t, bus, got, "hello")
	}
}

func subscribeChan(t *testing.T, bus events.Bus, got chan<- string) {
	t.Helper()
	err := bus.Subscribe(events.Listener{Subject: events.SubjectTicketUpdated, QueueGroup: events.GroupOrders,
		Handler: func(_ context.Context, m events.Message) error { got <- string(m.Data); return nil }})
	if err != nil {
		t.Fatal(err)
	}
}

func publishAndReceive(t *testing.T, bus events.Bus, got <-chan string, data string) {
	t.Helper()
	if err := bus.Publish(t.Context(), events.SubjectTicketUpdated, []byte(data)); err != nil {
		t.Fatal(err)
	}
	receive(t, got, data)
}

func receive(t *testing.T, got <-chan string, data string) {
	t.Helper()
	select {
	case m := <-got:
		if m != data {
			t.Fatalf("got %q, want %q", m, data)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%q not delivered", data)
	}
}

// BenchmarkPublishToHandler measures one event's trip: from Publish (which
// waits for the server's ack) to the handler running, one at a time, on file
// stores, with 256-byte payloads.
func BenchmarkPublishToHandler(b *testing.B) {
	b.Run("stan", func(b *testing.B) {
		srv := startSTAN(b, b.TempDir())
		benchLatency(b, connectSTAN(b, srv, "bench"))
	})
	b.Run("jetstream", func(b *testing.B) {
		srv := startJetStream(b)
		benchLatency(b, connectJetStream(b, srv, "bench"))
	})
}

func benchLatency(b *testing.B, bus events.Bus) {
	arrived := make(chan time.Time, 1)
	err := bus.Subscribe(events.Listener{Subject: events.SubjectOrderCreated, QueueGroup: events.GroupExpiration,
		Handler: func(context.Context, events.Message) error { arrived <- time.Now(); return nil }})
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 256)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		copy(payload, strconv.Itoa(i))
		start := time.Now()
		if err := bus.Publish(b.Context(), events.SubjectOrderCreated, payload); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-arrived).Sub(start))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
