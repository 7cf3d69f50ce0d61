package deploytest

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ticketing-go/ticketing/kit/gateway"
)

// The local gateway (make run) routes by what kit/gateway reads from the
// base ingress.yaml; every overlay's rendered Ingress, read the same way,
// must route exactly alike, so what works locally works in the cluster.
func TestGatewayRoutesEqualEveryOverlaysIngress(t *testing.T) {
	base, err := os.ReadFile(filepath.Join(repoRoot, "infra", "k8s", "base", "ingress.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := gateway.Routes(base)
	if err != nil || len(local) == 0 {
		t.Fatalf("gateway routes of the base ingress: %v, %v", local, err)
	}
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			cluster, err := gateway.Routes(render(t, ov.name))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cluster, local) {
				t.Errorf("overlay %s routes %v; make run's gateway routes %v", ov.name, cluster, local)
			}
		})
	}
}
