package ports_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/ports"
)

// Ports must not come from the range the kernel gives outgoing
// connections (a client socket could take one before its server binds it),
// and never twice.
func TestFreePortsStayBelowTheOutgoingRange(t *testing.T) {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	// A port held by someone else is skipped.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	seen := map[int]bool{}
	for range 300 {
		p, err := ports.Free()
		if err != nil {
			t.Fatal(err)
		}
		if p >= low {
			t.Fatalf("port %d is in the outgoing range (from %d)", p, low)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		_ = ln.Close()
	}
}
