package deploytest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// exactRef matches an image reference that cannot move under us: a digest,
// or a tag naming a full version (1.2.3, optionally with a suffix such as
// -bookworm-slim). "mongo:7.0", "node:20", "nats" and ":nonroot" float:
// the same manifest deploys something else next month.
var exactRef = regexp.MustCompile(`@sha256:[0-9a-f]{64}$|:v?[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)*$`)

// floatingAllowed: references still floating, each with the reason and who
// pins it (none today; the Go services' distroless runtime is pinned by
// digest in infra/service.Dockerfile). An entry no longer needed fails the
// test.
var floatingAllowed = map[string]string{}

// floats says whether an image reference can move. The platform's own
// images (ticketing/*) are built and tagged by Skaffold from this commit.
func floats(ref string) bool {
	return !strings.HasPrefix(ref, "ticketing/") && !exactRef.MatchString(ref)
}

// floatingImages lists "where: ref" for every floating reference: the
// images of every overlay's pods and every FROM of every Dockerfile.
func floatingImages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, ov := range overlays {
		b, err := decode(render(t, ov.name))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range b.workloads() {
			for _, c := range append(append([]corev1.Container{}, w.tmpl.Spec.InitContainers...), w.tmpl.Spec.Containers...) {
				if floats(c.Image) {
					out = append(out, fmt.Sprintf("overlay %s %s %s: %s", ov.name, w.kind, w.name, c.Image))
				}
			}
		}
	}
	files, err := exec.Command("git", "-C", repoRoot, "ls-files", "--cached", "--others", "--exclude-standard", "*Dockerfile").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(files)) {
		refs, err := dockerfileBases(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range refs {
			if floats(ref) {
				out = append(out, f+": "+ref)
			}
		}
	}
	sort.Strings(out)
	return out
}

// dockerfileBases returns the images a Dockerfile's FROM lines pull (not
// its own earlier stages, not scratch).
func dockerfileBases(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stages := map[string]bool{"scratch": true}
	var refs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || !strings.EqualFold(fields[0], "FROM") {
			continue
		}
		args := fields[1:]
		for len(args) > 0 && strings.HasPrefix(args[0], "--") { // --platform=…
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		if !stages[strings.ToLower(args[0])] {
			refs = append(refs, args[0])
		}
		if len(args) == 3 && strings.EqualFold(args[1], "AS") {
			stages[strings.ToLower(args[2])] = true
		}
	}
	return refs, sc.Err()
}

// TestNoImageFloats: every image a manifest or Dockerfile names is an
// exact version or a digest (the issue's node:20, mongo:7.0, nats:2.10 and
// :nonroot moved under the platform).
func TestNoImageFloats(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range floatingImages(t) {
		if floatingAllowed[f] != "" {
			seen[f] = true
			continue
		}
		t.Errorf("floating image: %s (pin an exact version tag or a digest)", f)
	}
	for _, f := range sortedKeys(floatingAllowed) {
		if !seen[f] {
			t.Errorf("floatingAllowed lists %q, which no longer floats: remove the entry", f)
		}
	}
}

func TestFloatsCatchesTheIssuesImages(t *testing.T) {
	for ref, want := range map[string]bool{
		"node:20": true, "mongo:7.0": true, "nats": true, "nats:2.10": true, "nats:latest": true,
		"gcr.io/distroless/nodejs20-debian12:nonroot": true, "golang:1.26": true,
		"mongo:7.0.16": false, "nats-streaming:0.25.6": false, "node:22.20.0-bookworm-slim": false, "golang:1.26.8": false,
		"gcr.io/distroless/static-debian12@sha256:" + strings.Repeat("ab", 32): false,
		"ticketing/auth": false,
	} {
		if floats(ref) != want {
			t.Errorf("floats(%q) = %v, want %v", ref, !want, want)
		}
	}
}

// TestNATSImagesAreTheServersTheRunUses: the manifest-driven run
// (manifestrun) replaces the NATS images by the servers of the modules this
// module pins; the images must be those same versions, or the run proves
// another server than the cluster runs.
func TestNATSImagesAreTheServersTheRunUses(t *testing.T) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := func(module string) string {
		m := regexp.MustCompile(regexp.QuoteMeta(module) + ` v([0-9.]+)`).FindSubmatch(gomod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", module)
		}
		return string(m[1])
	}
	want := map[string]string{
		"nats-streaming": version("github.com/nats-io/nats-streaming-server"),
		"nats":           version("github.com/nats-io/nats-server/v2"),
	}
	for _, ov := range overlays {
		b, err := decode(render(t, ov.name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range b.statefulSets {
			for _, c := range s.Spec.Template.Spec.Containers {
				name, tag, _ := strings.Cut(c.Image, ":")
				if v, ok := want[name]; ok && tag != v {
					t.Errorf("overlay %s: StatefulSet %s runs %s; the manifest-driven run tests %s:%s (go.mod)", ov.name, s.Name, c.Image, name, v)
				}
			}
		}
	}
}
