package natskit_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/events/jsbus"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/services"
)

// The production JetStream configuration: the prod overlay mounts these
// files (deploytest checks that it does and that the stream has 3 replicas).
var (
	prodNATSConf = filepath.Join("..", "..", "infra", "k8s", "components", "jetstream-cluster", "nats.conf")
	prodStream   = filepath.Join("..", "..", "infra", "k8s", "components", "jetstream-cluster", "ticketing-stream.json")
)

// prodPasswords sets the environment the manifest's nats.conf reads (the
// Secret nats-credentials in the cluster) and returns the passwords.
func prodPasswords(t *testing.T) map[string]string {
	t.Setenv("POD_NAME", "nats-0")
	pw := map[string]string{}
	for _, s := range services.All {
		if !s.OnBus() {
			continue
		}
		svc := s.Name
		pw[svc] = fmt.Sprintf("%s-%d", svc, time.Now().UnixNano())
		t.Setenv("NATS_PASSWORD_"+strings.ToUpper(svc), pw[svc])
	}
	return pw
}

// TestProdJetStreamCluster runs the manifest's 3-node JetStream cluster,
// writes events as tickets while orders consumes them, kills the stream's
// leader half-way, and requires every event JetStream acknowledged to reach
// the consumer. Then it checks the users: no credentials, a wrong password
// and another service's subject are all refused.
func TestProdJetStreamCluster(t *testing.T) {
	pw := prodPasswords(t)
	c, err := natskit.StartCluster(prodNATSConf, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	summary, err := killLeaderUnderLoad(ctx, t, c, pw, prodStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(summary)

	// The stream was created from the manifest's definition.
	info := streamInfo(ctx, t, c.LiveURLs(), "tickets", pw["tickets"])
	if info.Config.Replicas != 3 || info.Config.MaxAge == 0 || info.Config.MaxBytes <= 0 {
		t.Fatalf("stream: replicas %d, max age %s, max bytes %d; want 3 and limits from %s", info.Config.Replicas, info.Config.MaxAge, info.Config.MaxBytes, prodStream)
	}

	t.Run("a connection without credentials is refused", func(t *testing.T) {
		nc, err := nats.Connect(c.LiveURLs(), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("connected without credentials")
		}
		if !errors.Is(err, nats.ErrAuthorization) && !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Fatalf("want an authorization error, got %v", err)
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		nc, err := nats.Connect(c.LiveURLs(), nats.UserInfo("orders", pw["payments"]), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("connected as orders with payments' password")
		}
	})
	t.Run("a service cannot publish another's subject", func(t *testing.T) {
		before := streamInfo(ctx, t, c.LiveURLs(), "tickets", pw["tickets"]).State.Msgs
		violation := denied(ctx, t, c.LiveURLs(), "orders", pw["orders"], func(nc *nats.Conn) error {
			return nc.Publish(events.SubjectPaymentCreated, []byte(`{"id":"forged"}`))
		})
		if !strings.Contains(violation, "Permissions Violation for Publish") {
			t.Fatalf("orders published payment:created; server said %q", violation)
		}
		if after := streamInfo(ctx, t, c.LiveURLs(), "tickets", pw["tickets"]).State.Msgs; after != before {
			t.Fatalf("the stream grew from %d to %d messages", before, after)
		}
	})
	t.Run("a service cannot listen to another's subjects off the wire", func(t *testing.T) {
		violation := denied(ctx, t, c.LiveURLs(), "orders", pw["orders"], func(nc *nats.Conn) error {
			_, err := nc.SubscribeSync(events.SubjectPaymentAuthorized + ".>")
			if err == nil {
				_, err = nc.SubscribeSync(events.SubjectOrderCreated)
			}
			return err
		})
		if !strings.Contains(violation, "Permissions Violation for Subscription") {
			t.Fatalf("orders subscribed to raw subjects; server said %q", violation)
		}
	})
}

// killLeaderUnderLoad creates the stream from streamFile, publishes events
// as tickets from 4 writers (each retrying until JetStream acknowledges, as
// the outbox does) while orders consumes them, kills the stream's leader
// after a third, and reports an error unless every acknowledged event is
// delivered before ctx ends.
func killLeaderUnderLoad(ctx context.Context, t *testing.T, c *natskit.Cluster, pw map[string]string, streamFile string) (string, error) {
	t.Helper()
	pub, err := jsbus.Connect(ctx, jsbus.Config{URL: c.URLs(), ClientID: "tickets-0", User: "tickets", Password: pw["tickets"],
		StreamFile: streamFile, ReconnectWait: 100 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer pub.Close()
	sub, err := jsbus.Connect(ctx, jsbus.Config{URL: c.URLs(), ClientID: "orders-0", User: "orders", Password: pw["orders"],
		StreamFile: streamFile, ReconnectWait: 100 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer sub.Close()

	var mu sync.Mutex
	got := map[string]bool{}
	var deliveries atomic.Int64
	if err := sub.Subscribe(events.Listener{Subject: events.SubjectTicketCreated, QueueGroup: events.GroupOrders, AckWait: time.Second,
		Handler: func(_ context.Context, m events.Message) error {
			deliveries.Add(1)
			mu.Lock()
			got[string(m.Data)] = true
			mu.Unlock()
			return nil
		}}); err != nil {
		return "", err
	}

	const total, writers = 1200, 4
	var acked sync.Map
	var published atomic.Int64
	killed := make(chan int, 1)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < total; i += writers {
				id := fmt.Sprintf("event-%04d", i)
				for {
					pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
					err := pub.Publish(pctx, events.SubjectTicketCreated, []byte(id))
					pcancel()
					if err == nil {
						break
					}
					if ctx.Err() != nil {
						return
					}
				}
				acked.Store(id, true)
				if published.Add(1) == total/3 {
					leader := c.StreamLeader(jsbus.DefaultStream)
					if leader >= 0 {
						c.Kill(leader)
					}
					killed <- leader
				}
			}
		}()
	}
	wg.Wait()
	var leader int
	select {
	case leader = <-killed:
	default:
		return "", fmt.Errorf("only %d of %d events were acknowledged before the leader could be killed", published.Load(), total)
	}
	if leader < 0 {
		return "", fmt.Errorf("no stream leader to kill")
	}
	if n := published.Load(); n != total {
		return "", fmt.Errorf("after killing the stream leader nats-%d only %d of %d events were acknowledged before the deadline", leader, n, total)
	}
	err = poll.Wait(ctx, poll.Interval, func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == total, nil
	})
	mu.Lock()
	var missing []string
	acked.Range(func(k, _ any) bool {
		if !got[k.(string)] {
			missing = append(missing, k.(string))
		}
		return true
	})
	mu.Unlock()
	if err != nil || len(missing) > 0 {
		return "", fmt.Errorf("after killing the stream leader nats-%d: %d of %d acknowledged events never delivered (e.g. %v): %v", leader, len(missing), total, first(missing, 5), err)
	}
	return fmt.Sprintf("killed stream leader nats-%d after %d events; all %d delivered (%d deliveries, redeliveries included)", leader, total/3, total, deliveries.Load()), nil
}

// A planted mistake: the same stream with one replica loses its only copy
// with the leader, and the load check reports it.
func TestProdClusterCheckCatchesASingleReplicaStream(t *testing.T) {
	pw := prodPasswords(t)
	data, err := os.ReadFile(prodStream)
	if err != nil {
		t.Fatal(err)
	}
	one := strings.Replace(string(data), `"num_replicas": 3`, `"num_replicas": 1`, 1)
	if one == string(data) {
		t.Fatal("the stream definition has no \"num_replicas\": 3 to plant a mistake in")
	}
	file := filepath.Join(t.TempDir(), "stream.json")
	if err := os.WriteFile(file, []byte(one), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := natskit.StartCluster(prodNATSConf, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if summary, err := killLeaderUnderLoad(ctx, t, c, pw, file); err == nil {
		t.Fatalf("a one-replica stream survived its leader's death: %s", summary)
	} else {
		t.Logf("caught: %v", err)
	}
}

// denied runs do on a fresh connection as user and returns the first
// asynchronous error the server sent ("" if none came).
func denied(ctx context.Context, t *testing.T, urls, user, password string, do func(*nats.Conn) error) string {
	t.Helper()
	errs := make(chan error, 4)
	nc, err := nats.Connect(urls, nats.UserInfo(user, password), nats.CustomInboxPrefix("_INBOX_"+user),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := do(nc); err != nil {
		return err.Error()
	}
	_ = nc.FlushTimeout(2 * time.Second)
	select {
	case err := <-errs:
		return err.Error()
	case <-time.After(2 * time.Second): // the server answers a violation before the flush's pong; this bounds a silent accept
		return ""
	case <-ctx.Done():
		return ""
	}
}

func streamInfo(ctx context.Context, t *testing.T, urls, user, password string) *jetstream.StreamInfo {
	t.Helper()
	nc, err := nats.Connect(urls, nats.UserInfo(user, password), nats.CustomInboxPrefix("_INBOX_"+user))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, jsbus.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo()
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

// A planted mistake: the same file without its authorization block lets
// anyone in, and the refusal check above sees that.
func TestProdNATSConfWithoutUsersAdmitsAnyone(t *testing.T) {
	prodPasswords(t)
	data, err := os.ReadFile(prodNATSConf)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, "authorization {")
	if i < 0 {
		t.Fatal("nats.conf has no authorization block")
	}
	open := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(open, []byte(text[:i]), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := natskit.StartCluster(open, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nc, err := nats.Connect(c.LiveURLs(), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("without the authorization block the server still refused: %v", err)
	}
	nc.Close()
}
