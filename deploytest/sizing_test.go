package deploytest

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// sizing is what an overlay asks the scheduler for with every autoscaler
// at its minimum: the sum of the running pods' requests, and the volumes.
type sizing struct {
	cpuMilli int64
	memory   int64 // bytes
	volumes  int
	storage  int64 // bytes
}

// CPU is in cores and memory in GiB, rounded as infra/README.md states them.
func (s sizing) String() string {
	return fmt.Sprintf("%.2f CPU / %.2f GiB, %d volumes of %.0f GiB in all", float64(s.cpuMilli)/1000,
		float64(s.memory)/(1<<30), s.volumes, float64(s.storage)/(1<<30))
}

func sizeOf(b *bundle) sizing {
	var s sizing
	minReplicas := map[string]int32{}
	for _, h := range b.hpas {
		if h.Spec.MinReplicas != nil {
			minReplicas[h.Spec.ScaleTargetRef.Name] = *h.Spec.MinReplicas
		} else {
			minReplicas[h.Spec.ScaleTargetRef.Name] = 1
		}
	}
	add := func(ps corev1.PodSpec, n int32) {
		for _, c := range ps.Containers {
			s.cpuMilli += int64(n) * c.Resources.Requests.Cpu().MilliValue()
			s.memory += int64(n) * c.Resources.Requests.Memory().Value()
		}
	}
	for _, d := range b.deployments {
		n, ok := minReplicas[d.Name]
		if !ok {
			n = 1
			if d.Spec.Replicas != nil {
				n = *d.Spec.Replicas
			}
		}
		add(d.Spec.Template.Spec, n)
	}
	for _, st := range b.statefulSets {
		n := int32(1)
		if st.Spec.Replicas != nil {
			n = *st.Spec.Replicas
		}
		add(st.Spec.Template.Spec, n)
		for _, pvc := range st.Spec.VolumeClaimTemplates {
			q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
			s.volumes += int(n)
			s.storage += int64(n) * q.Value()
		}
	}
	return s
}

var _ = resource.MustParse // the quantities above are resource.Quantity

func TestSizing(t *testing.T) {
	for _, ov := range overlays {
		b, err := decode(render(t, ov.name))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v", ov.name, sizeOf(b))
	}
}
