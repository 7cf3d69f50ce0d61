package main

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"
)

// POST /stop/<name> ends that child's process group and marks its exit as
// wanted; an unknown name is a 404.
func TestControlStopsOneComponent(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = childAttr() // its own process group, as the stack starts components
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	s := &stack{out: io.Discard, procs: map[string]*exec.Cmd{"orders": cmd}, stopped: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := s.serveControl(t.Context(), addr); err != nil {
		t.Fatal(err)
	}
	post := func(path string) int {
		t.Helper()
		resp, err := http.Post("http://"+addr+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("/stop/nothing"); got != http.StatusNotFound {
		t.Fatalf("unknown component: %d", got)
	}
	if got := post("/stop/orders"); got != http.StatusNoContent {
		t.Fatalf("stop: %d", got)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the component is still running")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped["orders"] {
		t.Fatal("its exit is not marked as wanted")
	}
}
