// Package tools builds a real kube-apiserver and etcd for the dry-run test in
// ../apiserver_test.go. It is a separate module (not in go.work) so that
// k8s.io/kubernetes and its replace directives stay out of the workspace.
package tools
