package manifestrun

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/kit/poll"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// fakeContainer serves /healthz on the pod's local port: 200 while alive
// is set, 500 after.
type fakeContainer struct {
	port  int
	alive *atomic.Bool
	srv   *http.Server
	done  chan struct{}
	once  sync.Once
}

func (c *fakeContainer) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.port))
	if err != nil {
		return err
	}
	c.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !c.alive.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})}
	go func() { _ = c.srv.Serve(ln) }()
	return nil
}

func (c *fakeContainer) stop() {
	c.once.Do(func() { _ = c.srv.Close(); close(c.done) })
}

func (c *fakeContainer) exited() <-chan struct{} { return c.done }

// A container whose liveness probe fails failureThreshold times in a row is
// killed and started again, and the run reports it; readiness follows.
func TestLivenessFailureRestartsTheContainer(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	probe := func() *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(3000)}},
			PeriodSeconds: 1, FailureThreshold: 2}
	}
	pod := &PodSpec{Name: "web-0", Container: corev1.Container{Name: "web", Image: "web:1.0.0",
		Ports: []corev1.ContainerPort{{ContainerPort: 3000}}, ReadinessProbe: probe(), LivenessProbe: probe()}}
	n := &Network{podPorts: map[string]map[int32]int{"web-0": {3000: port}}}
	var alive atomic.Bool
	var starts atomic.Int32
	var mu sync.Mutex
	var log []string
	k := &kubelet{pod: pod, net: n, state: &podState{probeFailures: map[string]int{}, last: map[string]error{}},
		make: func() (container, error) {
			starts.Add(1)
			alive.Store(true)
			return &fakeContainer{port: port, alive: &alive, done: make(chan struct{})}, nil
		},
		log: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			log = append(log, fmt.Sprintf(format, args...))
		}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { k.run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	ready := func() bool { k.state.mu.Lock(); defer k.state.mu.Unlock(); return k.state.ready }
	poll.Until(t, 10*time.Second, ready, "the pod to become ready")
	alive.Store(false) // the process hangs: /healthz answers 500
	poll.Until(t, 10*time.Second, func() bool { return starts.Load() == 2 }, "the container to be started again")
	mu.Lock()
	joined := strings.Join(log, "\n")
	mu.Unlock()
	if !strings.Contains(joined, "restarted (1): liveness probe failed 2 times: GET /healthz: 500") {
		t.Errorf("the restart is not reported with its reason:\n%s", joined)
	}
	poll.Until(t, 10*time.Second, ready, "the restarted pod to become ready again")
}
