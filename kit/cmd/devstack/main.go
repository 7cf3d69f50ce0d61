// Command devstack is `make run`: the whole platform on one machine, with
// embedded stand-ins for what a cluster provides — one MongoDB-compatible
// server per service, NATS Streaming (file store), stripe-mock — the five
// service binaries as child processes, the web client, and a gateway that
// routes like the Ingress. Data is kept under -data across restarts; Ctrl-C
// stops everything in order.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ticketing-go/ticketing/kit/gateway"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/services"
	"github.com/ticketing-go/ticketing/kit/stripekit"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == guardArg {
		os.Exit(runGuard(os.Args[2:], os.Stdin, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

type options struct {
	data, bin, client, ingress, gatewayAddr string
	natsPort, stripePort, clientPort        int
	offset                                  int
	env                                     func(string) string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.data, "data", ".data", "directory for all data (kept across restarts)")
	fs.StringVar(&o.bin, "bin", "bin", "directory with the service binaries")
	fs.StringVar(&o.client, "client", "client/.next/standalone", "the built web client (Next.js standalone)")
	fs.StringVar(&o.ingress, "ingress", "infra/k8s/base/ingress.yaml", "the Ingress or HTTPRoute manifest the gateway routes by")
	fs.StringVar(&o.gatewayAddr, "gateway", envOr(getenv, "GATEWAY_ADDR", "127.0.0.1:8080"), "gateway address")
	fs.IntVar(&o.natsPort, "nats-port", 4222, "NATS Streaming client port")
	fs.IntVar(&o.stripePort, "stripe-port", 12111, "stripe-mock port")
	fs.IntVar(&o.clientPort, "client-port", 3000, "web client port")
	fs.IntVar(&o.offset, "port-offset", 0, "added to every port, so a test stack runs beside `make run`; keep every port below 32768, out of the kernel's range for outgoing connections (tests use 1000, 2000, 3000)")
	controlAddr := fs.String("control", "", "serve POST /stop/<service> on this address, so browser tests can stop one service and see the client say so (tests only)")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof of this process (the embedded databases and bus) on this address")
	lifeline := fs.Bool("stdin-lifeline", false, "stop the stack when stdin reaches end of file: a parent process (the e2e tests, the bench) holds the other end, so the stack dies with it on every OS")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *lifeline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go watchLifeline(stdin, cancel)
	}
	if o.offset != 0 {
		host, port, err := net.SplitHostPort(o.gatewayAddr)
		if err != nil {
			return fmt.Errorf("-gateway: %w", err)
		}
		p, _ := strconv.Atoi(port)
		o.gatewayAddr = net.JoinHostPort(host, strconv.Itoa(p+o.offset))
		o.natsPort += o.offset
		o.stripePort += o.offset
		o.clientPort += o.offset
	}
	o.env = getenv
	if *pprofAddr != "" {
		go func() { _ = http.ListenAndServe(*pprofAddr, nil) }() // DefaultServeMux carries net/http/pprof
	}
	st := &stack{out: out, start: time.Now(), procs: map[string]*exec.Cmd{}, stopped: map[string]bool{}}
	defer st.shutdown()
	if *controlAddr != "" {
		if err := st.serveControl(ctx, *controlAddr); err != nil {
			return err
		}
	}
	err := st.up(ctx, o)
	if err == nil {
		fmt.Fprintf(out, "\n  The platform is up: http://%s   (Ctrl-C stops it)\n\n", displayAddr(o.gatewayAddr))
		if every, perr := time.ParseDuration(getenv("SUMMARY")); perr == nil && every > 0 {
			urls := map[string]string{}
			for _, svc := range services.All {
				urls[svc.Name] = svc.URL(o.offset)
			}
			go summarize(ctx, out, every, urls)
		}
		select {
		case <-ctx.Done():
		case err = <-st.failed:
		}
	}
	fmt.Fprintln(out, "stopping…")
	return err
}

// stack is what is running, stopped in reverse order.
type stack struct {
	out     io.Writer
	start   time.Time
	mu      sync.Mutex
	stops   []func()
	failed  chan error
	closing bool
	procs   map[string]*exec.Cmd // by name, for -control
	stopped map[string]bool      // stopped through -control: their exit is no failure
}

func (s *stack) onStop(f func()) { s.stops = append(s.stops, f) }

func (s *stack) shutdown() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

func (s *stack) ready(what string, since time.Time, detail string) {
	fmt.Fprintf(s.out, "  ✓ %-12s ready in %-7s %s\n", what, time.Since(since).Round(time.Millisecond), detail)
}

func (s *stack) up(ctx context.Context, o options) error {
	s.failed = make(chan error, 8)
	if err := os.MkdirAll(o.data, 0o755); err != nil {
		return err
	}
	jwtKey := envOr(o.env, "JWT_KEY", "local-dev-only-secret")

	for _, svc := range services.All {
		t := time.Now()
		m, err := mongokit.Start(mongokit.Options{Dir: filepath.Join(o.data, "mongo", svc.Name), Addr: "127.0.0.1:" + strconv.Itoa(svc.MongoPort+o.offset)})
		if err != nil {
			return fmt.Errorf("%s database: %w", svc.Name, err)
		}
		s.onStop(func() { _ = m.Close() })
		s.ready(svc.Name+"-mongo", t, m.URI()+svc.Name)
	}

	t := time.Now()
	bus := envOr(o.env, "EVENT_BUS", "stan")
	var natsURL string
	switch bus {
	case "stan":
		nats, err := natskit.StartSTAN(natskit.Options{Dir: filepath.Join(o.data, "nats"), Port: o.natsPort, MonitorPort: 8222 + o.offset})
		if err != nil {
			return err
		}
		s.onStop(nats.Close)
		natsURL = nats.URL()
		s.ready("nats", t, natsURL+" cluster "+nats.ClusterID()+" (NATS Streaming, file store)")
	case "jetstream":
		js, err := natskit.StartJetStream(natskit.JetStreamOptions{Dir: filepath.Join(o.data, "jetstream"), Port: o.natsPort})
		if err != nil {
			return err
		}
		s.onStop(js.Close)
		natsURL = js.URL()
		s.ready("nats", t, natsURL+" (JetStream, file store)")
	default:
		return fmt.Errorf("EVENT_BUS=%s: want stan or jetstream", bus)
	}

	t = time.Now()
	if !stripekit.Cached() {
		fmt.Fprintf(s.out, "  … %-12s compiling %s from source into your cache: first start only, a few minutes\n", "stripe-mock", stripekit.Version)
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // a cold build of stripe-mock
	mock, err := stripekit.Start(bctx, stripekit.Options{Addr: "127.0.0.1:" + strconv.Itoa(o.stripePort)})
	cancel()
	if err != nil {
		return err
	}
	s.onStop(func() { _ = mock.Stop() })
	s.ready("stripe-mock", t, mock.URL())

	backends := map[string]string{}
	for _, svc := range services.All {
		env := map[string]string{
			"PORT":              strconv.Itoa(svc.Port + o.offset),
			"MONGO_URI":         svc.MongoURI(o.offset),
			"JWT_KEY":           jwtKey,
			"COOKIE_SECURE":     "false",
			"NATS_URL":          natsURL,
			"NATS_CLUSTER_ID":   "ticketing",
			"NATS_CLIENT_ID":    svc.Name + "-local",
			"EVENT_BUS":         bus,
			"EXPIRATION_WINDOW": envOr(o.env, "EXPIRATION_WINDOW", "15m"),
			"STRIPE_KEY":        envOr(o.env, "STRIPE_KEY", "sk_test_local"),
			"STRIPE_API_URL":    envOr(o.env, "STRIPE_API_URL", mock.URL()),
			"LOG_LEVEL":         envOr(o.env, "LOG_LEVEL", "warn"),
			"SHUTDOWN_DRAIN":    "0s",
			// The embedded FerretDB scans the whole collection for the
			// outbox's safety sweep while every other command of that
			// database waits; every write hands its events to its relay
			// anyway, so locally the sweep runs less often.
			"OUTBOX_IDLE_INTERVAL": envOr(o.env, "OUTBOX_IDLE_INTERVAL", "10s"),
			// Only this machine reaches the services, and only the
			// gateway (on loopback) may name the client's address.
			"LISTEN_HOST":     "127.0.0.1",
			"TRUSTED_PROXIES": "127.0.0.1",
		}
		// The abuse limits pass through, so tests that sign up many
		// users from one address can raise them.
		for _, k := range []string{"SIGNUP_BURST", "SIGNUP_REFILL", "SIGNIN_BURST", "SIGNIN_IP_BURST", "SIGNIN_REFILL", "SIGNIN_MAX_DELAY"} {
			if v := o.env(k); v != "" {
				env[k] = v
			}
		}
		url := svc.URL(o.offset)
		if err := s.spawn(ctx, svc.Name, filepath.Join(o.bin, svc.Name), nil, "", env, url+"/readyz", url); err != nil {
			return err
		}
		backends[svc.Backend()] = url
	}

	manifest, err := os.ReadFile(o.ingress)
	var routes []gateway.Route
	if err == nil {
		routes, err = gateway.RoutesOf(manifest)
	}
	if err != nil {
		return fmt.Errorf("gateway routes from %s: %w", o.ingress, err)
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", o.clientPort)
	backends["client-srv"] = clientURL
	if server := filepath.Join(o.client, "server.js"); fileExists(server) {
		// Server-side rendering calls the services directly by the
		// Ingress's prefixes, as the client Deployment does in a cluster.
		env := map[string]string{"PORT": strconv.Itoa(o.clientPort), "HOSTNAME": "127.0.0.1",
			"API_ROUTES": gateway.APIRoutes(routes, backends), "API_BASE_URL": "http://" + displayAddr(o.gatewayAddr),
			"NEXT_TELEMETRY_DISABLED": "1", "NODE_ENV": "production"}
		// A page that renders without the API: the gateway is not up yet.
		if err := s.spawn(ctx, "client", "node", []string{"server.js"}, o.client, env, clientURL+"/auth/signin", clientURL); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(s.out, "  - client       not built (%s missing); the API works without it\n", server)
	}
	return s.gateway(o, routes, backends)
}

func (s *stack) gateway(o options, routes []gateway.Route, backends map[string]string) error {
	h, err := gateway.Handler(routes, backends)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.gatewayAddr)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	srv := gateway.Server(h, gateway.NginxTimeouts)
	go func() { _ = srv.Serve(ln) }()
	s.onStop(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	var table []string
	for _, r := range routes {
		table = append(table, r.Prefix+"→"+r.Service)
	}
	fmt.Fprintf(s.out, "  ✓ %-12s routes from %s: %s\n", "gateway", o.ingress, strings.Join(table, " "))
	return nil
}

// spawn starts a child process, prefixes its output, waits until readyURL
// answers 200, and stops it with SIGTERM on shutdown. The child stops when
// devstack dies, too: by the kernel's parent-death signal on Linux, through a
// guard process elsewhere (guard.go).
func (s *stack) spawn(ctx context.Context, name, path string, args []string, dir string, env map[string]string, readyURL, shown string) error {
	t := time.Now()
	cmd := exec.Command(path, args...)
	var lifeline io.Closer
	if guarded {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cmd = exec.Command(self, append([]string{guardArg, path}, args...)...)
		w, err := cmd.StdinPipe()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		lifeline = w
	}
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	go prefix(s.out, name, pr)
	s.mu.Lock()
	s.procs[name] = cmd
	s.mu.Unlock()
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		close(exited)
		s.mu.Lock()
		closing := s.closing || s.stopped[name]
		s.mu.Unlock()
		if !closing {
			s.failed <- fmt.Errorf("%s exited: %v", name, err)
		}
	}()
	s.onStop(func() {
		if lifeline != nil {
			_ = lifeline.Close() // the guard stops the child and exits
		} else {
			terminate(cmd.Process)
		}
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			kill(cmd.Process)
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start-up", name)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := http.Get(readyURL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready(name, t, shown)
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New(name + " not ready after 60s")
}

func prefix(out io.Writer, name string, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fmt.Fprintf(out, "  %-10s| %s\n", name, sc.Text())
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, "127.0.0.1:") {
		return "localhost:" + strings.TrimPrefix(addr, "127.0.0.1:")
	}
	return addr
}
