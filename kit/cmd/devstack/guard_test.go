package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/poll"
)

// The test binary doubles as the guard and as the child it watches.
func TestMain(m *testing.M) {
	if os.Getenv("DEVSTACK_TEST_HELPER") == "1" {
		switch os.Args[1] {
		case guardArg:
			os.Exit(runGuard(os.Args[2:], os.Stdin, os.Stderr))
		case "child":
			fmt.Println(os.Getpid())
			// A stand-in for a service: it runs until stopped, with a
			// bound so a broken guard cannot leave it behind for long.
			<-time.After(2 * time.Minute)
			os.Exit(3)
		}
	}
	os.Exit(m.Run())
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return signalZero(p) == nil
}

// The guard is what stops devstack's children on macOS and Windows, which
// have no parent-death signal: when devstack dies, however it dies, the OS
// closes its end of the guard's stdin, and the child must stop. The test runs
// the guard on every OS, Linux included, so make test exercises that path.
func TestGuardStopsTheChildWhenTheStackDies(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	guard := exec.Command(self, guardArg, self, "child")
	guard.Env = append(os.Environ(), "DEVSTACK_TEST_HELPER=1")
	lifeline, err := guard.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := guard.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := guard.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the child's pid: %v", err)
	}
	go func() { exited <- guard.Wait() }()
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child's pid %q: %v", line, err)
	}
	if !alive(pid) {
		t.Fatalf("child %d not running before the lifeline closed", pid)
	}

	_ = lifeline.Close() // what the OS does when devstack dies

	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = guard.Process.Kill()
		t.Fatal("the guard did not exit after its stdin closed")
	}
	poll.Until(t, 10*time.Second, func() bool { return !alive(pid) }, "child %d to stop", pid)
}

func TestLifelineStopsTheStackAtEndOfFile(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go watchLifeline(r, func() { close(stopped) })
	select {
	case <-stopped:
		t.Fatal("stopped while the parent still holds the lifeline")
	default:
	}
	_ = w.Close()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the stack did not stop when its lifeline closed")
	}
}
