package manifestrun

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Namespace is the namespace the objects are taken to live in.
const Namespace = "default"

// Manifest is a rendered overlay: the objects a run needs.
type Manifest struct {
	Raw          []byte
	Deployments  []*appsv1.Deployment
	StatefulSets []*appsv1.StatefulSet
	Services     map[string]*corev1.Service
	Secrets      map[string]map[string]string
	ConfigMaps   map[string]map[string]string
	HPAs         []*autoscalingv2.HorizontalPodAutoscaler
	Ingresses    []*networkingv1.Ingress
}

// Decode reads a rendered YAML stream; kinds a run does not need are skipped.
func Decode(raw []byte) (*Manifest, error) {
	m := &Manifest{Raw: raw, Services: map[string]*corev1.Service{}, Secrets: map[string]map[string]string{}, ConfigMaps: map[string]map[string]string{}}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, err
		}
		into := func(v any) error { return yaml.UnmarshalStrict(doc, v) }
		switch meta.Kind {
		case "Deployment":
			var d appsv1.Deployment
			err = into(&d)
			m.Deployments = append(m.Deployments, &d)
		case "StatefulSet":
			var s appsv1.StatefulSet
			err = into(&s)
			m.StatefulSets = append(m.StatefulSets, &s)
		case "Service":
			var s corev1.Service
			err = into(&s)
			m.Services[s.Name] = &s
		case "Secret":
			var s corev1.Secret
			err = into(&s)
			data := map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
			for k, v := range s.StringData {
				data[k] = v
			}
			m.Secrets[s.Name] = data
		case "ConfigMap":
			var c corev1.ConfigMap
			err = into(&c)
			m.ConfigMaps[c.Name] = c.Data
		case "HorizontalPodAutoscaler":
			var h autoscalingv2.HorizontalPodAutoscaler
			err = into(&h)
			m.HPAs = append(m.HPAs, &h)
		case "Ingress":
			var i networkingv1.Ingress
			err = into(&i)
			m.Ingresses = append(m.Ingresses, &i)
		}
		if err != nil {
			return nil, fmt.Errorf("manifestrun: %s: %w", meta.Kind, err)
		}
	}
	return m, nil
}

// PodSpec is one pod as the kubelet would start it: its container's
// command line and environment resolved from the manifest.
type PodSpec struct {
	Name, Workload, Kind string
	Labels               map[string]string
	Ordinal              int
	Container            corev1.Container
	Volumes              []corev1.Volume
	Env                  []EnvVar // in manifest order, values resolved and $(VAR)-expanded
	Command              []string // command + args, $(VAR)-expanded ("" image entrypoint when no command)
}

// EnvVar is one resolved variable.
type EnvVar struct{ Name, Value string }

// Lookup returns the value of a variable of the pod's environment.
func (p *PodSpec) Lookup(name string) (string, bool) {
	for i := len(p.Env) - 1; i >= 0; i-- {
		if p.Env[i].Name == name {
			return p.Env[i].Value, true
		}
	}
	return "", false
}

// Pods lists every pod of every Deployment and StatefulSet: replicas, or
// the HPA's minimum when higher, or minReplicas when higher still for an
// autoscaled Deployment (a run that wants what only shows with replicas).
// only, when not empty, keeps just those workloads (the others' Secrets
// need not exist).
func (m *Manifest) Pods(minReplicas int, only ...string) ([]*PodSpec, error) {
	keep := func(w string) bool { return len(only) == 0 || slices.Contains(only, w) }
	var pods []*PodSpec
	hpaMin := map[string]int{}
	for _, h := range m.HPAs {
		n := 1
		if h.Spec.MinReplicas != nil {
			n = int(*h.Spec.MinReplicas)
		}
		hpaMin[h.Spec.ScaleTargetRef.Kind+"/"+h.Spec.ScaleTargetRef.Name] = n
	}
	for _, d := range m.Deployments {
		if !keep(d.Name) {
			continue
		}
		n := replicas(d.Spec.Replicas)
		if min, ok := hpaMin["Deployment/"+d.Name]; ok {
			n = max(n, min, minReplicas)
		}
		for i := range n {
			// Deployment pods get a random suffix in a cluster; a stable
			// one here keeps the output readable.
			p, err := m.pod(fmt.Sprintf("%s-%d", d.Name, i), d.Name, "Deployment", i, &d.Spec.Template)
			if err != nil {
				return nil, err
			}
			pods = append(pods, p)
		}
	}
	for _, s := range m.StatefulSets {
		if !keep(s.Name) {
			continue
		}
		for i := range replicas(s.Spec.Replicas) {
			p, err := m.pod(fmt.Sprintf("%s-%d", s.Name, i), s.Name, "StatefulSet", i, &s.Spec.Template)
			if err != nil {
				return nil, err
			}
			pods = append(pods, p)
		}
	}
	return pods, nil
}

