package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/services"
)

// makeServicesRE finds the Makefile's list of service binaries.
var makeServicesRE = regexp.MustCompile(`(?m)^SERVICES\s*:=\s*(.+)$`)

// checkMakeServices reports where the Makefile's SERVICES differs from the
// services' table (kit/services).
func checkMakeServices(makefile string) string {
	m := makeServicesRE.FindStringSubmatch(makefile)
	if m == nil {
		return "Makefile: no SERVICES := line"
	}
	if got, want := strings.Join(strings.Fields(m[1]), " "), strings.Join(services.Names(), " "); got != want {
		return "Makefile: SERVICES is " + got + ", kit/services lists " + want
	}
	return ""
}

// TestMakefileBuildsTheTablesServices: make build (which the dev stack, the
// e2e tests and the bench run) builds the services of the table, and a
// Makefile that drifts from it is caught.
func TestMakefileBuildsTheTablesServices(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if problem := checkMakeServices(string(b)); problem != "" {
		t.Fatal(problem)
	}
	drifted := strings.Replace(string(b), " payments", "", 1)
	if checkMakeServices(drifted) == "" {
		t.Fatal("a Makefile without payments in SERVICES was accepted")
	}
}
