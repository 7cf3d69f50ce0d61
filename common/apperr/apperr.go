// Package apperr is the platform's one error type and its mapping to the
// error envelope of docs/contract.md, "HTTP": {"errors":[{"message":"...","field":"..."}]}.
//
// Handlers return *Error values (or wrap them); a single middleware renders
// them. Anything that is not an *Error becomes a 500 with a generic message,
// and its cause is logged, never sent to the client.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// FieldError is one entry of the envelope. Field is set only for validation
// errors and names the JSON key the client sent.
type FieldError struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Envelope is the JSON body of every error response.
type Envelope struct {
	Errors []FieldError `json:"errors"`
}

// Error is an error with an HTTP status and the entries the client sees.
type Error struct {
	Status  int
	Entries []FieldError
	// RetryAfter, when positive, is sent as a Retry-After header (429).
	RetryAfter time.Duration
	// Cause is kept for the log only.
	Cause error
}

func (e *Error) Error() string {
	msg := http.StatusText(e.Status)
	if len(e.Entries) > 0 {
		msg = e.Entries[0].Message
	}
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, msg, e.Cause)
	}
	return fmt.Sprintf("%d %s", e.Status, msg)
}

func (e *Error) Unwrap() error { return e.Cause }

// Envelope returns the body to send.
func (e *Error) Envelope() Envelope { return Envelope{Errors: e.Entries} }

// Header returns extra response headers for this error.
func (e *Error) Header() http.Header {
	h := http.Header{}
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	return h
}

func newError(status int, msg string) *Error {
	return &Error{Status: status, Entries: []FieldError{{Message: msg}}}
}

// Validation is a 400 with one entry per failed rule.
func Validation(fields ...FieldError) *Error {
	return &Error{Status: http.StatusBadRequest, Entries: fields}
}

// BadRequest is a 400 for a business rule the request broke.
func BadRequest(msg string) *Error { return newError(http.StatusBadRequest, msg) }

// NotAuthorized is the 401 for "not signed in" and "not the owner".
func NotAuthorized() *Error { return newError(http.StatusUnauthorized, "Not authorized") }

// NotFound is the 404 for unknown resources and routes.
func NotFound() *Error { return newError(http.StatusNotFound, "Not Found") }

// Conflict is the 409 of a lost optimistic-concurrency race.
func Conflict(what string) *Error {
	return newError(http.StatusConflict, what+" was changed by someone else; reload it and retry")
}

// TooManyRequests is a 429 with a Retry-After.
func TooManyRequests(msg string, retryAfter time.Duration) *Error {
	e := newError(http.StatusTooManyRequests, msg)
	e.RetryAfter = retryAfter
	return e
}

// TooLarge is the 413 for a body over the limit.
func TooLarge() *Error { return newError(http.StatusRequestEntityTooLarge, "Request body too large") }

// UnsupportedMediaType is the 415 for a body that is not of the type the
// API reads; the message names the type it wants.
func UnsupportedMediaType(want string) *Error {
	return newError(http.StatusUnsupportedMediaType, "Content-Type must be "+want)
}

// Forbidden is the 403 for a request refused for where it came from (a
// cross-site form), not for who sent it.
func Forbidden(msg string) *Error { return newError(http.StatusForbidden, msg) }

// Unavailable is the 503 when a dependency (database, event bus) is down.
func Unavailable(cause error) *Error {
	e := newError(http.StatusServiceUnavailable, "Service temporarily unavailable, please retry")
	e.Cause = cause
	return e
}

// Internal is the generic 500; the cause goes to the log only.
func Internal(cause error) *Error {
	e := newError(http.StatusInternalServerError, "Something went wrong")
	e.Cause = cause
	return e
}

// From returns err as an *Error, treating anything unknown as Internal.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
