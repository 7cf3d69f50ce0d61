package natskit_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/stan.go"

	"github.com/ticketing-go/ticketing/kit/natskit"
)

func TestSTANRestartsOnTheSameAddressAndStore(t *testing.T) {
	srv, err := natskit.StartSTAN(natskit.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL()
	sc, err := stan.Connect(srv.ClusterID(), "c1", stan.NatsURL(url))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Publish("ticket:created", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	_ = sc.Close()

	srv.Stop()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.URL() != url || srv.ClusterID() != "ticketing" {
		t.Fatalf("after restart %s %s, before %s", srv.URL(), srv.ClusterID(), url)
	}
	sc, err = stan.Connect(srv.ClusterID(), "c2", stan.NatsURL(url))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	got := make(chan string, 1)
	if _, err := sc.Subscribe("ticket:created", func(m *stan.Msg) { got <- string(m.Data) }, stan.DeliverAllAvailable()); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "kept" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message did not survive the restart")
	}
}

func TestJetStreamRestartsOnTheSameAddressAndStore(t *testing.T) {
	srv := natskit.TestJetStream(t)
	url := srv.URL()
	streamCount := func() int {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		if _, err := js.CreateOrUpdateStream(t.Context(), jetstream.StreamConfig{Name: "S", Subjects: []string{"ticket:created"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(t.Context(), "ticket:created", []byte("kept")); err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(t.Context(), "S")
		if err != nil {
			t.Fatal(err)
		}
		return int(s.CachedInfo().State.Msgs)
	}
	if n := streamCount(); n != 1 {
		t.Fatalf("%d messages", n)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if srv.URL() != url {
		t.Fatalf("after restart %s, before %s", srv.URL(), url)
	}
	if n := streamCount(); n != 2 {
		t.Fatalf("%d messages after the restart, want the kept one and a new one", n)
	}
}
