//go:build !unix

package main

import (
	"os"
	"syscall"
)

// guarded: Windows has no parent-death signal; a guard process (see
// guard.go) stops the child when devstack's end of its stdin closes.
const guarded = true

func childAttr() *syscall.SysProcAttr { return nil }

// Windows cannot deliver SIGTERM to another process: stopping is killing.
// (The services then skip their drain, which only matters in a cluster.)
func terminate(p *os.Process)  { _ = p.Kill() }
func kill(p *os.Process)       { _ = p.Kill() }
func stopGently(p *os.Process) { _ = p.Kill() }

// signalZero: Windows cannot probe a process with a signal; waiting on it
// with no time is the nearest equivalent, and is only used by the tests.
func signalZero(p *os.Process) error {
	h, err := syscall.OpenProcess(syscall.SYNCHRONIZE, false, uint32(p.Pid))
	if err != nil {
		return err
	}
	defer syscall.CloseHandle(h)
	if ev, _ := syscall.WaitForSingleObject(h, 0); ev == syscall.WAIT_OBJECT_0 {
		return os.ErrProcessDone
	}
	return nil
}
