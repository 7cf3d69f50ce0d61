package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// logLine is one JSON line a service wrote, as the stack's output holds it.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// serviceLines reads every JSON log line the stack's services wrote so far
// (devstack prefixes each with "  <service> | ").
func serviceLines(t *testing.T) []logLine {
	t.Helper()
	f, err := os.Open(stackLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, js, ok := strings.Cut(sc.Text(), "| {")
		if !ok {
			continue
		}
		var l logLine
		if json.Unmarshal([]byte("{"+js), &l) == nil && l.str("service") != "" {
			out = append(out, l)
		}
	}
	return out
}

// sighting is a log line a purchase must leave: a service's access log line
// for a path, or its "event handled" line for a subject about an entity.
type sighting struct {
	service, subject, path string
	key, value             string // the entity the event line names
	requestID              string
}

func (s sighting) String() string {
	what := s.path
	if s.subject != "" {
		what = fmt.Sprintf("%s %s=%s", s.subject, s.key, s.value)
	}
	return fmt.Sprintf("%s: %s with request_id %q", s.service, what, s.requestID)
}

// matches reports a line of s's service about s's request or event; the
// request id is compared by the caller.
func (s sighting) matches(l logLine) bool {
	if l.str("service") != s.service {
		return false
	}
	if s.path != "" {
		return l.str("msg") == "request" && l.str("path") == s.path
	}
	return l.str("msg") == "event handled" && l.str("subject") == s.subject && l.str(s.key) == s.value
}

// TestPurchaseFollowedThroughTheLogs makes one purchase with a chosen
// X-Request-Id per request and finds each id in the log lines of every
// service its request touched, through the events it caused (README,
// "Observability"). On JetStream the id rides each event as a header; NATS
// Streaming has no headers, so there the event lines name the entities but
// no request id, as documented.
func TestPurchaseFollowedThroughTheLogs(t *testing.T) {
	localOnly(t, "reads the services' logs")
	seller, buyer := signup(t), signup(t)
	status, tk := seller.do("POST", "/api/tickets", map[string]any{"title": "Traced", "price": 25})
	if status != 201 {
		t.Fatalf("create ticket: %d %v", status, tk)
	}
	ticketID := tk["id"].(string)
	orderReq := fmt.Sprintf("e2e-order-%d", time.Now().UnixNano())
	payReq := fmt.Sprintf("e2e-pay-%d", time.Now().UnixNano())

	buyer.requestID = orderReq
	orderID := orderWhenReplicated(t, buyer, ticketID)["id"].(string)
	buyer.requestID = payReq
	until(t, 10*time.Second, "the order to reach payments", func() bool {
		status, _ := buyer.do("POST", "/api/payments", map[string]string{"token": "tok_visa", "orderId": orderID})
		return status == 201
	})
	buyer.requestID = ""

	event := func(service, subject, key, value, id string) sighting {
		return sighting{service: service, subject: subject, key: key, value: value, requestID: id}
	}
	// The HTTP requests themselves: every bus.
	want := []sighting{
		{service: "orders", path: "/api/orders", requestID: orderReq},
		{service: "payments", path: "/api/payments", requestID: payReq},
	}
	// The events each request caused, in the services that handled them.
	caused := []sighting{
		event("tickets", "order:created", "order", orderID, orderReq),
		event("payments", "order:created", "order", orderID, orderReq),
		event("expiration", "order:created", "order", orderID, orderReq),
		event("orders", "ticket:updated", "order", orderID, orderReq), // tickets' reservation, back in orders
		event("orders", "payment:authorized", "order", orderID, payReq),
		event("payments", "order:completed", "order", orderID, payReq),
		event("tickets", "order:completed", "order", orderID, payReq),
		event("orders", "payment:created", "order", orderID, payReq),
	}
	bus := os.Getenv("EVENT_BUS")
	if bus != "jetstream" {
		// NATS Streaming: the events are handled and logged, with no id.
		for i := range caused {
			caused[i].requestID = ""
		}
	}
	want = append(want, caused...)

	var missing []sighting
	var lines []logLine
	found := map[string]logLine{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines = serviceLines(t)
		missing = missing[:0]
		for _, s := range want {
			for _, l := range lines {
				if s.matches(l) && l.str("request_id") == s.requestID {
					found[s.String()] = l
					break
				}
			}
			if _, ok := found[s.String()]; !ok {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, s := range want {
		if l, ok := found[s.String()]; ok {
			t.Logf("found %v: %s", s, l.str("msg"))
		}
	}
	for _, s := range missing {
		var seen []string
		for _, l := range lines {
			if s.matches(l) {
				seen = append(seen, fmt.Sprintf("request_id %q", l.str("request_id")))
			}
		}
		t.Errorf("EVENT_BUS=%s: no log line of %v (lines about it: %v)", bus, s, seen)
	}
	if bus != "jetstream" {
		// Nothing but the service that served a request names its id.
		for _, l := range lines {
			if id := l.str("request_id"); (id == orderReq && l.str("service") != "orders") || (id == payReq && l.str("service") != "payments") {
				t.Errorf("EVENT_BUS=%s carries no request id, yet %s logged %v", bus, l.str("service"), l)
			}
		}
	}
}
