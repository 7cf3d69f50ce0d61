// Package eventbus connects a service to the event bus its configuration
// names — NATS Streaming (default) or JetStream — so services never know
// which transport runs.
package eventbus

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/jsbus"
	"github.com/ticketing-go/ticketing/common/events/stanbus"
)

// Config is the bus part of a service's environment.
type Config struct {
	Kind      string        `env:"EVENT_BUS" envDefault:"stan"`
	URL       string        `env:"NATS_URL,required,notEmpty"`
	ClusterID string        `env:"NATS_CLUSTER_ID"`
	ClientID  string        `env:"NATS_CLIENT_ID,required,notEmpty"`
	AckWait   time.Duration `env:"ACK_WAIT" envDefault:"5s"`
}

// Connect connects to the configured bus, waiting for it to come up.
func Connect(ctx context.Context, cfg Config, log *slog.Logger) (events.Bus, error) {
	// Each case checks err itself: returning a nil *Bus as events.Bus would
	// give a non-nil interface.
	switch cfg.Kind {
	case "stan":
		if cfg.ClusterID == "" {
			return nil, fmt.Errorf("NATS_CLUSTER_ID: required with EVENT_BUS=stan")
		}
		b, err := stanbus.Connect(ctx, stanbus.Config{URL: cfg.URL, ClusterID: cfg.ClusterID, ClientID: cfg.ClientID, Log: log, AckWait: cfg.AckWait})
		if err != nil {
			return nil, err
		}
		return b, nil
	case "jetstream":
		b, err := jsbus.Connect(ctx, jsbus.Config{URL: cfg.URL, ClientID: cfg.ClientID, Log: log, AckWait: cfg.AckWait})
		if err != nil {
			return nil, err
		}
		return b, nil
	default:
		return nil, fmt.Errorf("EVENT_BUS: %q is not a known event bus (stan, jetstream)", cfg.Kind)
	}
}
