package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ticketing-go/ticketing/kit/services"
	"github.com/ticketing-go/ticketing/kit/stackrun"
)

// offset keeps the bench stack clear of `make run` (+0), the e2e tests (+1000)
// and the browser tests (+3000). Every port stays below 32768, where the
// kernel picks outgoing connections' ports (ip_local_port_range): a port in
// that range can be taken by any client socket and fail the listener.
const offset = 2000

// ports of the bench stack (devstack's defaults plus offset).
var (
	gatewayURL = stackrun.GatewayURL(offset)
	direct     = func() map[string]string {
		out := map[string]string{}
		for _, s := range services.All {
			out[s.Name] = s.URL(offset)
		}
		return out
	}()
	mongoURI = func() map[string]string {
		out := map[string]string{}
		for _, s := range services.All {
			out[s.Name] = s.MongoURI(offset)
		}
		return out
	}()
)

// stack is a running dev stack.
type stack struct {
	pid  int    // the devstack process (it also runs the embedded FerretDB)
	bin  string // where the service binaries are
	log  string // the devstack's output
	stop func()
}

// startStack builds the binaries and runs the dev stack on fresh data, with
// a short expiration window so expiry latency can be measured. A port the
// previous stack just let go of can still be taken for a moment: it tries
// three times.
func startStack(root string, bus string) (*stack, error) {
	var err error
	for range 3 {
		var st *stackrun.Stack
		// Every bench user signs up from this one address.
		st, err = stackrun.Start(stackrun.Options{Root: root, Offset: offset, Prefix: "bench-",
			Env: []string{"EXPIRATION_WINDOW=2s", "LOG_LEVEL=error", "EVENT_BUS=" + bus, "SIGNUP_BURST=10000"}})
		if err == nil {
			return &stack{pid: st.PID, bin: st.Bin, log: st.Log, stop: st.Stop}, nil
		}
		fmt.Fprintln(os.Stderr, "bench: starting the stack:", err)
	}
	return nil, err
}

// pidOf finds the process running the executable at path (0 if none). It
// reads Linux's /proc: elsewhere the CPU and RSS figures stay empty.
func pidOf(path string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if exe, err := os.Readlink(d + "/exe"); err == nil && exe == path {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// cpuTime is the CPU time a process has used so far, summed over its
// threads from /proc/<pid>/task/*/schedstat (nanoseconds, unlike the clock
// ticks of /proc/<pid>/stat).
func cpuTime(pid int) time.Duration {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended
		}
		var ns int64
		if _, err := fmt.Sscan(string(data), &ns); err == nil {
			total += time.Duration(ns)
		}
	}
	return total
}
