//go:build windows

package manifestrun

import (
	"os"
	"syscall"
)

// The manifest-driven run is for Linux and macOS; on Windows it builds
// (make cross) and stops children the hard way.
func childAttr() *syscall.SysProcAttr { return nil }
func terminate(p *os.Process)         { _ = p.Kill() }
func kill(p *os.Process)              { _ = p.Kill() }
