package deploytest

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestPlantedMistakes proves the checks bite: each case breaks a correct
// render in one way and must produce a matching problem.
func TestPlantedMistakes(t *testing.T) {
	cfg := loadSkaffold(t).cfg
	renders := map[string][]byte{"dev": render(t, "dev"), "prod": render(t, "prod"), "prod-stan": render(t, "prod-stan")}
	decoded := map[string]*bundle{}
	for name, src := range renders {
		b, err := decode(src)
		if err != nil {
			t.Fatal(err)
		}
		decoded[name] = b
	}
	fresh := func(t *testing.T, overlay string) *bundle { return decoded[overlay].clone() }
	deployment := func(b *bundle, app string) *corev1.PodSpec {
		for _, d := range b.deployments {
			if d.Spec.Template.Labels["app"] == app {
				return &d.Spec.Template.Spec
			}
		}
		t.Fatalf("no deployment %s", app)
		return nil
	}
	dropEnv := func(ps *corev1.PodSpec, name string) {
		c := &ps.Containers[0]
		for i, e := range c.Env {
			if e.Name == name {
				c.Env = append(c.Env[:i], c.Env[i+1:]...)
				return
			}
		}
		t.Fatalf("no env %s to drop", name)
	}
	setEnv := func(ps *corev1.PodSpec, name, value string) {
		for i, e := range ps.Containers[0].Env {
			if e.Name == name {
				ps.Containers[0].Env[i] = corev1.EnvVar{Name: name, Value: value}
				return
			}
		}
		t.Fatalf("no env %s to set", name)
	}

	cases := []struct {
		name, overlay, want string
		mutate              func(b *bundle)
	}{
		{"wrong selector", "dev", "Service auth-srv: selector map[app:authx] selects no pod template",
			func(b *bundle) { b.services["auth-srv"].Spec.Selector = map[string]string{"app": "authx"} }},
		{"missing env var", "dev", "Deployment tickets-depl: required env JWT_KEY is not set",
			func(b *bundle) { dropEnv(deployment(b, "tickets"), "JWT_KEY") }},
		{"missing stripe key", "prod", "Deployment payments-depl: required env STRIPE_KEY is not set",
			func(b *bundle) { dropEnv(deployment(b, "payments"), "STRIPE_KEY") }},
		{"bad target port", "dev", "Service orders-srv: targetPort 3001 is not a container port",
			func(b *bundle) { b.services["orders-srv"].Spec.Ports[0].TargetPort = intstr.FromInt32(3001) }},
		{"bad container port", "dev", "Service payments-srv: targetPort 3000 is not a container port",
			func(b *bundle) { deployment(b, "payments").Containers[0].Ports[0].ContainerPort = 8080 }},
		{"ingress to unknown service", "dev", "backend Service client-svc does not exist",
			func(b *bundle) {
				paths := b.ingresses[0].Spec.Rules[0].HTTP.Paths
				paths[len(paths)-1].Backend.Service.Name = "client-svc"
			}},
		{"ingress route changed", "dev", "Ingress ingress-service: routes",
			func(b *bundle) { b.ingresses[0].Spec.Rules[0].HTTP.Paths[0].Path = "/api/user" }},
		{"ingress wrong port", "dev", "Service tickets-srv has no port 80",
			func(b *bundle) {
				b.ingresses[0].Spec.Rules[0].HTTP.Paths[1].Backend.Service.Port = networkingv1.ServiceBackendPort{Number: 80}
			}},
		{"mongo host unknown", "dev", "MONGO_URI host auth-mongo: no Service auth-mongo in the render",
			func(b *bundle) { setEnv(deployment(b, "auth"), "MONGO_URI", "mongodb://auth-mongo:27017/auth") }},
		{"nats host unknown", "dev", "NATS_URL host nats: no Service nats in the render",
			func(b *bundle) { setEnv(deployment(b, "orders"), "NATS_URL", "nats://nats:4222") }},
		{"replica member out of range", "prod", "auth-mongo-3 is not a pod of StatefulSet auth-mongo",
			func(b *bundle) {
				setEnv(deployment(b, "auth"), "MONGO_URI", "mongodb://auth-mongo-0.auth-mongo-hl:27017,auth-mongo-3.auth-mongo-hl:27017/auth?replicaSet=rs0")
			}},
		{"replica set not started", "prod", "StatefulSet tickets-mongo does not run --replSet rs0",
			func(b *bundle) {
				for _, s := range b.statefulSets {
					if s.Name == "tickets-mongo" {
						s.Spec.Template.Spec.Containers[0].Args = []string{"--bind_ip_all"}
					}
				}
			}},
		{"client id not pod name", "dev", "NATS_CLIENT_ID must come from fieldRef metadata.name",
			func(b *bundle) { setEnv(deployment(b, "expiration"), "NATS_CLIENT_ID", "expiration") }},
		{"no startup probe", "dev", "Deployment expiration-depl: startupProbe must be an httpGet on /healthz",
			func(b *bundle) { deployment(b, "expiration").Containers[0].StartupProbe = nil }},
		{"startup probe too short", "prod", "Deployment tickets-depl: startupProbe allows 4s",
			func(b *bundle) { deployment(b, "tickets").Containers[0].StartupProbe.FailureThreshold = 2 }},
		{"raft log inside the store", "prod-stan", "StatefulSet nats: --cluster_log_path /data/store/raft is inside the store directory /data/store",
			func(b *bundle) {
				for _, s := range b.statefulSets {
					if s.Name == "nats" {
						args := s.Spec.Template.Spec.Containers[0].Args
						for i := range args {
							if args[i] == "--cluster_log_path" {
								args[i+1] = "/data/store/raft"
							}
						}
					}
				}
			}},
		{"stateful set without a disruption budget", "prod", "StatefulSet orders-mongo: no PodDisruptionBudget",
			func(b *bundle) {
				for i, p := range b.pdbs {
					if p.Name == "orders-mongo-pdb" {
						b.pdbs = append(b.pdbs[:i], b.pdbs[i+1:]...)
						return
					}
				}
			}},
		{"readiness probe path", "dev", "Deployment auth-depl: readinessProbe path /healthz, want /readyz",
			func(b *bundle) { deployment(b, "auth").Containers[0].ReadinessProbe.HTTPGet.Path = "/healthz" }},
		{"readiness includes the bus", "dev", "Deployment orders-depl: readinessProbe path /readyz, want /readyz?exclude=events",
			func(b *bundle) { deployment(b, "orders").Containers[0].ReadinessProbe.HTTPGet.Path = "/readyz" }},
		{"liveness probe port", "dev", "Deployment orders-depl: livenessProbe port 8080, want 3000",
			func(b *bundle) {
				deployment(b, "orders").Containers[0].LivenessProbe.HTTPGet.Port = intstr.FromInt32(8080)
			}},
		{"image not built by skaffold", "dev", "image ticketing/tickets-v2 is not a skaffold artifact",
			func(b *bundle) { deployment(b, "tickets").Containers[0].Image = "ticketing/tickets-v2" }},
		{"writable root filesystem", "dev", "container auth: readOnlyRootFilesystem must be true",
			func(b *bundle) {
				f := false
				deployment(b, "auth").Containers[0].SecurityContext.ReadOnlyRootFilesystem = &f
			}},
		{"capabilities kept", "dev", "container client: capabilities must drop ALL",
			func(b *bundle) { deployment(b, "client").Containers[0].SecurityContext.Capabilities = nil }},
		{"no seccomp", "prod", "Deployment payments-depl: pod securityContext.seccompProfile must be RuntimeDefault",
			func(b *bundle) { deployment(b, "payments").SecurityContext.SeccompProfile = nil }},
		{"network policy admits another service", "dev", "NetworkPolicy orders-mongo-netpol: also admits Deployment tickets-depl",
			func(b *bundle) {
				for _, np := range b.netpols {
					if np.Name == "orders-mongo-netpol" {
						np.Spec.Ingress[0].From[0].PodSelector.MatchLabels = map[string]string{} // every pod in the namespace
					}
				}
			}},
		{"secret not generated", "dev", "Secret jwt-secret-typo is neither generated nor expected to exist",
			func(b *bundle) {
				deployment(b, "auth").Containers[0].Env[len(deployment(b, "auth").Containers[0].Env)-1].ValueFrom = &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "jwt-secret-typo"}, Key: "JWT_KEY"}}
			}},
		{"proxies not trusted", "prod", "Deployment auth-depl: TRUSTED_PROXIES is not set",
			func(b *bundle) { dropEnv(deployment(b, "auth"), "TRUSTED_PROXIES") }},
		{"every address trusted", "dev", "Deployment tickets-depl: TRUSTED_PROXIES range 0.0.0.0/0 trusts far more",
			func(b *bundle) { setEnv(deployment(b, "tickets"), "TRUSTED_PROXIES", "10.244.0.0/16,0.0.0.0/0") }},
		{"bus mismatch", "dev", "Deployment orders-depl: EVENT_BUS=jetstream needs nats -js behind nats-srv",
			func(b *bundle) { setEnv(deployment(b, "orders"), "EVENT_BUS", "jetstream") }},
		{"cluster id mismatch", "prod-stan", "Deployment tickets-depl: EVENT_BUS=stan needs NATS Streaming with -cid ticketing",
			func(b *bundle) {
				for _, s := range b.statefulSets {
					if s.Name == "nats" {
						s.Spec.Template.Spec.Containers[0].Args[1] = "test-cluster"
					}
				}
			}},
		{"no HPA", "dev", "Deployment client-depl: no HorizontalPodAutoscaler",
			func(b *bundle) { b.hpas = b.hpas[:0] }},
		{"stripe-mock port wrong", "dev", "STRIPE_API_URL: Service stripe-mock-srv has no port 12112",
			func(b *bundle) { setEnv(deployment(b, "payments"), "STRIPE_API_URL", "http://stripe-mock-srv:12112") }},
		{"stripe-mock service misnamed", "dev", "STRIPE_API_URL host stripe-mock: no Service stripe-mock in the render",
			func(b *bundle) { setEnv(deployment(b, "payments"), "STRIPE_API_URL", "http://stripe-mock:12111") }},
		{"server-side calls through the ingress controller", "dev", "client-depl: server-side GET /api/users/… goes to http://ingress-nginx-controller.ingress-nginx.svc.cluster.local, not to Service auth-srv:3000",
			func(b *bundle) {
				ps := deployment(b, "client")
				dropEnv(ps, "API_ROUTES")
				ps.Containers[0].Env = append(ps.Containers[0].Env, corev1.EnvVar{Name: "API_BASE_URL", Value: "http://ingress-nginx-controller.ingress-nginx.svc.cluster.local"})
			}},
		{"server-side route to the wrong service", "prod", "client-depl: server-side GET /api/orders/… goes to http://tickets-srv:3000, not to Service orders-srv:3000",
			func(b *bundle) {
				setEnv(deployment(b, "client"), "API_ROUTES", "/api/users=http://auth-srv:3000,/api/tickets=http://tickets-srv:3000,/api/orders=http://tickets-srv:3000,/api/payments=http://payments-srv:3000")
			}},
		{"server-side route the Ingress lacks", "dev", "client-depl: API_ROUTES has /api/refunds, which the Ingress does not route",
			func(b *bundle) {
				setEnv(deployment(b, "client"), "API_ROUTES", "/api/users=http://auth-srv:3000,/api/tickets=http://tickets-srv:3000,/api/orders=http://orders-srv:3000,/api/payments=http://payments-srv:3000,/api/refunds=http://payments-srv:3000")
			}},
		{"stripe-mock not used", "dev", "runs stripe-mock but payments has no STRIPE_API_URL",
			func(b *bundle) { dropEnv(deployment(b, "payments"), "STRIPE_API_URL") }},
		{"stripe-mock image not built", "dev", "image ticketing/stripemock is not a skaffold artifact",
			func(b *bundle) { deployment(b, "stripe-mock").Containers[0].Image = "ticketing/stripemock" }},
		{"backup image not built", "prod", "CronJob orders-mongo-backup container backup: image ticketing/mongo-backup is not a skaffold artifact",
			func(b *bundle) {
				for _, j := range b.cronJobs {
					if j.Name == "orders-mongo-backup" {
						j.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "ticketing/mongo-backup"
					}
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := fresh(t, c.overlay)
			ext := overlay(c.overlay).externalSecrets
			images := overlayArtifacts(t, cfg, overlay(c.overlay))
			if errs := check(b, images, ext); len(errs) != 0 && ext != nil {
				t.Fatalf("%s render is not clean before mutation: %v", c.overlay, errs)
			}
			c.mutate(b)
			errs := check(b, images, ext)
			for _, e := range errs {
				if strings.Contains(e, c.want) {
					return
				}
			}
			t.Errorf("planted mistake not caught; want a problem containing %q, got:\n%s", c.want, strings.Join(errs, "\n"))
		})
	}

	// Which Stripe each overlay pays through.
	if errs := checkStripeMode(fresh(t, "prod"), true); len(errs) == 0 {
		t.Error("prod taken for an overlay with stripe-mock")
	}
	if errs := checkStripeMode(fresh(t, "dev"), false); len(errs) == 0 {
		t.Error("dev taken for an overlay paying real Stripe")
	}

	// Unknown fields must fail strict decoding rather than be dropped silently.
	yamlCases := []struct{ name, from, to, want string }{
		{"unknown field in Deployment", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSecondz: 30", `unknown field "spec.template.spec.terminationGracePeriodSecondz"`},
		{"misspelled probe field", "readinessProbe:", "readynessProbe:", `unknown field "spec.template.spec.containers[0].readynessProbe"`},
		{"duplicate field", "  replicas: 1\n", "  replicas: 1\n  replicas: 2\n", `key "replicas" already set`},
		{"wrong type", "containerPort: 3000", "containerPort: http", "containerPort"},
	}
	for _, c := range yamlCases {
		t.Run(c.name, func(t *testing.T) {
			src := renders["dev"]
			if !bytes.Contains(src, []byte(c.from)) {
				t.Fatalf("render has no %q to mutate", c.from)
			}
			_, err := decode(bytes.Replace(src, []byte(c.from), []byte(c.to), 1))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("decode error %v, want one containing %q", err, c.want)
			}
		})
	}
}
