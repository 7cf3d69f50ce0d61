package main

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// throttle slows down failures per key with growing delays: after burst
// failures the key must wait delay, and each failure after that doubles the
// wait, up to maxDelay. Once a key's wait is over, each further quiet delay
// forgets one failure, so a person who mistyped a few times is soon back to
// a clean slate while a guesser who keeps going waits ever longer.
type throttle struct {
	mu       sync.Mutex
	keys     map[string]*strikes
	burst    int
	delay    time.Duration
	maxDelay time.Duration
	lastGC   time.Time
}

type strikes struct {
	failures int
	last     time.Time // the last failure
	until    time.Time // no attempt before this
}

func newThrottle(burst int, delay, maxDelay time.Duration) *throttle {
	return &throttle{keys: map[string]*strikes{}, burst: max(burst, 1), delay: delay, maxDelay: max(maxDelay, delay)}
}

// wait returns how long key must still wait, or 0.
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.keys[key]; s != nil && now.Before(s.until) {
		return s.until.Sub(now)
	}
	return 0
}

// fail records a failure of key.
func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gc(now)
	s := t.keys[key]
	if s == nil {
		s = &strikes{}
		t.keys[key] = s
	}
	s.failures = t.remaining(s, now) + 1
	s.last = now
	if over := s.failures - t.burst; over >= 0 {
		d := t.maxDelay
		if over < 30 && t.delay<<over < t.maxDelay {
			d = t.delay << over
		}
		s.until = now.Add(d)
	}
}

// forget clears key (its owner got in).
func (t *throttle) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// remaining is the failures of s still remembered at now: one is forgotten
// per delay of quiet after the later of its last failure and its wait.
func (t *throttle) remaining(s *strikes, now time.Time) int {
	quiet := now.Sub(s.last)
	if w := now.Sub(s.until); w < quiet {
		quiet = w
	}
	if quiet <= 0 {
		return s.failures
	}
	return max(0, s.failures-int(quiet/t.delay))
}

// gc drops keys with nothing left to remember, at most once per delay, so
// memory follows recent failures rather than every address ever seen.
func (t *throttle) gc(now time.Time) {
	if now.Sub(t.lastGC) < t.delay {
		return
	}
	t.lastGC = now
	for k, s := range t.keys {
		if t.remaining(s, now) == 0 {
			delete(t.keys, k)
		}
	}
}

// signinLimiter throttles failed sign-ins per (e-mail, client address) and
// per client address — never per e-mail alone, since then anyone could lock
// anyone out by failing on their e-mail: the owner, from their own address,
// is held up only by their own failures.
type signinLimiter struct {
	pair, addr *throttle
	now        func() time.Time
}

func newSigninLimiter(burst, addrBurst int, delay, maxDelay time.Duration) *signinLimiter {
	return &signinLimiter{pair: newThrottle(burst, delay, maxDelay), addr: newThrottle(addrBurst, delay, maxDelay), now: time.Now}
}

// blocked returns how long to wait before another attempt, or 0.
func (l *signinLimiter) blocked(email, ip string) time.Duration {
	now, a := l.now(), addressKey(ip)
	return max(l.pair.wait(email+"\x00"+a, now), l.addr.wait(a, now))
}

// fail records a failed attempt for the pair and the address.
func (l *signinLimiter) fail(email, ip string) {
	now, a := l.now(), addressKey(ip)
	l.pair.fail(email+"\x00"+a, now)
	l.addr.fail(a, now)
}

// succeeded clears the pair's failures. The address keeps its count, or
// one valid account would let its owner guess others' passwords freely.
func (l *signinLimiter) succeeded(email, ip string) {
	l.pair.forget(email + "\x00" + addressKey(ip))
}

// addressLimiter is a token bucket per client address: burst requests, then
// one more per interval.
type addressLimiter struct {
	mu       sync.Mutex
	keys     map[string]*rate.Limiter
	burst    int
	interval time.Duration
	lastGC   time.Time
	now      func() time.Time
}

func newAddressLimiter(burst int, interval time.Duration) *addressLimiter {
	return &addressLimiter{keys: map[string]*rate.Limiter{}, burst: max(burst, 1), interval: interval, now: time.Now}
}

// take spends one request of ip's allowance, or returns how long to wait.
func (l *addressLimiter) take(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, key := l.now(), addressKey(ip)
	if now.Sub(l.lastGC) >= l.interval {
		l.lastGC = now
		for k, lim := range l.keys {
			if lim.TokensAt(now) >= float64(lim.Burst()) {
				delete(l.keys, k)
			}
		}
	}
	lim := l.keys[key]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(l.interval), l.burst)
		l.keys[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// addressKey is what a client address is counted by: IPv4 addresses one by
// one, IPv6 by their /64, since one subscriber commonly holds a whole /64
// and could otherwise take a fresh address for every attempt.
func addressKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
