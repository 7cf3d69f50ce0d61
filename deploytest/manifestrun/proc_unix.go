//go:build unix

package manifestrun

import (
	"os"
	"syscall"
)

// terminate sends SIGTERM to the child's process group, as the kubelet
// signals a container; kill ends it.
func terminate(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGTERM) }
func kill(p *os.Process)      { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
