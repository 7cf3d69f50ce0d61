package deploytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/poll"
)

// TestServerDryRun applies every overlay with `kubectl apply --dry-run=server`
// against a real kube-apiserver + etcd built from source by ./tools (a
// separate module). The first build takes ~8 minutes on 2 cores, later ones
// relink from the build cache; -short skips it for a quick edit loop.
func TestServerDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no kube-apiserver build")
	}
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not found in PATH: %v", err)
	}
	bin := buildTools(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	etcdClient, etcdPeer, apiPort := freePort(t), freePort(t), freePort(t)
	start(ctx, t, dir, "etcd", filepath.Join(bin, "etcd"),
		"--name", "default", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", "http://127.0.0.1:"+etcdClient, "--advertise-client-urls", "http://127.0.0.1:"+etcdClient,
		"--listen-peer-urls", "http://127.0.0.1:"+etcdPeer, "--initial-advertise-peer-urls", "http://127.0.0.1:"+etcdPeer,
		"--initial-cluster", "default=http://127.0.0.1:"+etcdPeer)

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saKey := filepath.Join(dir, "sa.key")
	writeFile(t, saKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	tokens := filepath.Join(dir, "tokens.csv")
	writeFile(t, tokens, []byte(`deploytest-token,admin,admin,"system:masters"`+"\n"))
	start(ctx, t, dir, "kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:"+etcdClient,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", apiPort,
		"--cert-dir", filepath.Join(dir, "certs"), "--token-auth-file", tokens,
		"--service-account-key-file", saKey, "--service-account-signing-key-file", saKey,
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range", "10.96.0.0/16", "--endpoint-reconciler-type", "none",
		"--authorization-mode", "RBAC")

	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeFile(t, kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "https://127.0.0.1:%s", insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: deploytest-token}}]
contexts: [{name: local, context: {cluster: local, user: admin}}]
current-context: local
`, apiPort)))
	k := func(stdin []byte, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		return cmd.CombinedOutput()
	}
	var last string
	readyCtx, readyCancel := context.WithTimeout(ctx, 90*time.Second)
	defer readyCancel()
	if err := poll.Wait(readyCtx, poll.Interval, func() (bool, error) {
		out, err := k(nil, "get", "--raw", "/readyz")
		last = fmt.Sprintf("%v %s", err, out)
		return err == nil && strings.TrimSpace(string(out)) == "ok", nil
	}); err != nil {
		t.Fatalf("kube-apiserver not ready: %v; last answer: %s (logs in %s)", err, last, dir)
	}
	if out, err := k(nil, "create", "namespace", "deploytest"); err != nil {
		t.Fatalf("create namespace: %v\n%s", err, out)
	}

	// The Gateway API's CRDs, from the module deploytest pins, so the
	// optional gateway-api component is validated against their schemas.
	modDir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api").Output()
	if err != nil {
		t.Fatalf("go list sigs.k8s.io/gateway-api: %v", err)
	}
	crds := filepath.Join(strings.TrimSpace(string(modDir)), "config", "crd", "standard")
	if out, err := k(nil, "apply", "--server-side", "-f", crds); err != nil {
		t.Fatalf("install the Gateway API CRDs: %v\n%s", err, out)
	}
	if out, err := k(nil, "wait", "--for", "condition=established", "--timeout", "60s", "crd", "--all"); err != nil {
		t.Fatalf("Gateway API CRDs not established: %v\n%s", err, out)
	}
	t.Run("prod+gateway-api", func(t *testing.T) {
		out, err := k(renderWith(t, "prod", gatewayAPIDir()), "apply", "--dry-run=server", "--validate=strict", "-n", "deploytest", "-f", "-")
		if err != nil {
			t.Errorf("server dry-run of prod + components/gateway-api: %v\n%s", err, out)
		}
	})
	for _, ov := range overlays {
		t.Run(ov.name, func(t *testing.T) {
			out, err := k(render(t, ov.name), "apply", "--dry-run=server", "--validate=strict", "-n", "deploytest", "-f", "-")
			if err != nil {
				t.Errorf("server dry-run of %s: %v\n%s", ov.name, err, out)
			}
		})
	}
	// The server must reject what the typed checks cannot see: enum values.
	bad := bytes.Replace(render(t, "dev"), []byte("pathType: Prefix"), []byte("pathType: Prefixx"), 1)
	if out, err := k(bad, "apply", "--dry-run=server", "-n", "deploytest", "-f", "-"); err == nil || !strings.Contains(string(out), "pathType") {
		t.Errorf("server accepted pathType Prefixx: %v\n%s", err, out)
	}
}

// buildTools builds kube-apiserver and etcd from ./tools (GOWORK=off: that
// module is deliberately not in go.work). Cold ~8 min, then a relink.
func buildTools(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("tools", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin+"/", "tool", "./etcd")
	cmd.Dir = "tools"
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building kube-apiserver and etcd: %v\n%s", err, out)
	}
	return bin
}

func start(ctx context.Context, t *testing.T, dir, name, path string, args ...string) {
	t.Helper()
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
	})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
