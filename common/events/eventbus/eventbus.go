// Package eventbus connects the transport that EVENT_BUS selects. It is the
// one place that knows both transports, so services depend on events.Bus
// alone.
package eventbus

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/jsbus"
	"github.com/ticketing-go/ticketing/common/events/stanbus"
)

// Connect connects to the bus of cfg.Bus ("stan", the default, or
// "jetstream"), retrying until ctx ends.
func Connect(ctx context.Context, cfg events.Config, log *slog.Logger) (events.Bus, error) {
	// Each case checks err itself: returning a nil *Bus as events.Bus would
	// give a non-nil interface.
	switch cfg.Bus {
	case "", "stan":
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
	}
	return nil, fmt.Errorf("eventbus: EVENT_BUS=%q: want stan or jetstream", cfg.Bus)
}
