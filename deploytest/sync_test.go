package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	skyaml "github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/yaml"
	yamlpatch "github.com/krishicks/yaml-patch"
)

// The client's file sync, applied as Skaffold applies the profile: the
// client builds its dev stage (next dev) and Skaffold syncs its sources into
// it; without the profile the client is the production image, no sync.
func TestClientSyncProfile(t *testing.T) {
	client := func(cfg *latest.SkaffoldConfig) *latest.Artifact {
		for _, a := range cfg.Build.Artifacts {
			if a.ImageName == "ticketing/client" {
				return a
			}
		}
		t.Fatal("no client artifact")
		return nil
	}
	plain := loadSkaffold(t).cfg
	if a := client(plain); a.Sync != nil || a.DockerArtifact.Target != "" {
		t.Errorf("without a profile the client must be the production image with no sync: target %q, sync %v", a.DockerArtifact.Target, a.Sync)
	}
	cfg := withProfile(t, loadSkaffold(t).cfg, "client-sync")
	a := client(cfg)
	if a.DockerArtifact.Target != "dev" {
		t.Errorf("client-sync: client target %q, want dev", a.DockerArtifact.Target)
	}
	synced := map[string]bool{}
	if a.Sync != nil {
		for _, r := range a.Sync.Manual {
			if r.Dest != "." || r.Strip != "client/" {
				t.Errorf("sync %s: dest %q strip %q, want . and client/ (the image's /app is client/)", r.Src, r.Dest, r.Strip)
			}
			synced[r.Src] = true
		}
	}
	for _, dir := range []string{"app", "components", "lib", "public"} {
		if !synced["client/"+dir+"/**"] {
			t.Errorf("client-sync: client/%s/** is not synced", dir)
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "client", dir)); err != nil {
			t.Errorf("client/%s: %v", dir, err)
		}
	}
	for _, other := range cfg.Build.Artifacts {
		if other.ImageName != "ticketing/client" && other.Sync != nil {
			t.Errorf("%s: synced, but only the client's artifact is", other.ImageName)
		}
	}
	if p := cfg.Render.Kustomize.Paths; len(p) != 1 || p[0] != "infra/k8s/overlays/dev-client-sync" {
		t.Errorf("client-sync deploys %v, want infra/k8s/overlays/dev-client-sync", p)
	}
	df, err := os.ReadFile(filepath.Join(repoRoot, "client", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(df)
	dev := strings.Index(text, "FROM build AS dev")
	last := strings.LastIndex(text, "\nFROM ")
	if dev < 0 || !strings.Contains(text[dev:], `"next", "dev"`) || last <= dev {
		t.Errorf("client/Dockerfile: a dev stage (FROM build AS dev) running next dev, before the production stage (the default target)")
	}
}

// withProfile applies a profile's patches as Skaffold does (its
// schema.applyProfile: the config marshalled, each patch applied with
// yaml-patch, the result decoded), strictly, so a patch that adds a field
// Skaffold does not know fails here.
func withProfile(t *testing.T, cfg *latest.SkaffoldConfig, name string) *latest.SkaffoldConfig {
	t.Helper()
	var profile *latest.Profile
	for i := range cfg.Profiles {
		if cfg.Profiles[i].Name == name {
			profile = &cfg.Profiles[i]
		}
	}
	if profile == nil {
		t.Fatalf("no profile %s", name)
	}
	buf, err := skyaml.Marshal(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range profile.Patches {
		op := p.Op
		if op == "" {
			op = "replace"
		}
		var value *yamlpatch.Node
		if p.Value != nil {
			value = &p.Value.Node
		}
		buf, err = yamlpatch.Patch([]yamlpatch.Operation{{Op: yamlpatch.Op(op), Path: yamlpatch.OpPath(p.Path), From: yamlpatch.OpPath(p.From), Value: value}}).Apply(buf)
		if err != nil {
			t.Fatalf("profile %s: patch %s %s: %v", name, op, p.Path, err)
		}
	}
	var out latest.SkaffoldConfig
	if err := skyaml.UnmarshalStrict(buf, &out); err != nil {
		t.Fatalf("profile %s: the patched config: %v", name, err)
	}
	return &out
}
