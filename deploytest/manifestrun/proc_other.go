//go:build unix && !linux

package manifestrun

import "syscall"

// childAttr: its own process group (no parent-death signal here: the run
// stops its children itself).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
