package poll_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/poll"
)

// recorder stands in for the test so a failing Until can be observed.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	poll.Until(t, time.Minute, func() bool { calls++; return calls == 3 }, "third call")
	if calls != 3 {
		t.Fatalf("condition checked %d times, want 3", calls)
	}
}

func TestUntilFailsTheTestWithTheMessageAtTheDeadline(t *testing.T) {
	r := &recorder{TB: t}
	start := time.Now()
	poll.Until(r, 50*time.Millisecond, func() bool { return false }, "order %s to expire", "o1")
	if !strings.Contains(r.failed, "order o1 to expire") || !strings.Contains(r.failed, "50ms") {
		t.Fatalf("failure message %q", r.failed)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Fatalf("gave up after %v, before the deadline", elapsed)
	}
}

func TestUntilWithoutMessage(t *testing.T) {
	r := &recorder{TB: t}
	poll.Until(r, 0, func() bool { return false })
	if r.failed == "" {
		t.Fatal("a condition that never holds did not fail the test")
	}
}

func TestWait(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		timeout time.Duration
		cond    func(calls int) (bool, error)
		want    error
	}{
		{"returns nil once the condition holds", time.Minute, func(n int) (bool, error) { return n == 3, nil }, nil},
		{"stops at the first error", time.Minute, func(n int) (bool, error) { return false, boom }, boom},
		{"gives up when the context ends", 30 * time.Millisecond, func(int) (bool, error) { return false, nil }, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			calls := 0
			err := poll.Wait(ctx, time.Millisecond, func() (bool, error) { calls++; return tt.cond(calls) })
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
