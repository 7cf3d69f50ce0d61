package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ticketing-go/ticketing/kit/services"
)

// replicaOffset puts the second replicas' ports beside the stack's (tickets
// 3102+2000 → 5112, orders 5113): below 32768 and clear of the e2e (+1000)
// and browser (+3000) stacks.
const replicaOffset = offset + 10

// replica is a second process of a service, on the stack's database and bus.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startReplica runs another process of the named service from the stack's
// binaries, with what the dev stack gives its own (devstack main.go), and a
// client id of its own on the bus. The outbox's idle sweep runs at the
// production default (1 s): with the sweep's lease on one replica, the
// other's events are published by itself, at once, or they would wait for
// that sweep.
func startReplica(st *stack, name, bus string) (*replica, error) {
	svc, _ := services.Named(name)
	url := svc.URL(replicaOffset)
	cmd := exec.Command(filepath.Join(st.bin, name))
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(svc.Port+replicaOffset),
		"MONGO_URI="+svc.MongoURI(offset),
		"JWT_KEY=local-dev-only-secret", "COOKIE_SECURE=false",
		"NATS_URL=nats://127.0.0.1:"+strconv.Itoa(4222+offset), "NATS_CLUSTER_ID=ticketing", "NATS_CLIENT_ID="+name+"-replica-2",
		"EVENT_BUS="+bus, "EXPIRATION_WINDOW=2s", "LOG_LEVEL=error", "SHUTDOWN_DRAIN=0s",
		"LISTEN_HOST=127.0.0.1", "TRUSTED_PROXIES=127.0.0.1", "OUTBOX_IDLE_INTERVAL=1s")
	logf, err := os.Create(filepath.Join(filepath.Dir(st.log), name+"-replica-2.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &replica{name: name, url: url, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(r.done) }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-r.done:
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("%s replica exited during start-up:\n%s", name, out)
		default:
		}
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r, nil
			}
		}
	}
	r.stop()
	return nil, fmt.Errorf("%s replica not ready after 60 s", name)
}

// stop ends the replica: an interrupt (its orderly shutdown), then a kill.
func (r *replica) stop() {
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		_ = r.cmd.Process.Kill()
	}
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// twoReplicas measures ticket created → orderable with two processes each of
// tickets and orders on one database each, creates alternating between the
// two tickets processes, beside one: the same measure with one of each on
// the same stack just before.
func twoReplicas(st *stack, seller, bus string, one row) {
	var started []*replica
	defer func() {
		for _, r := range started {
			r.stop()
		}
	}()
	for _, name := range []string{"tickets", "orders"} {
		r, err := startReplica(st, name, bus)
		if err != nil {
			fail(err)
		}
		started = append(started, r)
	}
	two := eventLatency(seller, bus, "fresh stack after the row above, two processes each of tickets and orders (creates alternate between the tickets processes)",
		direct["tickets"], started[0].url)
	ratio := "n/a"
	if one.p99 > 0 {
		ratio = fmt.Sprintf("%.2f×", float64(two.p99)/float64(one.p99))
	}
	rows = append(rows, row{name: "two replicas / one: ticket created → orders replica p99", note: ratio + " (target ≤ 1.5×)"})
}
