package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// offset keeps the bench stack clear of `make run` (+0), the e2e tests (+1000)
// and the browser tests (+3000). Every port stays below 32768, where the
// kernel picks outgoing connections' ports (ip_local_port_range): a port in
// that range can be taken by any client socket and fail the listener.
const offset = 2000

// ports of the bench stack (devstack's defaults plus offset).
var (
	gatewayURL = fmt.Sprintf("http://127.0.0.1:%d", 8080+offset)
	direct     = map[string]string{
		"auth": fmt.Sprintf("http://127.0.0.1:%d", 3101+offset), "tickets": fmt.Sprintf("http://127.0.0.1:%d", 3102+offset),
		"orders": fmt.Sprintf("http://127.0.0.1:%d", 3103+offset), "expiration": fmt.Sprintf("http://127.0.0.1:%d", 3104+offset),
		"payments": fmt.Sprintf("http://127.0.0.1:%d", 3105+offset),
	}
	mongoURI = map[string]string{
		"tickets": fmt.Sprintf("mongodb://127.0.0.1:%d/tickets", 27102+offset),
		"orders":  fmt.Sprintf("mongodb://127.0.0.1:%d/orders", 27103+offset),
	}
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
func startStack(root string, bus string) (st *stack, err error) {
	for range 3 {
		if st, err = startStackOnce(root, bus); err == nil {
			return st, nil
		}
		fmt.Fprintln(os.Stderr, "bench: starting the stack:", err)
	}
	return nil, err
}

func startStackOnce(root string, bus string) (*stack, error) {
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "bin")
	// The binaries make run runs, built the same way.
	build := exec.Command("make", "--no-print-directory", "build", "devstack", "BIN="+bin)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make build devstack: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(tmp, "devstack.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "devstack"), "-data", filepath.Join(tmp, "data"), "-bin", bin,
		"-port-offset", fmt.Sprint(offset), "-ingress", filepath.Join(root, "infra/k8s/base/ingress.yaml"), "-client", filepath.Join(tmp, "none"),
		"-stdin-lifeline") // the stack dies with the bench on every OS
	// Every bench user signs up from this one address.
	cmd.Env = append(os.Environ(), "EXPIRATION_WINDOW=2s", "LOG_LEVEL=error", "EVENT_BUS="+bus, "SIGNUP_BURST=10000")
	cmd.Stdout, cmd.Stderr = logf, logf
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	st := &stack{pid: cmd.Process.Pid, bin: bin, log: logf.Name(), stop: func() {
		_ = lifeline.Close() // the stack shuts down in order
		<-exited
		_ = os.RemoveAll(tmp)
	}}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("the stack exited: %v\n%s", err, out)
		default:
		}
		if resp, err := http.Get(gatewayURL + "/api/users/currentuser"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return st, nil
			}
		}
	}
	st.stop()
	return nil, fmt.Errorf("bench stack did not start")
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