func replicas(r *int32) int {
	if r == nil {
		return 1
	}
	return int(*r)
}

func (m *Manifest) pod(name, workload, kind string, ordinal int, t *corev1.PodTemplateSpec) (*PodSpec, error) {
	if len(t.Spec.Containers) != 1 {
		return nil, fmt.Errorf("manifestrun: %s: %d containers; one per pod is supported", workload, len(t.Spec.Containers))
	}
	c := t.Spec.Containers[0]
	p := &PodSpec{Name: name, Workload: workload, Kind: kind, Labels: t.Labels, Ordinal: ordinal, Container: c, Volumes: t.Spec.Volumes}
	vars := map[string]string{}
	for _, e := range c.Env {
		v := expand(e.Value, vars)
		if src := e.ValueFrom; src != nil {
			var err error
			v, err = m.valueFrom(name, src)
			if err != nil {
				return nil, fmt.Errorf("manifestrun: pod %s: env %s: %w", name, e.Name, err)
			}
		}
		vars[e.Name] = v
		p.Env = append(p.Env, EnvVar{e.Name, v})
	}
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		p.Command = append(p.Command, expand(a, vars))
	}
	if len(c.Command) == 0 {
		p.Command = append([]string{""}, p.Command...)
	}
	return p, nil
}

func (m *Manifest) valueFrom(pod string, src *corev1.EnvVarSource) (string, error) {
	switch {
	case src.SecretKeyRef != nil:
		data, ok := m.Secrets[src.SecretKeyRef.Name]
		if !ok {
			return "", fmt.Errorf("no Secret %s", src.SecretKeyRef.Name)
		}
		v, ok := data[src.SecretKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("no key %s in Secret %s", src.SecretKeyRef.Key, src.SecretKeyRef.Name)
		}
		return v, nil
	case src.ConfigMapKeyRef != nil:
		data, ok := m.ConfigMaps[src.ConfigMapKeyRef.Name]
		if !ok {
			return "", fmt.Errorf("no ConfigMap %s", src.ConfigMapKeyRef.Name)
		}
		v, ok := data[src.ConfigMapKeyRef.Key]
		if !ok {
			return "", fmt.Errorf("no key %s in ConfigMap %s", src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Name)
		}
		return v, nil
	case src.FieldRef != nil:
		switch src.FieldRef.FieldPath {
		case "metadata.name":
			return pod, nil
		case "metadata.namespace":
			return Namespace, nil
		case "status.podIP", "status.hostIP":
			return "127.0.0.1", nil
		case "spec.nodeName":
			return "localhost", nil
		}
		return "", fmt.Errorf("fieldRef %s is not supported", src.FieldRef.FieldPath)
	}
	return "", errors.New("valueFrom: only secretKeyRef, configMapKeyRef and fieldRef are supported")
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\$`)

// expand replaces $(VAR) by an earlier variable's value, as the kubelet
// does; $$ escapes a $, and an unknown reference stays as written.
func expand(s string, vars map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if ref == "$$" {
			return "$"
		}
		if v, ok := vars[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}

// Selected returns the pods a Service selects.
func Selected(pods []*PodSpec, svc *corev1.Service) []*PodSpec {
	var out []*PodSpec
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	for _, p := range pods {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// containerPort resolves a probe's or Service's port (a number or a
// container port's name).
func containerPort(c *corev1.Container, port string) (int32, error) {
	if n, err := strconv.Atoi(port); err == nil {
		return int32(n), nil
	}
	for _, p := range c.Ports {
		if p.Name == port {
			return p.ContainerPort, nil
		}
	}
	return 0, fmt.Errorf("container %s has no port named %s", c.Name, port)
}
