// Package ports hands out loopback TCP ports for servers a test or a stack
// starts, below the kernel's range for outgoing connections' local ports
// (ip_local_port_range, 32768–60999 by default) and clear of the fixed-port
// stacks (make run +0, e2e +1000, bench +2000, browser tests +3000:
// 3000–11111 and 27017–30105).
//
// A port asked of the kernel (":0", then closed) comes from the outgoing
// range, and any client socket could take it before its server binds it;
// seen in CI: a pod of a manifest run restarted 117 times on "address
// already in use". Ports here are never handed out twice by one process
// (the check's listener closes at once, so the kernel alone would not
// remember them), and each process starts at a random place in the range,
// so two test processes rarely meet.
package ports

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// Low and High bound the ports handed out.
const (
	Low  = 12000
	High = 26999
)

var state struct {
	sync.Mutex
	next   int
	handed map[int]bool
}

// Free returns a port in Low–High that is free now and that this process
// has not handed out before.
func Free() (int, error) {
	state.Lock()
	defer state.Unlock()
	if state.handed == nil {
		state.handed = map[int]bool{}
		state.next = Low + rand.IntN(High-Low)
	}
	for range High - Low + 1 {
		port := state.next
		state.next++
		if state.next > High {
			state.next = Low
		}
		if state.handed[port] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // in use
		}
		_ = ln.Close()
		state.handed[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("ports: no free port in %d–%d", Low, High)
}

// MustFree is Free for callers that cannot go on without a port.
func MustFree() int {
	p, err := Free()
	if err != nil {
		panic(err)
	}
	return p
}
