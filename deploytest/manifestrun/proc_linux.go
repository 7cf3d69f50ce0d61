//go:build linux

package manifestrun

import "syscall"

// childAttr: its own process group, and SIGTERM when this process dies, so
// no container outlives the run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
