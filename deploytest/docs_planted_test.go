package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocCommandsPlantedMistakes proves the docs check bites: each case
// plants one mistake a doc could make and must produce a matching problem.
func TestDocCommandsPlantedMistakes(t *testing.T) {
	env := loadDocEnv(t)
	clean := readDocs(t)
	if errs := checkDocs(clean, env); len(errs) != 0 {
		t.Fatalf("the docs are not clean before planting:\n%s", strings.Join(errs, "\n"))
	}
	cases := []struct {
		name, file, from, to, want string
	}{
		{"dev TLS secret misnamed", "infra/README.md", "kubectl create secret tls ticketing-dev-tls", "kubectl create secret tls ticketing-dev-cert",
			`no Ingress of any overlay uses the TLS secret "ticketing-dev-cert"`},
		{"backup CronJob misnamed", "infra/README.md", "--from=cronjob/orders-mongo-backup", "--from=cronjob/orders-backup",
			"--from=cronjob/orders-backup is not a CronJob of the overlays"},
		{"restore env misnamed", "infra/README.md", "cronjob/orders-mongo-restore BACKUP_NAME=orders-", "cronjob/orders-mongo-restore FILE=orders-",
			"cronjob/orders-mongo-restore has no env FILE to set"},
		{"logs of a job never created", "infra/README.md", "logs job/orders-restore-1", "logs job/orders-restore-2",
			"no overlay renders job/orders-restore-2"},
		{"old volumes misnamed", "infra/README.md", "delete pvc data-nats-0", "delete pvc nats-data-0",
			"no overlay renders persistentvolumeclaim/nats-data-0"},
		{"secret not documented", "infra/create-secrets.sh", "create secret generic nats-credentials", "create secret generic nats-creds",
			"no command creates the Secret nats-credentials that an overlay reads"},
		{"generic secret key wrong", "infra/create-secrets.sh", "--from-literal=JWT_KEY=", "--from-literal=JWT_SECRET=",
			`secret jwt-secret: key "JWT_SECRET", the manifests read "JWT_KEY"`},
		{"script the docs run missing", "infra/README.md", "sh infra/create-secrets.sh", "sh infra/secrets.sh", "infra/secrets.sh: no such file"},
		{"overlay that does not exist", "infra/README.md", "kubectl kustomize infra/k8s/overlays/prod", "kubectl kustomize infra/k8s/overlays/production",
			"kubectl kustomize infra/k8s/overlays/production"},
		{"skaffold profile unknown", "infra/README.md", "skaffold run -p prod", "skaffold run -p production",
			`skaffold.yaml has no profile "production"`},
		{"kind config misnamed", "infra/README.md", "--config infra/kind.yaml", "--config infra/kind-config.yaml",
			"infra/kind-config.yaml does not exist"},
		{"chart version drifted", "infra/README.md", "--version 4.14.1", "--version 4.12.0",
			`ingress-nginx chart version "4.12.0", want 4.14.1`},
		{"chart in another namespace", "infra/README.md", "--namespace ingress-nginx --create-namespace", "--namespace ingress --create-namespace",
			`ingress-nginx must be release "ingress-nginx" in namespace "ingress-nginx"`},
		{"LoadBalancer on kind", "infra/README.md", "--set controller.service.type=NodePort", "--set controller.service.type=LoadBalancer",
			"a LoadBalancer never gets an address"},
		{"boolean node selector", "infra/README.md", "--set-string controller.nodeSelector.ingress-ready=true", "--set controller.nodeSelector.ingress-ready=true",
			"use --set-string"},
		{"waiting in the wrong namespace", "infra/README.md", "kubectl wait --namespace ingress-nginx --for=condition=ready pod \\\n  --selector=app.kubernetes.io/component=controller --timeout=300s\n```\n\nWait",
			"kubectl wait --namespace ingress --for=condition=ready pod \\\n  --selector=app.kubernetes.io/component=controller --timeout=300s\n```\n\nWait",
			`namespace "ingress" is neither created by the docs nor the ingress controller's`},
		{"minikube too small", "infra/README.md", "--cpus=4 --memory=8g", "--cpus=1 --memory=2g",
			"--cpus=1 leaves no room"},
		{"minikube on another Kubernetes", "infra/README.md", "--kubernetes-version=v1.32.2", "--kubernetes-version=v1.31.0",
			`--kubernetes-version "v1.31.0", want v1.32.2`},
		{"certificate for another host", "infra/README.md", `-subj "/CN=ticketing.dev" -addext "subjectAltName=DNS:ticketing.dev"`, `-subj "/CN=ticketing.local" -addext "subjectAltName=DNS:ticketing.local"`,
			"the certificate must be for ticketing.dev"},
		{"trusting a file never made", "infra/README.md", "-k /Library/Keychains/System.keychain infra/certs/ticketing.dev.crt", "-k /Library/Keychains/System.keychain ticketing.dev.crt",
			"ticketing.dev.crt is not the certificate or key the openssl command makes"},
		{"make target unknown", "README.md", "make e2e URL=", "make e2e-cluster URL=",
			`make has no target "e2e-cluster"`},
		{"make variable unused", "infra/README.md", "make bench URL=https://ticketing.dev CA=", "make bench BASE=https://ticketing.dev CA=",
			"the Makefile does not use BASE"},
		{"CA not the made certificate", "infra/README.md", "make e2e URL=https://ticketing.dev CA=infra/certs/ticketing.dev.crt", "make e2e URL=https://ticketing.dev CA=infra/certs/ca.pem",
			"infra/certs/ca.pem is not the certificate or key the openssl command makes"},
		{"go run of nothing", "README.md", "go run ./auth", "go run ./authn", "./authn does not exist"},
		{"a command no rule knows", "infra/README.md", "kind create cluster --name ticketing", "k3d cluster create ticketing\nkind create cluster --name ticketing",
			`no rule checks "k3d"`},
		{"stale Skaffold version", "infra/README.md", "| Skaffold | v2.16.1", "| Skaffold | v2.13.0", "Skaffold v2.13.0, the pin is v2.16.1"},
		{"stale dev sizing", "infra/README.md", "**0.86 CPU / 1.81 GiB**", "**0.85 CPU / 1.75 GiB**", `"0.85 CPU / 1.75 GiB" is neither`},
		{"host changed in the rule only", "infra/README.md", "path: /spec/tls/0/hosts/0\n        value: tickets.example.com", "path: /spec/tls/0/hosts/0\n        value: ticketing.dev",
			"must both be your host"},
		{"overlay without a namespace", "infra/README.md", "namespace: ticketing\nresources:", "resources:", "does not set a namespace"},
		{"stale prod volume count", "infra/README.md", "claims 18 volumes", "claims 15 volumes", "the prod overlay claims 18 volumes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs := map[string]string{}
			for k, v := range clean {
				docs[k] = v
			}
			if _, ok := docs[c.file]; !ok { // a script the docs run
				b, err := os.ReadFile(filepath.Join(repoRoot, c.file))
				if err != nil {
					t.Fatal(err)
				}
				docs[c.file] = string(b)
			}
			if !strings.Contains(docs[c.file], c.from) {
				t.Fatalf("%s has no %q to change", c.file, c.from)
			}
			docs[c.file] = strings.Replace(docs[c.file], c.from, c.to, 1)
			errs := checkDocs(docs, env)
			for _, e := range errs {
				if strings.Contains(e, c.want) {
					return
				}
			}
			t.Errorf("planted mistake not caught; want a problem containing %q, got:\n%s", c.want, strings.Join(errs, "\n"))
		})
	}
}
