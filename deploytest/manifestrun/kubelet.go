package manifestrun

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// container is what runs in a pod: a process, or a server this process
// embeds. start returns once it runs; exited is closed when it ends by
// itself or by stop.
type container interface {
	start() error
	stop()
	exited() <-chan struct{}
}

// podState is what the kubelet stand-in knows of a pod.
type podState struct {
	mu            sync.Mutex
	ready         bool
	everReady     bool
	restarts      int
	probeFailures map[string]int // by probe kind, after the pod was first ready
	last          map[string]error
	kill          func() // stops the running container (RestartPod)
	killed        bool   // by RestartPod: the restart's reason
	started       time.Time
}

// kubelet runs one pod's container and its probes with the manifest's
// timings: the startupProbe first (liveness and readiness wait for it),
// then readiness (in and out of the Services) and liveness, whose failure
// threshold kills the container; it is started again, and the restart is
// reported. A container that ends by itself is restarted too.
type kubelet struct {
	pod   *PodSpec
	net   *Network
	state *podState
	make  func() (container, error)
	log   func(format string, args ...any)
}

func (k *kubelet) run(ctx context.Context) {
	for ctx.Err() == nil {
		c, err := k.make()
		if err == nil {
			err = c.start()
		}
		if err != nil {
			k.log("  ✗ %-24s cannot start: %v", k.pod.Name, err)
			k.restarted(ctx, "start failed")
			continue
		}
		k.state.mu.Lock()
		k.state.kill = func() {
			k.state.mu.Lock()
			k.state.killed = true
			k.state.mu.Unlock()
			c.stop()
		}
		k.state.started = time.Now()
		k.state.mu.Unlock()
		reason := k.watch(ctx, c)
		k.state.mu.Lock()
		if k.state.killed {
			reason, k.state.killed = "the pod was deleted (RestartPod)", false
		}
		k.state.mu.Unlock()
		c.stop()
		k.setReady(false)
		if ctx.Err() != nil {
			return
		}
		k.restarted(ctx, reason)
	}
}

