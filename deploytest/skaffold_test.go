package deploytest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	skyaml "github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/yaml"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/yamltags"

	"github.com/ticketing-go/ticketing/kit/services"
)

// skaffoldInfo is what the manifest checks need from skaffold.yaml.
type skaffoldInfo struct {
	cfg    *latest.SkaffoldConfig
	images map[string]bool
}

// loadSkaffold decodes skaffold.yaml strictly with Skaffold's own schema types
// and validates the yamltags (required fields, oneOf) the CLI validates.
func loadSkaffold(t *testing.T) skaffoldInfo {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "skaffold.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg latest.SkaffoldConfig
	if err := skyaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatalf("skaffold.yaml: strict decode: %v", err)
	}
	if err := yamltags.ValidateStruct(&cfg); err != nil {
		t.Fatalf("skaffold.yaml: %v", err)
	}
	if cfg.APIVersion != latest.Version {
		t.Fatalf("skaffold.yaml: apiVersion %s, want %s", cfg.APIVersion, latest.Version)
	}
	info := skaffoldInfo{cfg: &cfg, images: map[string]bool{}}
	for _, a := range cfg.Build.Artifacts {
		info.images[a.ImageName] = true
	}
	return info
}

func TestSkaffoldConfig(t *testing.T) {
	info := loadSkaffold(t)
	cfg := info.cfg
	var want []string
	for _, name := range services.Names() {
		want = append(want, "ticketing/"+name)
	}
	want = append(want, "ticketing/client", stripeMockImage)
	for _, img := range want {
		if !info.images[img] {
			t.Errorf("no artifact for image %s", img)
		}
	}
	if len(cfg.Build.Artifacts) != len(want) {
		t.Errorf("%d artifacts, want %d", len(cfg.Build.Artifacts), len(want))
	}
	if cfg.Build.LocalBuild == nil || cfg.Build.LocalBuild.Push == nil || *cfg.Build.LocalBuild.Push {
		t.Errorf("build.local.push must be false for the dev loop")
	}
	if cfg.Deploy.KubectlDeploy == nil {
		t.Errorf("deploy.kubectl missing")
	}
	if cfg.Render.Kustomize == nil || len(cfg.Render.Kustomize.Paths) != 1 || cfg.Render.Kustomize.Paths[0] != "infra/k8s/overlays/dev" {
		t.Errorf("manifests.kustomize.paths must be [infra/k8s/overlays/dev]")
	}
	for _, pf := range cfg.PortForward {
		if pf.Type != "service" {
			continue
		}
		if !strings.HasSuffix(pf.Name, "-srv") {
			t.Errorf("portForward %s: not one of the platform's Services", pf.Name)
		}
	}

	// Profiles: every kustomize path they switch to exists; prod pushes.
	profiles := map[string]bool{}
	for _, p := range cfg.Profiles {
		profiles[p.Name] = true
		for _, patch := range p.Patches {
			if !strings.HasPrefix(patch.Path, "/manifests/kustomize/paths/") || patch.Value == nil {
				continue
			}
			raw, err := skyaml.Marshal(patch.Value)
			if err != nil {
				t.Fatal(err)
			}
			var dir string
			if err := skyaml.UnmarshalStrict(raw, &dir); err != nil {
				t.Fatalf("profile %s: patch %s: %v", p.Name, patch.Path, err)
			}
			if _, err := os.Stat(filepath.Join(repoRoot, dir, "kustomization.yaml")); err != nil {
				t.Errorf("profile %s: kustomize path %s: %v", p.Name, dir, err)
			}
		}
	}
	if !profiles["prod"] {
		t.Errorf("no prod profile")
	}
	checkProdDropsStripeMock(t, cfg)

	// Dockerfiles exist, build from the repo root, and their Go targets build.
	work := workspaceModules(t)
	var goTargets []string
	built := map[string]bool{}
	for _, a := range cfg.Build.Artifacts {
		if a.Workspace != "." {
			t.Errorf("%s: context %q, want . (the repository root)", a.ImageName, a.Workspace)
		}
		if a.DockerArtifact == nil {
			t.Errorf("%s: not a docker artifact", a.ImageName)
			continue
		}
		df := a.DockerArtifact.DockerfilePath
		text, err := os.ReadFile(filepath.Join(repoRoot, df))
		if err != nil {
			t.Errorf("%s: %v", a.ImageName, err)
			continue
		}
		svc := strings.TrimPrefix(a.ImageName, "ticketing/")
		if a.ImageName == stripeMockImage {
			if df != "infra/stripe-mock/Dockerfile" {
				t.Errorf("%s: dockerfile %s, want infra/stripe-mock/Dockerfile", a.ImageName, df)
			}
			checkStripeMockDockerfile(t, string(text))
			continue
		}
		if svc == "client" {
			if df != "client/Dockerfile" {
				t.Errorf("%s: dockerfile %s, want client/Dockerfile", a.ImageName, df)
			}
			checkClientDockerfile(t, string(text))
			if got := a.DockerArtifact.BuildArgs["NEXT_PUBLIC_STRIPE_KEY"]; got == nil || *got != "{{.NEXT_PUBLIC_STRIPE_KEY}}" {
				t.Errorf("%s: buildArgs must pass NEXT_PUBLIC_STRIPE_KEY from the environment ({{.NEXT_PUBLIC_STRIPE_KEY}})", a.ImageName)
			}
			continue
		}
		if _, ok := services.Named(svc); !ok {
			t.Errorf("%s: not a service of kit/services", a.ImageName)
		}
		if df != serviceDockerfile {
			t.Errorf("%s: dockerfile %s, want %s (one for every Go service)", a.ImageName, df, serviceDockerfile)
		}
		if got := a.DockerArtifact.BuildArgs["SERVICE"]; got == nil || *got != svc {
			t.Errorf("%s: buildArgs must set SERVICE: %s", a.ImageName, svc)
		}
		built[svc] = true
		goTargets = append(goTargets, checkGoDockerfile(t, df, string(text), svc, work))
	}
	for _, name := range services.Names() {
		if !built[name] {
			t.Errorf("service %s (kit/services) has no artifact in skaffold.yaml", name)
		}
	}
	goTargets = append(goTargets, checkBackupArtifact(t, cfg))
	// The same build the Dockerfiles run (workspace mode, static, trimmed).
	cmd := exec.Command("go", append([]string{"build", "-trimpath"}, goTargets...)...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go build %v: %v\n%s", goTargets, err, out)
	}
}

