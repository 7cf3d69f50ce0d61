package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketing-go/ticketing/common/eventbus"
	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/kit/services"
)

// TestSoak runs a mixed load for SOAK_DURATION (default 45s) and then checks
// that nothing leaked and nothing was lost: every ticket's events are
// exactly its versions, every order ended consistently with its ticket, and
// memory and goroutines stayed flat.
func TestSoak(t *testing.T) {
	localOnly(t, "reads the services' /metrics and the event bus directly")
	d := 45 * time.Second
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	rec := watchEvents(t)
	before := sampleAll(t)

	var mu sync.Mutex
	tickets := map[string]bool{}
	type placed struct {
		ticket string
		buyer  *user
	}
	orders := map[string]placed{}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			seller, buyer := signup(t), signup(t)
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for time.Now().Before(end) {
				status, tk := seller.do("POST", "/api/tickets", map[string]any{"title": "Soak", "price": rng.IntN(100) + 1})
				if status != 201 {
					t.Errorf("create: %d %v", status, tk)
					return
				}
				id := tk["id"].(string)
				mu.Lock()
				tickets[id] = true
				mu.Unlock()
				for range rng.IntN(3) {
					if status, body := seller.do("PUT", "/api/tickets/"+id, map[string]any{"title": "Soak edited", "price": rng.IntN(100) + 1}); status != 200 && status != 400 {
						t.Errorf("update: %d %v", status, body)
					}
				}
				var oid string
				for deadline := time.Now().Add(10 * time.Second); oid == "" && time.Now().Before(deadline); {
					status, o := buyer.do("POST", "/api/orders", map[string]string{"ticketId": id})
					switch status {
					case 201:
						oid = o["id"].(string)
					case 404:
						time.Sleep(5 * time.Millisecond) // the ticket is on its way to orders
					default:
						t.Errorf("order: %d %v", status, o)
						return
					}
				}
				if oid == "" {
					t.Errorf("ticket %s never reached orders", id)
					return
				}
				mu.Lock()
				orders[oid] = placed{id, buyer}
				mu.Unlock()
				switch rng.IntN(3) {
				case 0: // pay
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
						if status, _ := buyer.do("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": oid}); status == 201 {
							break
						}
					}
				case 1: // cancel
					if status, body := buyer.do("DELETE", "/api/orders/"+oid, nil); status != 204 {
						t.Errorf("cancel: %d %v", status, body)
					}
				default: // let it expire
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("soak: %d tickets, %d orders in %v", len(tickets), len(orders), d)

	// Every order ends complete or cancelled once its window has passed,
	// consistently with its ticket.
	status := func(oid string) string {
		_, o := orders[oid].buyer.do("GET", "/api/orders/"+oid, nil)
		s, _ := o["status"].(string)
		return s
	}
	until(t, window+30*time.Second, "every order to settle", func() bool {
		for oid := range orders {
			if s := status(oid); s != "complete" && s != "cancelled" {
				return false
			}
		}
		return true
	})
	disagree := func() []string {
		var out []string
		for oid, o := range orders {
			holder := ticketField(t, o.ticket, "orderId")
			if st := status(oid); (st == "complete") != (holder == oid) {
				out = append(out, fmt.Sprintf("order %s is %s, its ticket %s is held by %v", oid, st, o.ticket, holder))
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for bad := disagree(); len(bad) > 0; bad = disagree() {
		if time.Now().After(deadline) {
			t.Fatalf("%d orders disagree with their tickets, e.g. %v", len(bad), bad[:min(5, len(bad))])
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every ticket's events: one ticket:created, then updates 1..final
	// version, each exactly once.
	until(t, 30*time.Second, "every event delivered", func() bool {
		for id := range tickets {
			if !rec.complete(id, ticketVersion(t, id)) {
				return false
			}
		}
		return true
	})
	for id := range tickets {
		if msg := rec.exact(id, ticketVersion(t, id)); msg != "" {
			t.Errorf("ticket %s: %s", id, msg)
		}
	}

	after := sampleAll(t)
	for svc, b := range before {
		a := after[svc]
		if a.goroutines > b.goroutines+25 {
			t.Errorf("%s goroutines grew %d → %d", svc, b.goroutines, a.goroutines)
		}
		if a.rss > b.rss*2+20 {
			t.Errorf("%s RSS grew %.1f → %.1f MB", svc, b.rss, a.rss)
		}
		t.Logf("%s: goroutines %d → %d, RSS %.1f → %.1f MB", svc, b.goroutines, a.goroutines, b.rss, a.rss)
	}
}

func ticketField(t *testing.T, id, field string) any {
	anon := &user{t: t, http: http.DefaultClient}
	_, m := anon.do("GET", "/api/tickets/"+id, nil)
	return m[field]
}

func ticketVersion(t *testing.T, id string) int64 {
	v, _ := ticketField(t, id, "version").(float64)
	return int64(v)
}

type sample struct {
	goroutines int
	rss        float64
}

func sampleAll(t *testing.T) map[string]sample {
	out := map[string]sample{}
	for _, s := range services.All {
		svc := s.Name
		resp, err := http.Get(s.URL(portOffset) + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var s sample
		for line := range strings.SplitSeq(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 {
				continue
			}
			switch {
			case strings.HasPrefix(f[0], "go_goroutines"):
				n, _ := strconv.ParseFloat(f[1], 64)
				s.goroutines = int(n)
			case strings.HasPrefix(f[0], "process_resident_memory_bytes"):
				n, _ := strconv.ParseFloat(f[1], 64)
				s.rss = n / (1 << 20)
			}
		}
		out[svc] = s
	}
	return out
}

// eventLog records ticket events from the stack's bus from the beginning.
type eventLog struct {
	mu       sync.Mutex
	created  map[string]int
	versions map[string]map[int64]int
}

func watchEvents(t *testing.T) *eventLog {
	bus := os.Getenv("EVENT_BUS")
	if bus == "" {
		bus = "stan"
	}
	b, err := eventbus.Connect(context.Background(), eventbus.Config{Kind: bus, URL: fmt.Sprintf("nats://127.0.0.1:%d", 4222+portOffset),
		ClusterID: "ticketing", ClientID: fmt.Sprintf("soak-%d", time.Now().UnixNano()), AckWait: 5 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	l := &eventLog{created: map[string]int{}, versions: map[string]map[int64]int{}}
	group := fmt.Sprintf("soak-%d", time.Now().UnixNano())
	for _, subject := range []string{events.SubjectTicketCreated, events.SubjectTicketUpdated} {
		err := b.Subscribe(events.Listener{Subject: subject, QueueGroup: group, AckWait: 5 * time.Second, Handler: func(_ context.Context, m events.Message) error {
			var p struct {
				ID      string `json:"id"`
				Version int64  `json:"version"`
			}
			if err := json.Unmarshal(m.Data, &p); err != nil {
				return nil
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			if m.Subject == events.SubjectTicketCreated {
				l.created[p.ID]++
			} else {
				if l.versions[p.ID] == nil {
					l.versions[p.ID] = map[int64]int{}
				}
				l.versions[p.ID][p.Version]++
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func (l *eventLog) complete(id string, final int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.created[id] == 0 {
		return false
	}
	for v := int64(1); v <= final; v++ {
		if l.versions[id][v] == 0 {
			return false
		}
	}
	return true
}

func (l *eventLog) exact(id string, final int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.created[id] != 1 {
		return fmt.Sprintf("%d ticket:created events", l.created[id])
	}
	for v, n := range l.versions[id] {
		if n != 1 || v < 1 || v > final {
			return fmt.Sprintf("ticket:updated version %d seen %d times (final version %d)", v, n, final)
		}
	}
	if int64(len(l.versions[id])) != final {
		return fmt.Sprintf("%d updates for final version %d", len(l.versions[id]), final)
	}
	return ""
}
