package main

import (
	"testing"
	"time"
)

// Issue 13, item 3: after the allowed failures each further failure waits
// twice as long as the one before, up to the longest wait; quiet time
// forgets failures one by one.
func TestThrottleDelaysGrow(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := newThrottle(3, time.Minute, 10*time.Minute)
	for range 2 {
		th.fail("k", now)
		if w := th.wait("k", now); w != 0 {
			t.Fatalf("within the allowance: wait %v", w)
		}
	}
	var waits []time.Duration
	for range 6 {
		th.fail("k", now)
		w := th.wait("k", now)
		waits = append(waits, w)
		now = now.Add(w) // the guesser tries again as soon as allowed
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
	if w := th.wait("k", now); w != 0 {
		t.Fatalf("after the wait: %v", w)
	}
	if w := th.wait("other", now); w != 0 {
		t.Fatalf("another key: %v", w)
	}
	// Quiet time forgets: 8 failures, 8 quiet minutes, a clean slate.
	now = now.Add(8 * time.Minute)
	th.fail("k", now)
	if w := th.wait("k", now); w != 0 {
		t.Fatalf("after a long quiet, one failure waits %v", w)
	}
	th.gc(now.Add(time.Hour))
	if len(th.keys) != 0 {
		t.Fatalf("nothing to remember, yet %d keys kept", len(th.keys))
	}
}

func TestSigninLimiterKeys(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := newSigninLimiter(2, 100, time.Minute, time.Hour)
	l.now = func() time.Time { return now }
	l.fail("v@x.io", "203.0.113.9")
	l.fail("v@x.io", "203.0.113.9")
	if l.blocked("v@x.io", "203.0.113.9") == 0 {
		t.Fatal("the guessing address is not held up")
	}
	if w := l.blocked("v@x.io", "198.51.100.7"); w != 0 {
		t.Fatalf("the owner's address waits %v for someone else's failures", w)
	}
	// One IPv6 subscriber (a /64) is one address.
	l.fail("w@x.io", "2001:db8:1:2::1")
	l.fail("w@x.io", "2001:db8:1:2::ffff")
	if l.blocked("w@x.io", "2001:db8:1:2:aaaa::9") == 0 {
		t.Fatal("a new address in the same /64 escaped")
	}
	if l.blocked("w@x.io", "2001:db8:1:3::1") != 0 {
		t.Fatal("another /64 is held up")
	}
	// Getting in clears the pair.
	l.fail("u@x.io", "192.0.2.1")
	l.succeeded("u@x.io", "192.0.2.1")
	l.fail("u@x.io", "192.0.2.1")
	if l.blocked("u@x.io", "192.0.2.1") != 0 {
		t.Fatal("a failure before a success still counted")
	}
}
