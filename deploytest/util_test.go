package deploytest

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }

// plantedCase is one broken variant of a render and the problem it must
// raise.
type plantedCase struct {
	name, want string
	mutate     func(b *bundle)
}

// clone deep-copies a bundle: much cheaper than decoding the render again
// (strict decoding under -race takes about a second).
func (b *bundle) clone() *bundle {
	c := &bundle{services: map[string]*corev1.Service{}, secrets: map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	for _, d := range b.deployments {
		c.deployments = append(c.deployments, d.DeepCopy())
	}
	for _, s := range b.statefulSets {
		c.statefulSets = append(c.statefulSets, s.DeepCopy())
	}
	for _, j := range b.jobs {
		c.jobs = append(c.jobs, j.DeepCopy())
	}
	for _, j := range b.cronJobs {
		c.cronJobs = append(c.cronJobs, j.DeepCopy())
	}
	for k, v := range b.services {
		c.services[k] = v.DeepCopy()
	}
	for k, v := range b.secrets {
		c.secrets[k] = v.DeepCopy()
	}
	for k, v := range b.configMaps {
		c.configMaps[k] = v.DeepCopy()
	}
	for k, v := range b.pvcs {
		c.pvcs[k] = v.DeepCopy()
	}
	for _, i := range b.ingresses {
		c.ingresses = append(c.ingresses, i.DeepCopy())
	}
	for _, n := range b.netpols {
		c.netpols = append(c.netpols, n.DeepCopy())
	}
	for _, h := range b.hpas {
		c.hpas = append(c.hpas, h.DeepCopy())
	}
	for _, p := range b.pdbs {
		c.pdbs = append(c.pdbs, p.DeepCopy())
	}
	return c
}

// runPlanted decodes src once and gives each case its own copy; check must
// find nothing before the mutation and a problem containing want after it.
func runPlanted(t *testing.T, src []byte, check func(*bundle) []string, cases []plantedCase) {
	t.Helper()
	clean, err := decode(src)
	if err != nil {
		t.Fatal(err)
	}
	if errs := check(clean); len(errs) > 0 {
		t.Fatalf("not clean before mutation: %v", errs)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := clean.clone()
			if errs := check(b); len(errs) > 0 {
				t.Fatalf("not clean before mutation: %v", errs)
			}
			c.mutate(b)
			errs := check(b)
			for _, e := range errs {
				if strings.Contains(e, c.want) {
					return
				}
			}
			t.Errorf("planted mistake not caught; want %q, got:\n%s", c.want, strings.Join(errs, "\n"))
		})
	}
}
