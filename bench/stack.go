package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// offset keeps the bench stack clear of `make run` and of the e2e tests.
const offset = 30000

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

// startStack builds the binaries and runs the dev stack on fresh data, with
// a short expiration window so expiry latency can be measured.
func startStack(root string, bus string) (func(), error) {
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "bin")
	for _, b := range []struct{ dir, pkgs string }{{root, "./auth ./tickets ./orders ./expiration ./payments"}, {filepath.Join(root, "kit"), "./cmd/devstack"}} {
		cmd := exec.Command("sh", "-c", "go build -o "+bin+"/ "+b.pkgs)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	logf, err := os.Create(filepath.Join(tmp, "devstack.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(bin, "devstack"), "-data", filepath.Join(tmp, "data"), "-bin", bin,
		"-port-offset", fmt.Sprint(offset), "-ingress", filepath.Join(root, "infra/k8s/base/ingress.yaml"), "-client", filepath.Join(tmp, "none"))
	cmd.Env = append(os.Environ(), "EXPIRATION_WINDOW=2s", "LOG_LEVEL=error", "EVENT_BUS="+bus)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		_ = os.RemoveAll(tmp)
	}
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
				return stop, nil
			}
		}
	}
	stop()
	return nil, fmt.Errorf("bench stack did not start")
}
