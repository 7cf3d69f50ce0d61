package main

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter counts failed sign-ins per e-mail and per client address. Each key
// may fail burst times; the allowance refills one attempt per interval.
// Successful sign-ins cost nothing.
type limiter struct {
	mu       sync.Mutex
	byEmail  map[string]*rate.Limiter
	byIP     map[string]*rate.Limiter
	burst    int
	ipBurst  int
	interval time.Duration
	lastGC   time.Time
}

func newLimiter(burst, ipBurst int, interval time.Duration) *limiter {
	return &limiter{byEmail: map[string]*rate.Limiter{}, byIP: map[string]*rate.Limiter{},
		burst: burst, ipBurst: ipBurst, interval: interval, lastGC: time.Now()}
}

// blocked returns how long to wait before another attempt, or 0.
func (l *limiter) blocked(email, ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	return max(wait(l.byEmail[email], now), wait(l.byIP[ip], now))
}

func wait(lim *rate.Limiter, now time.Time) time.Duration {
	if lim == nil || lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// fail records a failed attempt for both keys.
func (l *limiter) fail(email, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.gc(now)
	take(l.byEmail, email, l.burst, l.interval, now)
	take(l.byIP, ip, l.ipBurst, l.interval, now)
}

func take(m map[string]*rate.Limiter, key string, burst int, interval time.Duration, now time.Time) {
	lim, ok := m[key]
	if !ok {
		lim = rate.NewLimiter(rate.Every(interval), burst)
		m[key] = lim
	}
	lim.AllowN(now, 1)
}

// gc forgets keys whose allowance has fully refilled, so memory stays bounded
// by recent failures rather than by every address ever seen.
func (l *limiter) gc(now time.Time) {
	if now.Sub(l.lastGC) < l.interval {
		return
	}
	l.lastGC = now
	for _, m := range []map[string]*rate.Limiter{l.byEmail, l.byIP} {
		for k, lim := range m {
			if lim.TokensAt(now) >= float64(lim.Burst()) {
				delete(m, k)
			}
		}
	}
}
