// Package eventbus connects a service to the event bus its configuration
// names — NATS Streaming (default) or JetStream — so services never know
// which transport runs.
package eventbus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
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
	// NATS_USER and NATS_PASSWORD authenticate to the server (prod: each
	// service has its own user and permissions); NATS_PASSWORD_FILE reads
	// the password from a file instead (a mounted Secret).
	User         string `env:"NATS_USER"`
	Password     string `env:"NATS_PASSWORD"`
	PasswordFile string `env:"NATS_PASSWORD_FILE"`
	// StreamConfig (JetStream) is the JSON definition of the stream to
	// create if it is missing: replicas and limits (jsbus.Config.StreamFile).
	StreamConfig string `env:"NATS_STREAM_CONFIG"`
}

// credentials resolves the password, checking the pair is complete.
func (cfg Config) credentials() (user, password string, err error) {
	password = cfg.Password
	if cfg.PasswordFile != "" {
		if password != "" {
			return "", "", fmt.Errorf("NATS_PASSWORD and NATS_PASSWORD_FILE: set one")
		}
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return "", "", fmt.Errorf("NATS_PASSWORD_FILE: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if (cfg.User == "") != (password == "") {
		return "", "", fmt.Errorf("NATS_USER and NATS_PASSWORD: set both or neither")
	}
	return cfg.User, password, nil
}

// Connect connects to the configured bus, waiting for it to come up.
func Connect(ctx context.Context, cfg Config, log *slog.Logger) (events.Bus, error) {
	user, password, err := cfg.credentials()
	if err != nil {
		return nil, err
	}
	// Each case checks err itself: returning a nil *Bus as events.Bus would
	// give a non-nil interface.
	switch cfg.Kind {
	case "stan":
		if cfg.ClusterID == "" {
			return nil, fmt.Errorf("NATS_CLUSTER_ID: required with EVENT_BUS=stan")
		}
		if cfg.StreamConfig != "" {
			return nil, fmt.Errorf("NATS_STREAM_CONFIG: only with EVENT_BUS=jetstream")
		}
		b, err := stanbus.Connect(ctx, stanbus.Config{URL: cfg.URL, ClusterID: cfg.ClusterID, ClientID: cfg.ClientID, Log: log, AckWait: cfg.AckWait,
			User: user, Password: password})
		if err != nil {
			return nil, err
		}
		return b, nil
	case "jetstream":
		b, err := jsbus.Connect(ctx, jsbus.Config{URL: cfg.URL, ClientID: cfg.ClientID, Log: log, AckWait: cfg.AckWait,
			User: user, Password: password, StreamFile: cfg.StreamConfig})
		if err != nil {
			return nil, err
		}
		return b, nil
	default:
		return nil, fmt.Errorf("EVENT_BUS: %q is not a known event bus (stan, jetstream)", cfg.Kind)
	}
}
