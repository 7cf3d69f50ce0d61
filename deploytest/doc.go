// Package deploytest checks the Kubernetes manifests, skaffold.yaml and
// Dockerfiles of the ticketing platform without a cluster.
package deploytest
