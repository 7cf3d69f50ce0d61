//go:build linux

package main

import "syscall"

// guarded: on Linux the kernel stops a child when devstack dies, however it
// dies (parent-death signal), so no guard process sits in between.
const guarded = false

// childAttr puts each child in its own process group, so stopping it also
// stops whatever it started, and asks for SIGTERM when devstack dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
