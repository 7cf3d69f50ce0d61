// Package manifestrun runs a rendered kustomize overlay on this machine as
// Kubernetes would run it: every Deployment and StatefulSet container with
// its command, args, env and replicas as the manifest says, its probes run by
// a small kubelet stand-in, Services as local load-balanced ports, and the
// Ingress served by kit/gateway in ingress-nginx mode. Images are replaced by
// what they contain, built here from pinned modules; MongoDB is the one
// substitution (the kit's FerretDB server), named in the output.
package manifestrun

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Render builds the kustomization in dir with kustomize's Go API (what
// `kubectl kustomize` runs) and returns the YAML stream.
func Render(dir string) ([]byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("manifestrun: kustomize %s: %w", dir, err)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("manifestrun: kustomize %s: %w", dir, err)
	}
	return out, nil
}
