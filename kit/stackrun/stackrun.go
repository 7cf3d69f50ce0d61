// Package stackrun starts the dev stack (`make run`'s kit/cmd/devstack) for
// a test or a tool: it builds the binaries as `make build devstack` does,
// runs the stack on fresh data at a port offset, tied to this process by
// its stdin, and waits until the gateway answers. The e2e tests and the
// bench use it.
//
// It imports only the standard library and kit/services, so a module that
// uses it takes none of the kit's servers with it.
package stackrun

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/ticketing-go/ticketing/kit/services"
)

// Options say how to run the stack.
type Options struct {
	// Root is the repository's root.
	Root string
	// Offset is added to every port (e2e 1000, bench 2000, browser 3000).
	Offset int
	// Env is added to this process's environment for the stack.
	Env []string
	// Ready is how long to wait for the gateway (a cold stripe-mock build
	// takes minutes); zero means 5 minutes.
	Ready time.Duration
	// Prefix names the temporary directory ("e2e-", "bench-").
	Prefix string
}

// Stack is a running dev stack.
type Stack struct {
	// Gateway is the gateway's URL.
	Gateway string
	// Bin holds the service binaries, Log the stack's output.
	Bin, Log string
	// PID is the devstack process (it runs the embedded databases and bus).
	PID    int
	offset int
	stop   func()
}

// URL is where the stack serves the named service directly.
func (s *Stack) URL(name string) string {
	svc, _ := services.Named(name)
	return svc.URL(s.offset)
}

// MongoURI is the named service's database in the stack.
func (s *Stack) MongoURI(name string) string {
	svc, _ := services.Named(name)
	return svc.MongoURI(s.offset)
}

// Offset is the stack's port offset.
func (s *Stack) Offset() int { return s.offset }

// Stop shuts the stack down in order and removes its data.
func (s *Stack) Stop() { s.stop() }

// GatewayURL is the gateway's URL at a port offset (devstack's default
// 8080 plus offset).
func GatewayURL(offset int) string { return fmt.Sprintf("http://127.0.0.1:%d", 8080+offset) }

// Start builds and starts the stack and waits until it serves.
func Start(o Options) (*Stack, error) {
	tmp, err := os.MkdirTemp("", o.Prefix)
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "bin")
	// The binaries make run runs, built the same way.
	build := exec.Command("make", "--no-print-directory", "build", "devstack", "BIN="+bin)
	build.Dir = o.Root
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("make build devstack: %v\n%s", err, out)
	}
	logs, err := os.Create(filepath.Join(tmp, "devstack.log"))
	if err != nil {
		return nil, err
	}
	// -stdin-lifeline: the stack stops when this process dies, however it
	// dies, on every OS (the OS closes our end of its stdin).
	cmd := exec.Command(filepath.Join(bin, "devstack"), "-data", filepath.Join(tmp, "data"), "-bin", bin,
		"-port-offset", fmt.Sprint(o.Offset), "-ingress", filepath.Join(o.Root, "infra/k8s/base/ingress.yaml"),
		"-client", filepath.Join(tmp, "no-client"), "-stdin-lifeline")
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	lifeline, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	st := &Stack{Gateway: GatewayURL(o.Offset), Bin: bin, Log: logs.Name(), PID: cmd.Process.Pid, offset: o.Offset}
	st.stop = func() {
		_ = lifeline.Close() // the stack shuts down in order
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = logs.Close()
		_ = os.RemoveAll(tmp)
	}
	wait := o.Ready
	if wait == 0 {
		wait = 5 * time.Minute
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logs.Name())
			_ = os.RemoveAll(tmp)
			return nil, fmt.Errorf("devstack exited: %v\n%s", err, out)
		default:
		}
		if resp, err := http.Get(st.Gateway + "/api/users/currentuser"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return st, nil
			}
		}
	}
	st.stop()
	return nil, errors.New("the stack did not come up")
}
