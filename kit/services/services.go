// Package services is the one list of the platform's Go services: their
// names, local ports, databases, Kubernetes names and the environment they
// refuse to start without. The dev stack, the bench, the e2e tests and the
// manifest checks take the services from here, and `make generate`
// (kit/gen) renders every file that lists them, so adding one is an entry
// in All, its own folder and `make generate` (infra/README.md).
//
// It imports nothing but the standard library, so every module may use it.
package services

import (
	"fmt"
	"slices"
)

// Service is one Go service.
type Service struct {
	// Name is the service's folder, binary, image (ticketing/<Name>) and
	// database name.
	Name string
	// Port and MongoPort are where `make run` serves it and its database on
	// 127.0.0.1 (a test stack adds its port offset).
	Port, MongoPort int
	// Route is the path prefix the Ingress sends to it ("" for none).
	Route string
	// Required is the environment it refuses to start without. In the
	// cluster, a variable named in secrets comes from that Secret.
	Required []string
	// ClusterEnv is the environment its Deployment sets besides the
	// platform's defaults (infra/k8s/base/services).
	ClusterEnv []Var
	// Publishes and Listens are the event subjects its code publishes and
	// listens to (its queue group is <Name>-service), in the order of its
	// production NATS user's permissions (components/jetstream-cluster);
	// deploytest checks them against the code's events.On listeners and
	// topics.
	Publishes, Listens []string
}

// Var is one environment variable.
type Var struct{ Name, Value string }

// secrets names the Kubernetes Secret (key: the variable's name) each
// secret variable comes from.
var secrets = map[string]string{"JWT_KEY": "jwt-secret", "STRIPE_KEY": "stripe-secret"}

// Bus is the environment of every service on the event bus.
var bus = []string{"NATS_URL", "NATS_CLUSTER_ID", "NATS_CLIENT_ID"}

// All lists the services in start order.
var All = []Service{
	{Name: "auth", Port: 3101, MongoPort: 27101, Route: "/api/users", Required: []string{"JWT_KEY", "MONGO_URI"}},
	{Name: "tickets", Port: 3102, MongoPort: 27102, Route: "/api/tickets", Required: append([]string{"JWT_KEY", "MONGO_URI"}, bus...),
		Publishes: []string{"ticket:created", "ticket:updated"},
		Listens:   []string{"order:created", "order:cancelled", "order:completed"}},
	{Name: "orders", Port: 3103, MongoPort: 27103, Route: "/api/orders", Required: append([]string{"JWT_KEY", "MONGO_URI"}, bus...),
		ClusterEnv: []Var{{"EXPIRATION_WINDOW", "15m"}},
		Publishes:  []string{"order:created", "order:cancelled", "order:completed"},
		Listens:    []string{"ticket:created", "ticket:updated", "expiration:complete", "payment:created", "payment:authorized"}},
	{Name: "expiration", Port: 3104, MongoPort: 27104, Required: append([]string{"MONGO_URI"}, bus...),
		Publishes: []string{"expiration:complete"},
		Listens:   []string{"order:created", "order:cancelled"}},
	{Name: "payments", Port: 3105, MongoPort: 27105, Route: "/api/payments", Required: append(append([]string{"JWT_KEY", "MONGO_URI"}, bus...), "STRIPE_KEY"),
		Publishes: []string{"payment:created", "payment:authorized"},
		Listens:   []string{"order:created", "order:cancelled", "order:completed"}},
}

// Names lists the services' names in start order.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Name
	}
	return out
}

// Named returns the service called name.
func Named(name string) (Service, bool) {
	for _, s := range All {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// Backend is the Kubernetes Service the Ingress routes to.
func (s Service) Backend() string { return s.Name + "-srv" }

// URL is where a stack with this port offset serves it.
func (s Service) URL(offset int) string { return fmt.Sprintf("http://127.0.0.1:%d", s.Port+offset) }

// MongoURI is its database in a stack with this port offset.
func (s Service) MongoURI(offset int) string {
	return fmt.Sprintf("mongodb://127.0.0.1:%d/%s", s.MongoPort+offset, s.Name)
}

// OnBus reports whether the service uses the event bus.
func (s Service) OnBus() bool { return s.Needs("NATS_URL") }

// Needs reports whether the service refuses to start without env.
func (s Service) Needs(env string) bool { return slices.Contains(s.Required, env) }

// Secrets lists the required variables that come from a Secret, but for
// JWT_KEY (every service that signs users in has it, with COOKIE_SECURE).
func (s Service) Secrets() []string {
	var out []string
	for _, k := range s.Required {
		if _, ok := secrets[k]; ok && k != "JWT_KEY" {
			out = append(out, k)
		}
	}
	return out
}

// SecretFor is the Secret the variable env comes from.
func SecretFor(env string) string { return secrets[env] }