// restarted counts a restart and waits a little, as the kubelet's back-off
// does (a fixed second here).
func (k *kubelet) restarted(ctx context.Context, reason string) {
	k.state.mu.Lock()
	k.state.restarts++
	n := k.state.restarts
	k.state.mu.Unlock()
	k.log("  ↻ %-24s restarted (%d): %s", k.pod.Name, n, reason)
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

func (k *kubelet) setReady(r bool) {
	k.state.mu.Lock()
	k.state.ready = r
	if r {
		k.state.everReady = true
	}
	k.state.mu.Unlock()
}

// watch runs the probes until the container must be restarted, and says why.
func (k *kubelet) watch(ctx context.Context, c container) string {
	started := time.Now()
	ctr := &k.pod.Container
	if p := ctr.StartupProbe; p != nil {
		if why := k.until(ctx, c, started, "startup", p, true); why != "" {
			return why
		}
	}
	done := make(chan string, 2)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if p := ctr.ReadinessProbe; p != nil {
		go func() { done <- k.loop(wctx, c, started, "readiness", p) }()
	} else {
		k.setReady(true)
	}
	if p := ctr.LivenessProbe; p != nil {
		go func() { done <- k.loop(wctx, c, started, "liveness", p) }()
	}
	select {
	case why := <-done:
		return why
	case <-c.exited():
		return "the container exited"
	case <-ctx.Done():
		return ""
	}
}

// until runs a startup probe until it succeeds ("") or fails
// failureThreshold times in a row (why).
func (k *kubelet) until(ctx context.Context, c container, started time.Time, kind string, p *corev1.Probe, _ bool) string {
	failures := 0
	if !sleepUntil(ctx, c, started.Add(seconds(p.InitialDelaySeconds, 0))) {
		return "the container exited"
	}
	for {
		err := k.probe(ctx, p)
		k.record(kind, err, false)
		if err == nil {
			return ""
		}
		failures++
		if failures >= int(orDefault(p.FailureThreshold, 3)) {
			return fmt.Sprintf("%s probe failed %d times: %v", kind, failures, err)
		}
		if !sleepUntil(ctx, c, time.Now().Add(seconds(p.PeriodSeconds, 10))) {
			return "the container exited"
		}
	}
}

// loop runs a readiness or liveness probe for the container's life.
func (k *kubelet) loop(ctx context.Context, c container, started time.Time, kind string, p *corev1.Probe) string {
	failures, successes := 0, 0
	if !sleepUntil(ctx, c, started.Add(seconds(p.InitialDelaySeconds, 0))) {
		return ""
	}
	for {
		err := k.probe(ctx, p)
		if ctx.Err() != nil {
			return ""
		}
		k.record(kind, err, true)
		if err == nil {
			failures, successes = 0, successes+1
			if kind == "readiness" && successes >= int(orDefault(p.SuccessThreshold, 1)) {
				k.becameReady()
			}
		} else {
			failures, successes = failures+1, 0
			if failures >= int(orDefault(p.FailureThreshold, 3)) {
				if kind == "liveness" {
					return fmt.Sprintf("liveness probe failed %d times: %v", failures, err)
				}
				k.setReady(false)
			}
		}
		if !sleepUntil(ctx, c, time.Now().Add(seconds(p.PeriodSeconds, 10))) {
			return ""
		}
	}
}

func (k *kubelet) becameReady() {
	k.state.mu.Lock()
	first := !k.state.everReady
	was := k.state.ready
	k.state.ready, k.state.everReady = true, true
	took := time.Since(k.state.started).Round(time.Millisecond)
	k.state.mu.Unlock()
	// As make run prints each component: name, time to ready, what it is.
	if first {
		k.log("  ✓ %-24s ready in %-7s %s", k.pod.Name, took, k.pod.Container.Image)
	} else if !was {
		k.log("  ✓ %-24s ready again in %s", k.pod.Name, took)
	}
}

func (k *kubelet) record(kind string, err error, counts bool) {
	k.state.mu.Lock()
	defer k.state.mu.Unlock()
	k.state.last[kind] = err
	if err != nil && counts && k.state.everReady {
		k.state.probeFailures[kind]++
	}
}

// probe runs one probe against the pod's local ports.
func (k *kubelet) probe(ctx context.Context, p *corev1.Probe) error {
	timeout := seconds(p.TimeoutSeconds, 1)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	local := func(port string) (string, error) {
		cp, err := containerPort(&k.pod.Container, port)
		if err != nil {
			return "", err
		}
		lp, ok := k.net.PodPort(k.pod.Name, cp)
		if !ok {
			return "", fmt.Errorf("port %d is not a container port", cp)
		}
		return "127.0.0.1:" + strconv.Itoa(lp), nil
	}
	switch {
	case p.HTTPGet != nil:
		addr, err := local(p.HTTPGet.Port.String())
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+p.HTTPGet.Path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		// The kubelet counts 200–399 as success.
		if resp.StatusCode < 200 || resp.StatusCode >= 400 {
			return fmt.Errorf("GET %s: %d", p.HTTPGet.Path, resp.StatusCode)
		}
		return nil
	case p.TCPSocket != nil:
		addr, err := local(p.TCPSocket.Port.String())
		if err != nil {
			return err
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	case p.Exec != nil:
		// Only the substituted MongoDB has an exec probe (mongosh ping):
		// its stand-in answers the same question over the wire.
		if ex, ok := k.execProbe(); ok {
			return ex(ctx)
		}
		return fmt.Errorf("exec probe %v: not supported for %s", p.Exec.Command, k.pod.Container.Image)
	}
	return fmt.Errorf("probe without a handler")
}

// execProbe is set by the image stand-ins that answer an exec probe.
func (k *kubelet) execProbe() (func(context.Context) error, bool) {
	return mongoPing(k.net, k.pod)
}

func sleepUntil(ctx context.Context, c container, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-c.exited():
		return false
	}
}

func seconds(v, def int32) time.Duration {
	if v == 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

func orDefault(v, d int32) int32 {
	if v == 0 {
		return d
	}
	return v
}