// overlayArtifacts: the images skaffold builds when it deploys overlay ov
// (the artifacts of ov's profile), after checking that the profile deploys
// ov. An image an overlay runs and its profile does not build is never
// pushed: the pods would pull a tag no registry has.
func overlayArtifacts(t *testing.T, cfg *latest.SkaffoldConfig, ov overlaySpec) map[string]bool {
	t.Helper()
	if ov.profile != "" {
		cfg = withProfile(t, cfg, ov.profile)
	}
	want := "infra/k8s/overlays/" + ov.name
	if cfg.Render.Kustomize == nil || len(cfg.Render.Kustomize.Paths) != 1 || cfg.Render.Kustomize.Paths[0] != want {
		t.Fatalf("overlay %s: skaffold profile %q does not deploy %s", ov.name, ov.profile, want)
	}
	images := map[string]bool{}
	for _, a := range cfg.Build.Artifacts {
		images[a.ImageName] = true
	}
	return images
}

// The backup and restore CronJobs' image: mongobackup (common/cmd/mongobackup)
// on the replica sets' mongo image, a stage of serviceDockerfile.
const (
	backupImage   = "ticketing/mongobackup"
	backupTarget  = "mongobackup"
	backupPackage = "common/cmd/mongobackup"
)

// checkBackupArtifact: every profile whose overlay runs the backup
// CronJobs builds backupImage from serviceDockerfile's stage backupTarget
// with the tool's package, and that stage adds the tool to the very image
// the replica sets run (so the nodes have its layers and its mongorestore
// matches the servers). It returns the package to build.
func checkBackupArtifact(t *testing.T, cfg *latest.SkaffoldConfig) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(repoRoot, serviceDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	for _, ov := range overlays {
		if !ov.auth { // the overlays with backups (checkBackups)
			continue
		}
		var art *latest.Artifact
		for _, a := range withProfile(t, cfg, ov.profile).Build.Artifacts {
			if a.ImageName == backupImage {
				art = a
			}
		}
		if art == nil {
			t.Errorf("profile %s: no artifact %s (overlay %s's backup CronJobs run it)", ov.profile, backupImage, ov.name)
			continue
		}
		if d := art.DockerArtifact; d == nil || d.DockerfilePath != serviceDockerfile || d.Target != backupTarget ||
			d.BuildArgs["SERVICE"] == nil || *d.BuildArgs["SERVICE"] != backupPackage || art.Workspace != "." {
			t.Errorf("profile %s: %s must build %s, target %s, SERVICE: %s, context .", ov.profile, backupImage, serviceDockerfile, backupTarget, backupPackage)
		}
		b, err := decode(render(t, ov.name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range b.statefulSets {
			if c := containerNamed(&s.Spec.Template, "mongo"); c != nil && !strings.Contains(string(text), "\nFROM "+c.Image+" AS "+backupTarget+"\n") {
				t.Errorf("%s: the stage %s must be FROM %s (overlay %s's StatefulSet %s)", serviceDockerfile, backupTarget, c.Image, ov.name, s.Name)
			}
		}
	}
	return "./" + backupPackage
}

// serviceDockerfile builds every Go service, chosen by the SERVICE build
// argument.
const serviceDockerfile = "infra/service.Dockerfile"

var distrolessRE = regexp.MustCompile(`(?m)^FROM gcr\.io/distroless/static-debian12:nonroot@sha256:[0-9a-f]{64}$`)

var goBuildRE = regexp.MustCompile(`go build .*-trimpath .*-gcflags="\$\{SKAFFOLD_GO_GCFLAGS\}".* (\./\$\{SERVICE\})\s*$`)

// checkGoDockerfile returns the package the Dockerfile builds.
func checkGoDockerfile(t *testing.T, df, text, svc string, work []string) string {
	t.Helper()
	// An exact tag, so a rebuild cannot change compilers under us.
	if !strings.Contains(text, "FROM golang:1.26.8 AS build") {
		t.Errorf("%s: build stage must be FROM golang:1.26.8 AS build", df)
	}
	// The golang image's GOPATH is /go: a cache mounted anywhere else is
	// never reused.
	if !strings.Contains(text, "--mount=type=cache,target=/go/pkg/mod") || strings.Contains(text, "/root/go/pkg/mod") {
		t.Errorf("%s: the module cache mount must be /go/pkg/mod (the golang image's GOPATH)", df)
	}
	// Pinned by digest: a floating tag would change the runtime under a
	// rebuild.
	if !distrolessRE.MatchString(text) {
		t.Errorf("%s: runtime must be gcr.io/distroless/static-debian12:nonroot pinned by digest (@sha256:<64 hex>)", df)
	}
	if !strings.Contains(text, "ARG SERVICE") {
		t.Errorf("%s: ARG SERVICE missing (the build argument naming the service)", df)
	}
	if !strings.Contains(text, "CGO_ENABLED=0") {
		t.Errorf("%s: CGO_ENABLED=0 missing", df)
	}
	// Workspace-mode builds need go.work, go.work.sum and every used module's go.mod.
	copies := map[string]bool{}
	target := ""
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, "\\\n", " ")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if f := strings.Fields(line); len(f) > 2 && f[0] == "COPY" && !strings.HasPrefix(f[1], "--from") {
			for _, src := range f[1 : len(f)-1] {
				copies[strings.TrimSuffix(src, "/")] = true
			}
		}
		if m := goBuildRE.FindStringSubmatch(line); m != nil {
			target = m[1]
		}
	}
	for _, need := range []string{"go.work", "go.work.sum", "common", "${SERVICE}"} {
		if !copies[need] {
			t.Errorf("%s: does not COPY %s", df, need)
		}
	}
	for _, mod := range work {
		if !copies[mod+"/go.mod"] && !copies[mod] {
			t.Errorf("%s: does not COPY %s/go.mod (module in go.work)", df, mod)
		}
	}
	if target != "./${SERVICE}" {
		t.Errorf("%s: go build target %q, want ./${SERVICE} with -trimpath and SKAFFOLD_GO_GCFLAGS", df, target)
	}
	return "./" + svc
}

