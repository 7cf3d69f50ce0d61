package bustest

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/stanbus"
	"github.com/ticketing-go/ticketing/kit/natskit"
)

func TestNATSStreaming(t *testing.T) {
	srv, err := natskit.StartSTAN(natskit.Options{Dir: t.TempDir(), HBInterval: 500 * time.Millisecond, HBTimeout: 500 * time.Millisecond, HBFail: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	n := 0
	Run(t, Transport{
		Connect: func(t *testing.T, clientID string) events.Bus {
			n++
			b, err := stanbus.Connect(t.Context(), stanbus.Config{URL: srv.URL(), ClusterID: srv.ClusterID(),
				ClientID: clientID, Log: slog.New(slog.DiscardHandler), PingInterval: 1, PingMaxOut: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		},
		Restart: func(t *testing.T) {
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
		},
	})
}
