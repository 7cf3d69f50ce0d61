// Package deploytest checks the Kubernetes manifests, skaffold.yaml and
// Dockerfiles of the ticketing platform without a cluster; the command
// blocks of README.md and infra/README.md against them (docs_test.go); and
// that make cross catches code that builds only on Linux (crossbuild_test.go).
package deploytest
