package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// guardArg, as devstack's first argument, makes it a guard: it runs the
// command that follows and stops it once its own stdin reaches end of file.
// devstack holds the other end of that pipe, and the OS closes it however
// devstack ends (Ctrl-C, a crash, kill -9), so a child never outlives the
// stack — the parent-death signal's job on systems that lack one.
const guardArg = "-guard"

// runGuard runs args[0] with args[1:], inheriting the guard's directory,
// environment and output, and returns the child's exit code.
func runGuard(args []string, lifeline io.Reader, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "devstack -guard: no command")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// A terminating signal to the guard stops the child the same way.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "devstack -guard:", err)
		return 1
	}
	go func() {
		_, _ = io.Copy(io.Discard, lifeline)
		stopGently(cmd.Process)
	}()
	go func() {
		<-sigs
		stopGently(cmd.Process)
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	default: // ended by a signal
		return 1
	}
}

// watchLifeline calls stop once r reaches end of file: with -stdin-lifeline,
// how a parent that has no parent-death signal to rely on (the e2e tests and
// the bench on macOS or Windows) ties the stack's life to its own.
func watchLifeline(r io.Reader, stop func()) {
	_, _ = io.Copy(io.Discard, r)
	stop()
}
