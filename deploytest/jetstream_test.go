package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// natsServerPin is the nats-server version kit/go.mod pins: the version the
// kit's cluster test runs, which the production image must be.
func natsServerPin() (string, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "kit", "go.mod"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`github.com/nats-io/nats-server/v2 v(\S+)`).FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("kit/go.mod pins no nats-server")
	}
	return string(m[1]), nil
}

// mountedFile returns the content of the ConfigMap file a container sees at
// file, or ok=false when no mounted ConfigMap holds it.
func mountedFile(b *bundle, tmpl *corev1.PodTemplateSpec, c *corev1.Container, file string) (string, bool) {
	for _, vm := range c.VolumeMounts {
		rel, err := filepath.Rel(vm.MountPath, file)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Contains(rel, "/") {
			continue
		}
		for _, v := range tmpl.Spec.Volumes {
			if v.Name != vm.Name || v.ConfigMap == nil {
				continue
			}
			if cm, ok := b.configMaps[v.ConfigMap.Name]; ok {
				data, ok := cm.Data[rel]
				return data, ok
			}
		}
	}
	return "", false
}

// natsUsers parses the user entries of a nats.conf: name → password
// variable, and name → the subjects its publish permissions allow.
var (
	natsUserRE  = regexp.MustCompile(`(?m)^\s*user:\s*(\S+)\s*\n\s*password:\s*\$(\w+)`)
	natsRouteRE = regexp.MustCompile(`nats://([a-z0-9-]+)\.([a-z0-9-]+):(\d+)`)
)

type natsUser struct {
	passwordVar string
	publish     []string
}

func natsUsers(conf string) map[string]natsUser {
	users := map[string]natsUser{}
	locs := natsUserRE.FindAllStringSubmatchIndex(conf, -1)
	for i, l := range locs {
		end := len(conf)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		block := conf[l[0]:end]
		u := natsUser{passwordVar: conf[l[4]:l[5]]}
		if _, pub, ok := strings.Cut(block, "publish:"); ok {
			pub, _, _ = strings.Cut(pub, "]")
			for _, s := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(pub, -1) {
				u.publish = append(u.publish, s[1])
			}
		}
		users[conf[l[2]:l[3]]] = u
	}
	return users
}

// streamDef is the part of a JetStream stream definition the checks read.
type streamDef struct {
	Name     string   `json:"name"`
	Subjects []string `json:"subjects"`
	Replicas int      `json:"num_replicas"`
	MaxAge   int64    `json:"max_age"`
	MaxBytes int64    `json:"max_bytes"`
}

// checkJetStreamCluster: the production JetStream cluster. The nats
// StatefulSet runs the pinned image with the mounted nats.conf, its routes
// name exactly its own pods, every stream the services would create has 3
// replicas (no more than the nodes) and limits, every service on the bus
// has its own NATS user whose password comes from the Secret key the server
// reads, and each event subject may be published by exactly one user.
func checkJetStreamCluster(b *bundle) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	pin, err := natsServerPin()
	if err != nil {
		return []string{err.Error()}
	}
	var conf string
	var natsEnv map[string]corev1.EnvVar
	var nodes int32
	for _, s := range b.statefulSets {
		if s.Name != "nats" {
			continue
		}
		c := containerNamed(&s.Spec.Template, "nats")
		if c == nil {
			fail("StatefulSet nats: no container nats")
			return errs
		}
		if want := "nats:" + pin; c.Image != want {
			fail("StatefulSet nats: image %s, want %s (kit/go.mod's nats-server, which the cluster test runs)", c.Image, want)
		}
		nodes = 1
		if s.Spec.Replicas != nil {
			nodes = *s.Spec.Replicas
		}
		if nodes != 3 {
			fail("StatefulSet nats: %d replicas, want 3", nodes)
		}
		file := argValue(c.Args, "--config")
		var ok bool
		if conf, ok = mountedFile(b, &s.Spec.Template, c, file); !ok {
			fail("StatefulSet nats: --config %q is not a mounted ConfigMap file", file)
			return errs
		}
		if !strings.Contains(conf, "jetstream {") {
			fail("StatefulSet nats: %s enables no JetStream", file)
		}
		var routes []string
		for _, m := range natsRouteRE.FindAllStringSubmatch(conf, -1) {
			if m[2] != s.Spec.ServiceName || m[3] != "6222" {
				fail("StatefulSet nats: route %s is not a pod of %s on 6222", m[0], s.Spec.ServiceName)
			}
			routes = append(routes, m[1])
		}
		for i := range nodes {
			if !slices.Contains(routes, fmt.Sprintf("nats-%d", i)) {
				fail("StatefulSet nats: nats.conf routes %v miss nats-%d", routes, i)
			}
		}
		natsEnv = map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			natsEnv[e.Name] = e
		}
	}
	if conf == "" {
		fail("no JetStream StatefulSet nats with a nats.conf")
		return errs
	}
	users := natsUsers(conf)
	publishers := map[string][]string{}
	for name, u := range users {
		for _, s := range u.publish {
			if !strings.HasPrefix(s, "$JS.") {
				publishers[s] = append(publishers[s], name)
			}
		}
	}
	for s, who := range publishers {
		if len(who) != 1 {
			slices.Sort(who)
			fail("nats.conf: subject %s may be published by %v; want exactly one service", s, who)
		}
	}
	var streams []string
	for _, d := range b.deployments {
		app := d.Spec.Template.Labels["app"]
		c := containerNamed(&d.Spec.Template, app)
		if c == nil {
			continue
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range c.Env {
			env[e.Name] = e
		}
		if _, onBus := env["NATS_URL"]; !onBus {
			continue
		}
		user := env["NATS_USER"].Value
		u, ok := users[user]
		switch {
		case user == "":
			fail("Deployment %s: no NATS_USER (every service on the bus has its own credentials)", d.Name)
		case !ok:
			fail("Deployment %s: NATS_USER %s is not a user of nats.conf", d.Name, user)
		default:
			pw := env["NATS_PASSWORD"].ValueFrom
			srv := natsEnv[u.passwordVar].ValueFrom
			if pw == nil || pw.SecretKeyRef == nil {
				fail("Deployment %s: NATS_PASSWORD must come from a Secret", d.Name)
			} else if srv == nil || srv.SecretKeyRef == nil || srv.SecretKeyRef.Name != pw.SecretKeyRef.Name || srv.SecretKeyRef.Key != pw.SecretKeyRef.Key {
				fail("Deployment %s: NATS_PASSWORD reads Secret %s key %s; the server's $%s does not", d.Name, pw.SecretKeyRef.Name, pw.SecretKeyRef.Key, u.passwordVar)
			}
		}
		file := env["NATS_STREAM_CONFIG"].Value
		data, ok := mountedFile(b, &d.Spec.Template, c, file)
		if !ok {
			fail("Deployment %s: NATS_STREAM_CONFIG %q is not a mounted ConfigMap file", d.Name, file)
			continue
		}
		streams = append(streams, data)
		var sd streamDef
		if err := json.Unmarshal([]byte(data), &sd); err != nil {
			fail("Deployment %s: stream definition %s: %v", d.Name, path.Base(file), err)
			continue
		}
		if sd.Replicas != 3 || int32(sd.Replicas) > nodes {
			fail("Deployment %s: stream %s has %d replicas, want 3 (on %d nodes)", d.Name, sd.Name, sd.Replicas, nodes)
		}
		if sd.MaxAge <= 0 || sd.MaxBytes <= 0 {
			fail("Deployment %s: stream %s has no age or size limit", d.Name, sd.Name)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(streams)))) > 1 {
		fail("the services mount different stream definitions")
	}
	for name := range users {
		found := false
		for _, d := range b.deployments {
			if c := containerNamed(&d.Spec.Template, d.Spec.Template.Labels["app"]); c != nil {
				for _, e := range c.Env {
					found = found || (e.Name == "NATS_USER" && e.Value == name)
				}
			}
		}
		if !found {
			fail("nats.conf: user %s belongs to no Deployment", name)
		}
	}
	slices.Sort(errs)
	return errs
}

