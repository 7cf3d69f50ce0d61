package manifestrun

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	natsd "github.com/nats-io/nats-server/v2/server"
	stand "github.com/nats-io/nats-streaming-server/server"

	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/services"
	"github.com/ticketing-go/ticketing/kit/stripekit"
)

// goServices are the images `make build` builds as binaries of these names:
// the services' table (kit/services), so a new service is not listed again.
var goServices = func() map[string]bool {
	out := map[string]bool{}
	for _, name := range services.Names() {
		out[name] = true
	}
	return out
}()

// ImageName strips an image reference's tag or digest: "nats:2.15.3" → "nats".
func ImageName(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// Substitution says, for an image, what runs in its place when that is not
// what the image contains; "" when it is.
func Substitution(image string) string {
	if ImageName(image) == "mongo" {
		return "MongoDB → the kit's FerretDB server (kit/mongokit); its exec probe (mongosh ping) → a TCP connect"
	}
	return ""
}

// containerFor says what runs the pod's image: the binary or server it
// contains, built from the pinned modules.
func (r *Run) containerFor(p *PodSpec) (func() (container, error), error) {
	name := ImageName(p.Container.Image)
	env := r.env(p)
	args := r.args(p)
	switch {
	case strings.HasPrefix(name, "ticketing/") && goServices[strings.TrimPrefix(name, "ticketing/")]:
		bin := filepath.Join(r.opts.Bin, strings.TrimPrefix(name, "ticketing/"))
		return func() (container, error) { return r.process(p, bin, args, "", env), nil }, nil
	case name == "ticketing/client":
		return func() (container, error) {
			return r.process(p, "node", []string{"server.js"}, r.opts.Client, env), nil
		}, nil
	case name == "ticketing/stripe-mock":
		bin, err := stripekit.Binary(context.Background())
		if err != nil {
			return nil, err
		}
		return func() (container, error) { return r.process(p, bin, args, "", env), nil }, nil
	case name == "nats-streaming":
		return func() (container, error) {
			return &stanContainer{r: r, pod: p, args: args, inproc: newInproc()}, nil
		}, nil
	case name == "nats":
		return func() (container, error) {
			return &natsContainer{r: r, pod: p, args: args, inproc: newInproc()}, nil
		}, nil
	case name == "mongo":
		return func() (container, error) { return &mongoContainer{r: r, pod: p, inproc: newInproc()}, nil }, nil
	}
	return nil, fmt.Errorf("manifestrun: pod %s: no stand-in for image %s", p.Name, p.Container.Image)
}

// env is the container's environment: the manifest's, with cluster DNS
// names resolved to local addresses and the pod's own ports (PORT=3000)
// to its local ones. Nothing else of this machine's environment but PATH
// and a HOME (a container has its image's).
func (r *Run) env(p *PodSpec) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + r.podDir(p, "home")}
	for _, e := range p.Env {
		v := r.net.Resolve(e.Value)
		if n, err := strconv.Atoi(v); err == nil {
			if lp, ok := r.net.PodPort(p.Name, int32(n)); ok {
				v = strconv.Itoa(lp)
			}
		}
		out = append(out, e.Name+"="+v)
	}
	return out
}

var ownPort = regexp.MustCompile(`^((?:0\.0\.0\.0|127\.0\.0\.1|localhost)?:)([0-9]+)$`)

// args are the command's arguments (the image's entrypoint dropped), DNS
// names resolved, and listen addresses of the pod's own ports mapped.
func (r *Run) args(p *PodSpec) []string {
	var out []string
	for _, a := range p.Command[1:] {
		a = r.net.Resolve(a)
		if m := ownPort.FindStringSubmatch(a); m != nil {
			n, _ := strconv.Atoi(m[2])
			if lp, ok := r.net.PodPort(p.Name, int32(n)); ok {
				a = m[1] + strconv.Itoa(lp)
			}
		}
		out = append(out, a)
	}
	return out
}

