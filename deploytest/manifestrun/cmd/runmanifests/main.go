// Command runmanifests is `make run-manifests`: an overlay run here as its
// manifests say (deploytest/manifestrun), the Ingress served in ingress-nginx mode
// on https://127.0.0.1:8443 and http://127.0.0.1:8081, until Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ticketing-go/ticketing/deploytest/manifestrun"
)

func main() {
	overlay := flag.String("overlay", "dev", "the overlay under infra/k8s/overlays (or a kustomization directory)")
	root := flag.String("root", ".", "the repository root")
	bin := flag.String("bin", "bin", "the service binaries (make build)")
	client := flag.String("client", "client/.next/standalone", "the client's standalone build")
	replicas := flag.Int("min-replicas", 2, "at least this many pods of every autoscaled Deployment")
	httpAddr := flag.String("http", "127.0.0.1:8081", "the ingress's plain-HTTP address")
	httpsAddr := flag.String("https", "127.0.0.1:8443", "the ingress's HTTPS address")
	flag.Parse()
	dir := *overlay
	if _, err := os.Stat(filepath.Join(dir, "kustomization.yaml")); err != nil {
		dir = filepath.Join(*root, "infra", "k8s", "overlays", *overlay)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	r, err := manifestrun.Start(manifestrun.Options{Overlay: dir, Bin: *bin, Client: *client, MinReplicas: *replicas,
		HTTPAddr: *httpAddr, HTTPSAddr: *httpsAddr, Out: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "run-manifests:", err)
		os.Exit(1)
	}
	defer r.Stop()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = r.WaitReady(wctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "run-manifests:", err)
		return
	}
	fmt.Printf("\n  Every pod is ready (%s). Try: curl --cacert %s --resolve ticketing.dev:8443:127.0.0.1 https://ticketing.dev:8443/\n  (Ctrl-C stops it)\n\n",
		time.Since(start).Round(time.Millisecond), r.CertFile())
	<-ctx.Done()
	fmt.Println("stopping…")
}