// TestJetStreamClusterPlantedMistakes breaks the prod render's JetStream
// pieces one at a time; each must be reported.
func TestJetStreamClusterPlantedMistakes(t *testing.T) {
	src := render(t, "prod")
	if b, err := decode(src); err != nil {
		t.Fatal(err)
	} else if errs := checkJetStreamCluster(b); len(errs) > 0 {
		t.Fatalf("prod is not clean before mutation: %v", errs)
	}
	editConfigMap := func(b *bundle, prefix, from, to string) {
		for name, cm := range b.configMaps {
			if strings.HasPrefix(name, prefix) {
				for k, v := range cm.Data {
					if !strings.Contains(v, from) {
						t.Fatalf("ConfigMap %s: no %q to replace", name, from)
					}
					cm.Data[k] = strings.Replace(v, from, to, 1)
				}
				return
			}
		}
		t.Fatalf("no ConfigMap %s", prefix)
	}
	serviceEnv := func(b *bundle, app, name string) *corev1.EnvVar {
		for _, d := range b.deployments {
			if d.Spec.Template.Labels["app"] == app {
				for i, e := range d.Spec.Template.Spec.Containers[0].Env {
					if e.Name == name {
						return &d.Spec.Template.Spec.Containers[0].Env[i]
					}
				}
			}
		}
		t.Fatalf("no env %s on %s", name, app)
		return nil
	}
	nats := func(b *bundle) *corev1.Container {
		for _, s := range b.statefulSets {
			if s.Name == "nats" {
				return &s.Spec.Template.Spec.Containers[0]
			}
		}
		t.Fatal("no nats StatefulSet")
		return nil
	}
	cases := []plantedCase{
		{"stream with one replica", "stream TICKETING has 1 replicas, want 3",
			func(b *bundle) { editConfigMap(b, "nats-stream", `"num_replicas": 3`, `"num_replicas": 1`) }},
		{"stream without an age limit", "has no age or size limit",
			func(b *bundle) { editConfigMap(b, "nats-stream", `"max_age": 604800000000000`, `"max_age": 0`) }},
		{"floating image tag", "image nats:2.15, want nats:",
			func(b *bundle) { nats(b).Image = "nats:2.15" }},
		{"service without a NATS user", "Deployment payments-depl: no NATS_USER",
			func(b *bundle) { serviceEnv(b, "payments", "NATS_USER").Value = "" }},
		{"password from another key", "Deployment orders-depl: NATS_PASSWORD reads Secret nats-credentials key tickets",
			func(b *bundle) { serviceEnv(b, "orders", "NATS_PASSWORD").ValueFrom.SecretKeyRef.Key = "tickets" }},
		{"two publishers of one subject", "subject payment:created may be published by [orders payments]",
			func(b *bundle) {
				editConfigMap(b, "nats-config", `"order:created"`+"\n", `"order:created"`+"\n"+`          "payment:created"`+"\n")
			}},
		{"route missing", "routes [nats-0 nats-1] miss nats-2",
			func(b *bundle) { editConfigMap(b, "nats-config", "nats://nats-2.nats-hl:6222", "") }},
		{"JetStream not enabled", "enables no JetStream",
			func(b *bundle) { editConfigMap(b, "nats-config", "jetstream {", "leafnodes {") }},
	}
	runPlanted(t, src, checkJetStreamCluster, cases)
}