// podDir is a pod's directory for a volume; a claim of a StatefulSet pod
// keeps its directory across restarts, as its PersistentVolume would.
func (r *Run) podDir(p *PodSpec, volume string) string {
	d := filepath.Join(r.opts.Data, p.Name, volume)
	_ = os.MkdirAll(d, 0o755)
	return d
}

// mapPath maps a path inside the container to the directory of the volume
// mounted there.
func (r *Run) mapPath(p *PodSpec, path string) (string, error) {
	for _, vm := range p.Container.VolumeMounts {
		rel, err := filepath.Rel(vm.MountPath, path)
		if err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(r.podDir(p, vm.Name), rel), nil
		}
	}
	return "", fmt.Errorf("pod %s: %s is on no volume (the root filesystem is read-only)", p.Name, path)
}

// process is a child process: its own process group, output prefixed with
// the pod's name, SIGTERM then the grace period then SIGKILL on stop.
type processContainer struct {
	r    *Run
	pod  *PodSpec
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *Run) process(p *PodSpec, path string, args []string, dir string, env []string) *processContainer {
	cmd := exec.Command(path, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = childAttr()
	return &processContainer{r: r, pod: p, cmd: cmd, done: make(chan struct{})}
}

func (c *processContainer) start() error {
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		return err
	}
	go c.r.prefix(c.pod.Name, pr)
	go func() {
		_ = c.cmd.Wait()
		_ = pw.Close()
		close(c.done)
	}()
	return nil
}

func (c *processContainer) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	terminate(c.cmd.Process)
	grace := 30 * time.Second
	if g := c.r.grace(c.pod); g > 0 {
		grace = g
	}
	select {
	case <-c.done:
	case <-time.After(grace):
		kill(c.cmd.Process)
		<-c.done
	}
}

func (c *processContainer) exited() <-chan struct{} { return c.done }

// inproc is the life of a server run in this process: stop shuts it down
// once (shut, set by start) and closes exited.
type inproc struct {
	once sync.Once
	done chan struct{}
	shut func()
}

func newInproc() inproc { return inproc{done: make(chan struct{})} }

func (c *inproc) stop() {
	c.once.Do(func() {
		if c.shut != nil {
			c.shut()
		}
		close(c.done)
	})
}

func (c *inproc) exited() <-chan struct{} { return c.done }

// stanContainer is nats-streaming-server run in this process with the
// manifest's args, parsed by the server's own flag parser; then its ports
// are mapped to the pod's local ones and its paths under the pod's volumes.
type stanContainer struct {
	r    *Run
	pod  *PodSpec
	args []string
	s    *stand.StanServer
	inproc
}

