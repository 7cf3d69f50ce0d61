//go:build unix && !linux

package main

import "syscall"

// guarded: macOS and the BSDs have no parent-death signal; a guard process
// (see guard.go) stops the child when devstack's end of its stdin closes.
const guarded = true

// childAttr puts each child in its own process group, so stopping it also
// stops whatever it started.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
