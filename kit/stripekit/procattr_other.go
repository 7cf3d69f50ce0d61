//go:build !linux

package stripekit

import "syscall"

// Only Linux has a parent-death signal; elsewhere a shared mock outlives
// the test process until killed.
func sysProcAttr() *syscall.SysProcAttr { return nil }
