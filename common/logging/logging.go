// Package logging builds the JSON slog logger every service writes to stdout.
package logging

import (
	"io"
	"log/slog"
)

// New returns a JSON logger at level that tags every line with the service.
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}
