// Package poll waits for a condition by checking it repeatedly until a
// deadline, so tests never sleep a guessed amount of time.
package poll

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Interval is how often Until checks its condition: short enough to add
// little latency to a test, long enough not to spin a core.
const Interval = 10 * time.Millisecond

// Until checks cond every Interval until it returns true, and fails the test
// (t.Fatalf, so call it from the test's goroutine) if that has not happened
// within timeout. msgAndArgs, if given, is a format string and its arguments
// describing what was awaited.
func Until(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(Interval)
	defer ticker.Stop()
	for {
		if cond() {
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("poll: condition not met within %v%s", timeout, describe(msgAndArgs))
			return
		}
		<-ticker.C
	}
}

func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return ": " + fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return ": " + fmt.Sprint(msgAndArgs...)
}

// Wait checks cond every interval until it reports true (Wait returns nil),
// returns an error (Wait returns it: a condition that cannot become true
// should not be retried until the deadline), or ctx ends (Wait returns the
// context's error).
func Wait(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("poll: %w", context.Cause(ctx))
		case <-ticker.C:
		}
	}
}
