package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// linuxOnly is a call that compiles only on Linux: the parent-death signal
// the dev stack, the e2e tests and the bench once set unconditionally.
const linuxOnly = `package main

import (
	"os/exec"
	"syscall"
)

func child() *exec.Cmd {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd
}
`

// TestCrossBuildCatchesLinuxOnlyCode runs make cross — the step of make
// test that builds every module for macOS and Windows — on a module with a
// planted Linux-only call, in a command and in a test, and on the same module
// with the call behind a build tag, as the repository's code does it.
func TestCrossBuildCatchesLinuxOnlyCode(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs go vet for three platforms")
	}
	make := func(t *testing.T, module string) (string, error) {
		cmd := exec.Command("make", "--no-print-directory", "-C", repoRoot, "cross", "MODULES="+module)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	module := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		files["go.mod"] = "module planted\n\ngo 1.26\n"
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	mainGo := "package main\n\nfunc main() { _ = child() }\n"
	for name, files := range map[string]map[string]string{
		"in a command": {"main.go": mainGo, "child.go": linuxOnly},
		"in a test": {"main.go": "package main\n\nfunc main() {}\n",
			"child_test.go": linuxOnly},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := make(t, module(t, files))
			if err == nil || !strings.Contains(out, "Pdeathsig") {
				t.Errorf("make cross passed a Linux-only call (err %v):\n%s", err, out)
			}
		})
	}
	t.Run("behind a build tag", func(t *testing.T) {
		out, err := make(t, module(t, map[string]string{
			"main.go":        mainGo,
			"child_linux.go": "//go:build linux\n\n" + linuxOnly,
			"child_other.go": "//go:build !linux\n\npackage main\n\nimport \"os/exec\"\n\nfunc child() *exec.Cmd { return exec.Command(\"true\") }\n",
		}))
		if err != nil {
			t.Errorf("make cross failed on portable code: %v\n%s", err, out)
		}
	})
}
