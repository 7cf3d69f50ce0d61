package events

import (
	"context"
	"log/slog"
	"time"
)

// On builds a listener whose handler receives the decoded payload T. A
// message that cannot be decoded can never succeed; it is logged and
// acknowledged so it does not come back forever.
func On[T any](subject, group string, ackWait time.Duration, log *slog.Logger, fn func(ctx context.Context, payload T) error) Listener {
	return Listener{Subject: subject, QueueGroup: group, AckWait: ackWait, Handler: func(ctx context.Context, m Message) error {
		v, err := Decode[T](m)
		if err != nil {
			log.Error("dropping undecodable event", "subject", m.Subject, "seq", m.Sequence, "err", err)
			return nil
		}
		return fn(ctx, v)
	}}
}
