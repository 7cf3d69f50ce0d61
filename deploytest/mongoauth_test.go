package deploytest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// mongoCreds is mongodb://<user>:$(<VAR>)@ — a password only by reference.
var mongoCreds = regexp.MustCompile(`^mongodb://([a-z]+):\$\(([A-Z_]+)\)@`)

// checkMongoAuth: every service connects to its database as its own user
// (named after the service) with a password that Kubernetes expands from a
// Secret defined earlier in the env list — the app-password of the Secret
// its replica set mounts — and every Mongo StatefulSet runs with a keyFile
// (which turns authentication on) from that Secret.
func checkMongoAuth(b *bundle) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	authSecret := map[string]string{} // Mongo StatefulSet → its auth Secret
	for _, s := range b.statefulSets {
		c := containerNamed(&s.Spec.Template, "mongo")
		if c == nil {
			continue
		}
		keyFile := argValue(c.Args, "--keyFile")
		if keyFile == "" {
			fail("StatefulSet %s: mongod runs without --keyFile (no authentication)", s.Name)
		}
		for _, v := range s.Spec.Template.Spec.Volumes {
			if v.Name == "auth" && v.Secret != nil {
				authSecret[s.Name] = v.Secret.SecretName
			}
		}
		if authSecret[s.Name] == "" {
			fail("StatefulSet %s: no Secret volume auth with its keyfile and passwords", s.Name)
		}
	}
	for _, d := range b.deployments {
		app := d.Spec.Template.Labels["app"]
		if _, isGo := goServices[app]; !isGo {
			continue
		}
		c := containerNamed(&d.Spec.Template, app)
		if c == nil {
			continue
		}
		var uri string
		defined := map[string]*corev1.EnvVarSource{} // env vars before MONGO_URI
		for _, e := range c.Env {
			if e.Name == "MONGO_URI" {
				uri = e.Value
				break
			}
			defined[e.Name] = e.ValueFrom
		}
		m := mongoCreds.FindStringSubmatch(uri)
		if m == nil {
			fail("Deployment %s: MONGO_URI %q carries no user and $(PASSWORD) reference", d.Name, uri)
			continue
		}
		if m[1] != app {
			fail("Deployment %s: MONGO_URI connects as %s, want the service's own user %s", d.Name, m[1], app)
		}
		src := defined[m[2]]
		if src == nil || src.SecretKeyRef == nil {
			fail("Deployment %s: MONGO_URI refers to $(%s), which is not a Secret value defined before it", d.Name, m[2])
			continue
		}
		sts := app + "-mongo"
		if want := authSecret[sts]; src.SecretKeyRef.Name != want || src.SecretKeyRef.Key != "app-password" {
			fail("Deployment %s: $(%s) is Secret %s key %s; %s creates the user from Secret %s key app-password", d.Name, m[2], src.SecretKeyRef.Name, src.SecretKeyRef.Key, sts, want)
		}
	}
	slices.Sort(errs)
	return errs
}

// TestMongoAuthPlantedMistakes breaks prod's database authentication one
// way at a time; each must be reported.
func TestMongoAuthPlantedMistakes(t *testing.T) {
	src := render(t, "prod")
	env := func(b *bundle, app string) *[]corev1.EnvVar {
		for _, d := range b.deployments {
			if d.Spec.Template.Labels["app"] == app {
				return &d.Spec.Template.Spec.Containers[0].Env
			}
		}
		t.Fatalf("no Deployment %s", app)
		return nil
	}
	find := func(es []corev1.EnvVar, name string) int {
		i := slices.IndexFunc(es, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 {
			t.Fatalf("no env %s", name)
		}
		return i
	}
	cases := []plantedCase{
		{"no credentials in the URI", "Deployment orders-depl: MONGO_URI \"mongodb://orders-mongo-0",
			func(b *bundle) {
				es := *env(b, "orders")
				es[find(es, "MONGO_URI")].Value = "mongodb://orders-mongo-0.orders-mongo-hl:27017,orders-mongo-1.orders-mongo-hl:27017/orders?replicaSet=rs0"
			}},
		{"another service's user", "connects as auth, want the service's own user tickets",
			func(b *bundle) {
				es := *env(b, "tickets")
				i := find(es, "MONGO_URI")
				es[i].Value = strings.Replace(es[i].Value, "tickets:", "auth:", 1)
			}},
		{"password defined after the URI", "refers to $(MONGO_PASSWORD), which is not a Secret value defined before it",
			func(b *bundle) {
				p := env(b, "payments")
				i := find(*p, "MONGO_PASSWORD")
				pw := (*p)[i]
				*p = append(slices.Delete(*p, i, i+1), pw)
			}},
		{"password from the root key", "is Secret expiration-mongo-auth key root-password",
			func(b *bundle) {
				es := *env(b, "expiration")
				es[find(es, "MONGO_PASSWORD")].ValueFrom.SecretKeyRef.Key = "root-password"
			}},
		{"mongod without keyFile", "StatefulSet auth-mongo: mongod runs without --keyFile",
			func(b *bundle) {
				for _, s := range b.statefulSets {
					if s.Name == "auth-mongo" {
						s.Spec.Template.Spec.Containers[0].Args = []string{"--bind_ip_all", "--replSet", "rs0"}
					}
				}
			}},
	}
	runPlanted(t, src, checkMongoAuth, cases)
}
