package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ticketing-go/ticketing/kit/gen"
	"github.com/ticketing-go/ticketing/kit/services"
)

// sixthRootEnv, when set, is a copy of the repository rendered with
// sixthService added to the table: the test binary then checks that copy.
const sixthRootEnv = "DEPLOYTEST_SIXTH_SERVICE_ROOT"

// sixthService is a service the platform does not have, shaped like orders
// (an API route, a user session, the bus, a setting of its own).
var sixthService = services.Service{
	Name: "reviews", Port: 3106, MongoPort: 27106, Route: "/api/reviews",
	Required:   []string{"JWT_KEY", "MONGO_URI", "NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"},
	ClusterEnv: []services.Var{{Name: "REVIEWS_PER_PAGE", Value: "20"}},
	Listens:    []string{"order:completed"},
}

// sixthSubsetRun are the checks run on the rendered copy: every overlay
// with every check of TestOverlays (databases, their users and backups,
// network policies, the JetStream cluster's accounts), Skaffold's
// artifacts and profiles, the Gateway API routes, and the generated files.
const sixthSubsetRun = "^(TestOverlays|TestSkaffoldConfig|TestClientSyncProfile|TestGatewayAPIEqualsTheIngress|TestGatewayRoutesEqualEveryOverlaysIngress|TestGeneratedFilesAreCurrent|TestMakefileTakesTheTablesServices|TestMonitoringComponentRendersWithProd|TestSizing)$"

func TestMain(m *testing.M) {
	if root := os.Getenv(sixthRootEnv); root != "" {
		repoRoot = root
		services.All = append(slices.Clone(services.All), sixthService)
		goServices, ingressRoutes, prodSecrets = tableGoServices(), tableIngressRoutes(), tableProdSecrets()
		overlays = overlaysFor(prodSecrets)
	}
	os.Exit(m.Run())
}

// TestASixthServiceIsATableEntry: a service added to kit/services, and
// nothing else but `make generate`, gets everything the five have in every
// overlay. The repository's tracked files are copied, rendered with
// sixthService in the table, and this test binary runs the manifests'
// checks against the copy, which would fail for a service missing its
// Deployment, route, database, database user, backup, network policy or
// bus account. Its folder here is a stand-in program.
func TestASixthServiceIsATableEntry(t *testing.T) {
	if os.Getenv(sixthRootEnv) != "" {
		t.Skip("this is the run on the copy")
	}
	root := t.TempDir()
	tracked, err := exec.Command("git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(tracked), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Its own folder: a module with a program (the checks build it).
	for rel, content := range map[string]string{
		"reviews/go.mod":  "module github.com/ticketing-go/ticketing/reviews\n\ngo 1.26.0\n",
		"reviews/main.go": "// Command reviews stands for a sixth service's code.\npackage main\n\nfunc main() {}\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	six := append(slices.Clone(services.All), sixthService)
	changed, err := gen.WriteFor(root, six)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated for %s: %s", sixthService.Name, strings.Join(changed, ", "))

	// The rendered copy names the new service where it names orders.
	for _, want := range []string{
		"infra/k8s/base/services/reviews.yaml", "infra/k8s/base/mongo/reviews/kustomization.yaml",
	} {
		if _, err := os.Stat(filepath.Join(root, want)); err != nil {
			t.Errorf("no %s: %v", want, err)
		}
	}

	cmd := exec.Command(os.Args[0], "-test.run", sixthSubsetRun, "-test.count=1")
	cmd.Env = append(os.Environ(), sixthRootEnv+"="+root)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the checks on the platform with %s: %v\n%s", sixthService.Name, err, out.String())
	}
	// The copy's run saw the sixth service: a render without it fails the
	// checks (the planted case of this test).
	if testing.Short() {
		return
	}
	if _, err := gen.WriteFor(root, services.All); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run", "^TestOverlays$", "-test.count=1")
	cmd.Env = append(os.Environ(), sixthRootEnv+"="+root)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "reviews") {
		t.Fatalf("the checks passed with %s in the table but not in the manifests:\n%s", sixthService.Name, out)
	}
}
