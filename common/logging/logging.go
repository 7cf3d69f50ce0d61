// Package logging builds the JSON slog logger every service writes to stdout,
// and carries the request id (the correlation id of docs/contract.md,
// "Events") in a context.Context, so that every line logged with a *Context
// method about a request — or about an event that request caused, in any
// service — names it as request_id.
package logging

import (
	"context"
	"io"
	"log/slog"
)

// RequestIDHeader is the HTTP header of a request's id, and the NATS header
// (JetStream) that carries it on every event the request caused.
const RequestIDHeader = "X-Request-Id"

// RequestIDKey is the log attribute that names the request id.
const RequestIDKey = "request_id"

// New returns a JSON logger at level that tags every line with the service,
// and every line logged with a context that carries a request id with it.
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	return slog.New(Handler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))).With("service", service)
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying id. An id that is not ValidRequestID
// (empty, too long, not printable) is not carried: ctx is returned as it is,
// so an id from the network can neither forge log lines nor grow headers.
func WithRequestID(ctx context.Context, id string) context.Context {
	if !ValidRequestID(id) {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ValidRequestID reports an id worth keeping: 1 to 128 printable ASCII
// characters without spaces.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// Handler wraps h so that a record logged with a context carrying a request
// id gets it as request_id (unless the record names one already). Like any
// attribute of the record, it lands inside a logger's WithGroup group.
func Handler(h slog.Handler) slog.Handler { return requestIDHandler{h} }

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !hasRequestID(r) {
		r = r.Clone()
		r.AddAttrs(slog.String(RequestIDKey, id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

func hasRequestID(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == RequestIDKey
		return !found
	})
	return found
}
