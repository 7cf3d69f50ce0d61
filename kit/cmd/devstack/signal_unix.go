//go:build unix

package main

import (
	"os"
	"syscall"
)

// terminate asks a child (and its process group) to shut down gracefully.
func terminate(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill ends a child and its process group at once.
func kill(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }

// stopGently is how the guard stops the child it watches.
func stopGently(p *os.Process) { _ = p.Signal(syscall.SIGTERM) }

// signalZero checks that a process exists without disturbing it.
func signalZero(p *os.Process) error { return p.Signal(syscall.Signal(0)) }
