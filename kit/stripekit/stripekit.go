// Package stripekit runs a real stripe-mock (Stripe's API served locally over
// plain HTTP) for tests and for the local platform. The binary is built from
// the module pinned in kit/go.mod, never downloaded prebuilt.
package stripekit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Version is the stripe-mock release kit/go.mod pins; it names the cached
// binary, and Binary refuses to cache a build of any other version under it.
const Version = "v0.203.0"

const modulePath = "github.com/stripe/stripe-mock"

// Options configures Start.
type Options struct {
	// Addr is where the mock serves HTTP, e.g. "127.0.0.1:12111"; empty: a
	// random loopback port.
	Addr string
	// Output receives the mock's own log (from another goroutine); nil
	// discards it.
	Output io.Writer
}

// Mock is a running stripe-mock process.
type Mock struct {
	url      string
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process has been waited for
	waitErr  error
	stopOnce sync.Once
}

// Start builds stripe-mock if it is not cached yet, starts it and returns
// once it accepts requests. ctx bounds the build and the start-up, not the
// mock's life: Stop ends it (and on Linux it dies with this process).
func Start(ctx context.Context, opts Options) (*Mock, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	// stripe-mock also opens HTTPS on 12112 unless told where: a random
	// loopback port keeps parallel mocks from colliding on it.
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", "127.0.0.1:0")
	cmd.SysProcAttr = sysProcAttr()
	// The mock prints its address once it listens; the port may be random.
	watch := &addrWatcher{out: out, found: make(chan string, 1)}
	cmd.Stdout = watch
	var stderr bytes.Buffer // read only after Wait, when exec is done writing
	cmd.Stderr = &stderr

	m := &Mock{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the OS thread that forked the
		// child: keep this goroutine on its thread for the child's life.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		m.waitErr = cmd.Wait()
		close(m.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("stripekit: start %s: %w", bin, err)
	}

	select {
	case a := <-watch.found:
		m.url = "http://" + a
		return m, nil
	case <-m.done:
		return nil, fmt.Errorf("stripekit: stripe-mock exited before listening (%v): %s", m.waitErr, strings.TrimSpace(stderr.String()))
	case <-ctx.Done():
		_ = m.Stop()
		return nil, fmt.Errorf("stripekit: waiting for stripe-mock: %w", context.Cause(ctx))
	}
}

// URL is the mock's base URL (http://127.0.0.1:port), the value for
// STRIPE_API_URL.
func (m *Mock) URL() string { return m.url }

// Stop kills the mock and waits for it to exit. It reports an error only if
// the mock had already died on its own.
func (m *Mock) Stop() error {
	var err error
	m.stopOnce.Do(func() {
		select {
		case <-m.done:
			err = fmt.Errorf("stripekit: stripe-mock had exited: %v", m.waitErr)
		default:
			// Kill fails only when the process has just exited; Wait
			// reaps it either way.
			_ = m.cmd.Process.Kill()
		}
	})
	<-m.done
	return err
}

// addrWatcher passes the mock's stdout on and picks out the address line.
// exec calls Write from one goroutine, so it needs no lock.
type addrWatcher struct {
	out   io.Writer
	found chan string
	line  []byte
	done  bool
}

func (w *addrWatcher) Write(p []byte) (int, error) {
	_, _ = w.out.Write(p) // the log is best effort; never stall the mock
	if w.done {
		return len(p), nil
	}
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(w.line[:i]))
		w.line = w.line[i+1:]
		if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
			w.found <- a
			w.done, w.line = true, nil
			return len(p), nil
		}
	}
}

var shared = sync.OnceValues(func() (*Mock, error) { return Start(context.Background(), Options{}) })

// BaseURL returns the URL of a stripe-mock shared by every test of this
// process: it starts on first use (about a second) and dies with the process.
// The mock keeps no state between requests, so sharing it is safe.
func BaseURL(t testing.TB) string {
	t.Helper()
	m, err := shared()
	if err != nil {
		t.Fatalf("stripekit: %v", err)
	}
	return m.URL()
}

// Binary returns the path of a stripe-mock binary built from the version
// kit/go.mod pins, building it on first use into the user cache directory
// (a few seconds with a warm Go build cache, longer cold).
func Binary(ctx context.Context) (string, error) {
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, binName())
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	kit, err := kitDir(ctx)
	if err != nil {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("stripekit: building stripe-mock needs the go command: %w", err)
	}
	if v, err := goOutput(ctx, kit, goCmd, "list", "-m", "-f", "{{.Version}}", modulePath); err != nil {
		return "", err
	} else if v != Version {
		return "", fmt.Errorf("stripekit: kit/go.mod pins stripe-mock %s, this package expects %s", v, Version)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Parallel test processes may build at once: each builds to its own
	// name and renames, which is atomic, so none sees a half-written file.
	tmp, err := os.CreateTemp(dir, "stripe-mock-*.tmp")
	if err != nil {
		return "", err
	}
	_ = tmp.Close()
	defer os.Remove(tmp.Name())
	if _, err := goOutput(ctx, kit, goCmd, "build", "-o", tmp.Name(), modulePath); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Cached reports whether Binary has the binary already, so the local
// platform can say that its first start compiles it.
func Cached() bool {
	dir, err := cacheDir()
	if err != nil {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, binName()))
	return err == nil && fi.Mode().IsRegular()
}

// binName is the cached binary's file name: Windows runs only .exe files.
func binName() string {
	if runtime.GOOS == "windows" {
		return "stripe-mock.exe"
	}
	return "stripe-mock"
}

func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("stripekit: no cache directory: %w", err)
	}
	return filepath.Join(base, "ticketing", "stripe-mock-"+Version), nil
}

// kitDir finds the kit module's directory, whose go.mod pins stripe-mock:
// next to this source file when the test binary was built from the source
// tree (the usual case), else wherever the go command resolves the module.
func kitDir(ctx context.Context) (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	dir, err := goOutput(ctx, "", "go", "list", "-m", "-f", "{{.Dir}}", "github.com/ticketing-go/ticketing/kit")
	if err != nil {
		return "", fmt.Errorf("stripekit: cannot find the kit module: %w", err)
	}
	return dir, nil
}

func goOutput(ctx context.Context, dir, goCmd string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("stripekit: go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}
