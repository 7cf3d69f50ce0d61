package main

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/svctest"
)

// liveHeap is the heap still reachable after a full collection.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Issue 13, item 1: a signed-up user could make a service hold ~1 GB by
// sending a huge foreign cookie beside a valid session, varied each time.
// 1,000 such requests (256 KB each) through the real service must leave the
// live heap within 20 MB of idle.
func TestBigCookiesBesideSessionsDoNotPinMemory(t *testing.T) {
	c := boot(t)
	junk := "junk=" + strings.Repeat("j", 256<<10)
	c.Do(t, "GET", "/api/users/currentuser", nil) // warm up the route
	idle := liveHeap()
	for i := range 1000 {
		cookie := junk + "; " + svctest.SessionCookie(t, testKey, fmt.Sprintf("%024x", i+1), fmt.Sprint("u", i, "@x.io"))
		r := c.Do(t, "GET", "/api/users/currentuser", nil, "Cookie", cookie)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), fmt.Sprint(`"u`, i, `@x.io"`)) {
			t.Fatalf("request %d: %d %.200s", i, r.Status, r.Body)
		}
	}
	after := liveHeap()
	grown := int64(after) - int64(idle)
	t.Logf("live heap: idle %.1f MB, after 1,000 requests %.1f MB (%+.1f MB)", mb(idle), mb(after), float64(grown)/(1<<20))
	if grown > 20<<20 {
		t.Fatalf("live heap grew by %.1f MB, want under 20 MB", float64(grown)/(1<<20))
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }
