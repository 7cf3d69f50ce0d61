package stripekit

import "syscall"

// A mock shared by a test process is never stopped explicitly: have the
// kernel kill it when its parent dies, so none outlives `go test`.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