func (c *stanContainer) start() error {
	fs := flag.NewFlagSet("nats-streaming-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sopts, nopts, err := stand.ConfigureOptions(fs, c.args, func() {}, func() {}, func() {})
	if err != nil {
		return fmt.Errorf("nats-streaming-server %v: %w", c.args, err)
	}
	if err := c.r.mapNATS(c.pod, nopts); err != nil {
		return err
	}
	if sopts.FilestoreDir != "" {
		if sopts.FilestoreDir, err = c.r.mapPath(c.pod, sopts.FilestoreDir); err != nil {
			return err
		}
	}
	if sopts.Clustering.RaftLogPath != "" {
		if sopts.Clustering.RaftLogPath, err = c.r.mapPath(c.pod, sopts.Clustering.RaftLogPath); err != nil {
			return err
		}
	}
	nopts.NoSigs, nopts.NoLog = true, os.Getenv("MANIFESTRUN_NATS_LOG") == ""
	s, err := stand.RunServerWithOpts(sopts, nopts)
	if err != nil {
		return err
	}
	c.s, c.shut = s, s.Shutdown
	return nil
}

// natsContainer is nats-server (JetStream) in this process, as above.
type natsContainer struct {
	r    *Run
	pod  *PodSpec
	args []string
	s    *natsd.Server
	inproc
}

func (c *natsContainer) start() error {
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	opts, err := natsd.ConfigureOptions(fs, c.args, func() {}, func() {}, func() {})
	if err != nil {
		return fmt.Errorf("nats-server %v: %w", c.args, err)
	}
	if err := c.r.mapNATS(c.pod, opts); err != nil {
		return err
	}
	if opts.StoreDir != "" {
		if opts.StoreDir, err = c.r.mapPath(c.pod, opts.StoreDir); err != nil {
			return err
		}
	}
	opts.NoSigs, opts.NoLog = true, true
	s, err := natsd.NewServer(opts)
	if err != nil {
		return err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats-server not ready after 10s")
	}
	c.s, c.shut = s, s.Shutdown
	return nil
}

// mapNATS moves the client, monitoring and cluster ports the args chose
// (or the defaults) to the pod's local ports on loopback.
func (r *Run) mapNATS(p *PodSpec, o *natsd.Options) error {
	local := func(port int) (int, error) {
		lp, ok := r.net.PodPort(p.Name, int32(port))
		if !ok {
			return 0, fmt.Errorf("pod %s: NATS port %d is not a container port", p.Name, port)
		}
		return lp, nil
	}
	var err error
	o.Host = "127.0.0.1"
	if o.Port == 0 {
		o.Port = natsd.DEFAULT_PORT
	}
	if o.Port, err = local(o.Port); err != nil {
		return err
	}
	if o.HTTPPort > 0 {
		o.HTTPHost = "127.0.0.1"
		if o.HTTPPort, err = local(o.HTTPPort); err != nil {
			return err
		}
	}
	// --cluster nats://0.0.0.0:6222 stays a string until the server
	// starts: take its port now, so it can be mapped.
	if o.Cluster.ListenStr != "" {
		u, err := url.Parse(o.Cluster.ListenStr)
		if err != nil {
			return fmt.Errorf("pod %s: --cluster %s: %w", p.Name, o.Cluster.ListenStr, err)
		}
		port, err := strconv.Atoi(u.Port())
		if err != nil {
			return fmt.Errorf("pod %s: --cluster %s: no port", p.Name, o.Cluster.ListenStr)
		}
		o.Cluster.Port, o.Cluster.ListenStr = port, ""
	}
	if o.Cluster.Port > 0 {
		o.Cluster.Host = "127.0.0.1"
		if o.Cluster.Port, err = local(o.Cluster.Port); err != nil {
			return err
		}
	}
	return nil
}

// mongoContainer is the one substitution: the kit's FerretDB server on the
// pod's local port for 27017, its data on the pod's volume at /data/db.
type mongoContainer struct {
	r   *Run
	pod *PodSpec
	s   *mongokit.Server
	inproc
}

func (c *mongoContainer) start() error {
	lp, ok := c.r.net.PodPort(c.pod.Name, 27017)
	if !ok {
		return fmt.Errorf("pod %s: no container port 27017", c.pod.Name)
	}
	dir, err := c.r.mapPath(c.pod, "/data/db")
	if err != nil {
		return err
	}
	s, err := mongokit.Start(mongokit.Options{Dir: dir, Addr: "127.0.0.1:" + strconv.Itoa(lp)})
	if err != nil {
		return err
	}
	c.s, c.shut = s, func() { _ = s.Close() }
	return nil
}

// mongoPing answers the MongoDB pods' exec probe.
func mongoPing(n *Network, p *PodSpec) (func(context.Context) error, bool) {
	if ImageName(p.Container.Image) != "mongo" {
		return nil, false
	}
	return func(ctx context.Context) error {
		lp, _ := n.PodPort(p.Name, 27017)
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(lp))
		if err != nil {
			return err
		}
		return conn.Close()
	}, true
}
