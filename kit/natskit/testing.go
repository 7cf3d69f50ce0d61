package natskit

import (
	"testing"
	"time"
)

// Test starts a NATS Streaming server of the test's own (memory store, fast
// heartbeats), so services booted by different tests never share a durable
// queue group. dir, if given, selects a file store there.
func Test(t testing.TB, dir ...string) *STAN {
	t.Helper()
	o := Options{HBInterval: 500 * time.Millisecond, HBTimeout: 500 * time.Millisecond, HBFail: 2}
	if len(dir) > 0 {
		o.Dir = dir[0]
	}
	s, err := StartSTAN(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
