package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/gen"
	"github.com/ticketing-go/ticketing/kit/services"
)

// TestGeneratedFilesAreCurrent: every file that lists the services (the
// Makefile's SERVICES, skaffold.yaml, go.work, the manifests) is what its
// template renders from kit/services, so the table is the one list and an
// edit of a generated file, or a table change without `make generate`, is
// caught here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	problems, err := gen.Check(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("run `make generate`:\n%s", strings.Join(problems, "\n"))
	}
}

// TestMakefileTakesTheTablesServices: make build (which the dev stack, the
// e2e tests and the bench run) builds the services the generated
// services.mk lists, not a list of its own.
func TestMakefileTakesTheTablesServices(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\ninclude kit/services/services.mk\n") {
		t.Fatal("Makefile does not include kit/services/services.mk")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "SERVICES") && strings.Contains(line, "=") {
			t.Fatalf("Makefile sets SERVICES itself: %q", line)
		}
	}
}

// TestServicesBuildOutsideTheWorkspace: each service's go.mod is complete
// on its own (README, "How common is versioned": GOWORK=off compiles the
// common of the same commit through the replace), so a service can be
// built, vendored or tidied without the workspace.
func TestServicesBuildOutsideTheWorkspace(t *testing.T) {
	for _, name := range services.Names() {
		cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
		cmd.Dir = filepath.Join(repoRoot, name)
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: GOWORK=off go build: %v\n%s", name, err, out)
		}
	}
}