// checkProdDropsStripeMock: prod pays through real Stripe, so its profile
// must not build (and push) the stripe-mock image.
func checkProdDropsStripeMock(t *testing.T, cfg *latest.SkaffoldConfig) {
	t.Helper()
	index := -1
	for i, a := range cfg.Build.Artifacts {
		if a.ImageName == stripeMockImage {
			index = i
		}
	}
	for _, name := range []string{"prod", "prod-stan"} {
		removed := false
		for _, p := range cfg.Profiles {
			if p.Name != name {
				continue
			}
			for _, patch := range p.Patches {
				removed = removed || (patch.Op == "remove" && patch.Path == "/build/artifacts/"+strconv.Itoa(index))
			}
		}
		if !removed {
			t.Errorf("the %s profile must remove %s (build.artifacts[%d])", name, stripeMockImage, index)
		}
	}
}

// checkStripeMockDockerfile: an exactly pinned build image, the version
// kit/go.mod pins, no floating runtime base; and the same build runs here.
func checkStripeMockDockerfile(t *testing.T, text string) {
	t.Helper()
	for _, want := range []string{"FROM golang:1.26.8 AS build", "COPY kit/go.mod kit/go.sum ./", "GOWORK=off", "CGO_ENABLED=0",
		"go build -trimpath -ldflags=\"-s -w\" -o /out/stripe-mock github.com/stripe/stripe-mock", "FROM scratch", "USER 65532:65532"} {
		if !strings.Contains(text, want) {
			t.Errorf("infra/stripe-mock/Dockerfile: missing %q", want)
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "stripe-mock"), "github.com/stripe/stripe-mock")
	cmd.Dir = filepath.Join(repoRoot, "kit")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the stripe-mock image's build: %v\n%s", err, out)
	}
}

func checkClientDockerfile(t *testing.T, text string) {
	t.Helper()
	arg, build := strings.Index(text, "ARG NEXT_PUBLIC_STRIPE_KEY"), strings.Index(text, "RUN npm run build")
	if arg < 0 || build < 0 || arg > build || !strings.Contains(text, "ENV NEXT_PUBLIC_STRIPE_KEY=${NEXT_PUBLIC_STRIPE_KEY}") {
		t.Errorf("client/Dockerfile: ARG NEXT_PUBLIC_STRIPE_KEY and ENV NEXT_PUBLIC_STRIPE_KEY=${NEXT_PUBLIC_STRIPE_KEY} must come before RUN npm run build")
	}
	for _, want := range []string{"npm ci", "npm run build", ".next/standalone", "server.js", "USER 65532:65532"} {
		if !strings.Contains(text, want) {
			t.Errorf("client/Dockerfile: missing %q", want)
		}
	}
	pkg, err := os.ReadFile(filepath.Join(repoRoot, "client", "package.json"))
	if err != nil || !bytes.Contains(pkg, []byte(`"build":`)) {
		t.Errorf("client/package.json has no build script: %v", err)
	}
	conf, err := os.ReadFile(filepath.Join(repoRoot, "client", "next.config.mjs"))
	if err != nil || !bytes.Contains(conf, []byte(`output: 'standalone'`)) {
		t.Errorf("client/next.config.mjs must set output: 'standalone': %v", err)
	}
}

// workspaceModules lists the directories in go.work's use block.
func workspaceModules(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	inUse := false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "use ("):
			inUse = true
		case inUse && line == ")":
			inUse = false
		case inUse && line != "":
			mods = append(mods, strings.TrimPrefix(line, "./"))
		}
	}
	if len(mods) == 0 {
		t.Fatal("go.work: no use block")
	}
	return mods
}
