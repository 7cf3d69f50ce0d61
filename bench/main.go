// Command bench is `make bench`: it starts the platform (or benches a running
// one at -url through its public API),
// runs fixed scenarios through the gateway and direct to each service beside
// the limits they are measured against (a bare net/http handler, the raw
// driver's findOne), and writes a table to stdout and bench/results.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/kit/services"
	"github.com/ticketing-go/ticketing/kit/tlstrust"
)

type row struct {
	name     string
	rps      float64
	p50, p90 time.Duration
	p99      time.Duration
	errors   uint64
	note     string
}

var (
	duration = flag.Duration("duration", 5*time.Second, "how long each scenario runs")
	workers  = flag.Int("c", 16, "concurrent clients")
	outDir   = flag.String("out", "bench/results", "where the results file goes")
	bus      = flag.String("bus", "stan", "event bus of the stack: stan or jetstream")
	baseURL  = flag.String("url", "", "bench a running platform at this base URL (the gateway or the ingress) instead of starting one: only the scenarios that need nothing but its HTTP API")
	only     = flag.String("only", "", "run one scenario on a fresh stack instead of all: "+strings.Join(slices.Sorted(maps.Keys(scenarios)), ", "))
	nBuy     = flag.Int("purchases", 100, "purchases the purchase flow measures, one at a time (its p99 is the slowest but one of 100)")
	caFile   = flag.String("ca", "", "PEM file of a certificate to trust besides the system's roots (a dev cluster's self-signed certificate or private CA)")
	rows     []row
	// tlsConfig is what every client of the bench verifies servers with.
	tlsConfig *tls.Config
)

func main() {
	flag.Parse()
	if *caFile != "" {
		var err error
		if tlsConfig, err = tlstrust.Config(*caFile); err != nil {
			fail(fmt.Errorf("-ca: %w", err))
		}
		http.DefaultTransport.(*http.Transport).TLSClientConfig = tlsConfig
	}
	root, _ := os.Getwd()
	if *only != "" {
		runOnly(root, *only)
		return
	}
	if *baseURL != "" {
		remote(strings.TrimSuffix(*baseURL, "/"))
		report()
		return
	}
	fmt.Println("starting the bench stack…")
	st, err := startStack(root, *bus)
	if err != nil {
		fail(err)
	}
	startup(st)
	if err := runAll(st); err != nil {
		st.stop()
		fail(err)
	}
	st.stop()
	// Event latency on fresh stacks of both transports, so they compare;
	// ticket create on the fresh one too, since on FerretDB every write
	// scans its collection and the main stack's holds 10,000 tickets now.
	other := map[string]string{"stan": "jetstream", "jetstream": "stan"}[*bus]
	for _, b := range []string{*bus, other} {
		fmt.Println("starting a fresh bench stack on", b, "…")
		st, err = startStack(root, b)
		if err != nil {
			fail(err)
		}
		seller := signup()
		if b == *bus {
			freshStack(st, seller, b)
		} else {
			eventLatency(seller, b, "fresh stack")
		}
		st.stop()
	}
	publishToHandler(root)
	report()
}

// scenarios are what -only can run alone, each on a fresh stack.
var scenarios = map[string]func(st *stack, seller string){
	"two-replicas": func(st *stack, seller string) {
		twoReplicas(st, seller, *bus, eventLatency(seller, *bus, "fresh stack, one process per service"))
	},
	"fresh":    func(st *stack, seller string) { freshStack(st, seller, *bus) },
	"purchase": func(_ *stack, seller string) { purchase(seller, signup()) },
}

// freshStack is what the bench measures on a fresh stack of the main bus:
// event latency with one process per service, then with two each of
// tickets and orders, then ticket creation under load (last: it leaves a
// backlog of events behind).
func freshStack(st *stack, seller, bus string) {
	one := eventLatency(seller, bus, "fresh stack")
	twoReplicas(st, seller, bus, one)
	attack("ticket create direct", post(direct["tickets"]+"/api/tickets", seller, `{"title":"Bench","price":"20.00"}`), "fresh stack, 400 tickets")
}

// runOnly runs one scenario on a fresh stack and writes its rows to
// <date>-<name>.md, beside (not over) the full run's results.
func runOnly(root, name string) {
	run, ok := scenarios[name]
	if !ok {
		fail(fmt.Errorf("-only %s: no such scenario (have %s)", name, strings.Join(slices.Sorted(maps.Keys(scenarios)), ", ")))
	}
	fmt.Println("starting a fresh bench stack on", *bus, "…")
	st, err := startStack(root, *bus)
	if err != nil {
		fail(err)
	}
	run(st, signup())
	st.stop()
	resultSuffix = "-" + name
	report()
}

// resultSuffix tells a partial run's results file apart.
var resultSuffix string

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func runAll(st *stack) error {
	idle := rssAll()
	seller := signup()
	buyerCookie := signup()

	// currentuser: the bare handler is the ceiling.
	bare := bareServer()
	attack("bare net/http handler (limit)", get(bare+"/", ""), "")
	attack("currentuser direct", get(direct["auth"]+"/api/users/currentuser", seller), "")
	attack("currentuser via gateway", get(gatewayURL+"/api/users/currentuser", seller), "")

	// ticket show against raw findOne on the same database.
	var ids []string
	for range 100 {
		ids = append(ids, createTicket(seller))
	}
	findOne(ids)
	attack("ticket show direct", getMany(direct["tickets"]+"/api/tickets/", ids), "")
	attack("ticket show via gateway", getMany(gatewayURL+"/api/tickets/", ids), "")
	attack("ticket list (100 tickets, page 100)", get(direct["tickets"]+"/api/tickets?limit=100", ""), "")
	// The same at one client, to compare the CPU per request with 10,000.
	listCost(st, "ticket list (100 tickets, page 100, 1 client)", 1, *duration)
	// Latencies first, while no backlog of events is waiting.
	purchase(seller, buyerCookie)
	eventLatency(seller, *bus, "after the scenarios above")
	attack("signin (bcrypt cost 10)", post(direct["auth"]+"/api/users/signin", "", `{"email":"`+benchEmail+`","password":"Passw0rd!"}`), "successful sign-ins (only failures are rate limited)")
	grow(seller, 10000)
	// One client: FerretDB answers one scan at a time behind its gate, so
	// more clients would only queue (and time out) behind each other.
	listCost(st, "ticket list (10,000 tickets, page 100, 1 client)", 1, max(*duration, 10*time.Second))
	loaded := rssAll()
	rows = append(rows, row{name: "RSS idle → after load", note: rssLine(idle, loaded)})
	return nil
}

// listCost runs the list scenario and notes the CPU it cost per request in
// the tickets process (our code) and in the dev stack's process (where the
// embedded FerretDB runs), from the kernel's per-thread run-time counters.
func listCost(st *stack, name string, clients int, d time.Duration) {
	tr := get(direct["tickets"]+"/api/tickets?limit=100", "")
	tickets := pidOf(st.bin + "/tickets")
	runAttack(name, tr, clients, time.Second) // warm-up
	// The processes also work in the background (outbox passes, the bus's
	// heartbeats, health checks): measure that first, take it out below.
	const idle = 3 * time.Second
	b0, g0 := cpuTime(tickets), cpuTime(st.pid)
	time.Sleep(idle)
	bgTickets := float64(cpuTime(tickets)-b0) / float64(idle)
	bgFerret := float64(cpuTime(st.pid)-g0) / float64(idle)

	start, t0, f0 := time.Now(), cpuTime(tickets), cpuTime(st.pid)
	m := runAttack(name, tr, clients, d)
	t1, f1, elapsed := cpuTime(tickets), cpuTime(st.pid), time.Since(start)
	record(name, m, "")
	if m.Requests == 0 {
		return
	}
	per := func(used time.Duration, bg float64) time.Duration {
		return (used - time.Duration(bg*float64(elapsed))) / time.Duration(m.Requests)
	}
	rows[len(rows)-1].note = fmt.Sprintf("%d client(s); CPU per request, background taken out: tickets service %v, dev stack (FerretDB) %v",
		clients, per(t1-t0, bgTickets).Round(10*time.Microsecond), per(f1-f0, bgFerret).Round(10*time.Microsecond))
}

// startup reports how long each service took from exec to a 200 on /readyz,
// as the dev stack printed it (it polls every 20 ms, so this is an upper
// bound).
func startup(st *stack) {
	log, _ := os.ReadFile(st.log)
	var parts []string
	for _, svc := range services.Names() {
		for line := range strings.SplitSeq(string(log), "\n") {
			f := strings.Fields(line)
			if len(f) >= 5 && f[0] == "✓" && f[1] == svc && f[2] == "ready" && f[3] == "in" {
				parts = append(parts, svc+" "+f[4])
			}
		}
	}
	rows = append(rows, row{name: "start-up: exec → /readyz 200", note: strings.Join(parts, "; ")})
}

// publishToHandler runs the event bus's Go benchmark (kit/bustest: Publish,
// acknowledged by the server, until the handler runs; file stores) on both
// transports and reports its percentiles.
func publishToHandler(root string) {
	fmt.Println("publish → handler benchmark…")
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkPublishToHandler$", "-benchtime", "3000x", "./bustest")
	cmd.Dir = filepath.Join(root, "kit")
	out, err := cmd.CombinedOutput()
	if err != nil {
		rows = append(rows, row{name: "publish → handler", note: "benchmark failed: " + err.Error()})
		return
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "BenchmarkPublishToHandler/") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(f[0], "BenchmarkPublishToHandler/"), "-")
		r := row{name: "publish → handler", note: "one at a time, file store, " + name}
		for i := 1; i < len(f); i++ {
			var v float64
			if _, err := fmt.Sscanf(f[i-1], "%g", &v); err != nil {
				continue
			}
			switch f[i] {
			case "p50-µs":
				r.p50 = time.Duration(v * float64(time.Microsecond))
			case "p99-µs":
				r.p99 = time.Duration(v * float64(time.Microsecond))
			}
		}
		rows = append(rows, r)
	}
}

// remote benches a platform it did not start, through its public base URL
// only: no direct service ports, databases, processes or expiry window.
func remote(base string) {
	gatewayURL = base
	for svc := range direct {
		direct[svc] = base
	}
	remoteMode = true
	seller, buyer := signup(), signup()
	bare := bareServer()
	attack("bare net/http handler (limit, local)", get(bare+"/", ""), "")
	attack("currentuser", get(base+"/api/users/currentuser", seller), "")
	var ids []string
	for range 100 {
		ids = append(ids, createTicket(seller))
	}
	attack("ticket show", getMany(base+"/api/tickets/", ids), "")
	attack("ticket list (page 100)", get(base+"/api/tickets?limit=100", ""), "")
	purchase(seller, buyer)
	attack("ticket create", post(base+"/api/tickets", seller, `{"title":"Bench","price":"20.00"}`), "")
	attack("signin (bcrypt)", post(base+"/api/users/signin", "", `{"email":"`+benchEmail+`","password":"Passw0rd!"}`), "successful sign-ins")
}

// remoteMode: no database to look into; waitReplica asks the API instead.
var remoteMode bool

var benchEmail string

func signup() string {
	email := fmt.Sprintf("bench%d@test.io", time.Now().UnixNano())
	if benchEmail == "" {
		benchEmail = email
	}
	resp, err := http.Post(gatewayURL+"/api/users/signup", "application/json", strings.NewReader(`{"email":"`+email+`","password":"Passw0rd!"}`))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	for _, line := range resp.Header.Values("Set-Cookie") {
		if nv, _, _ := strings.Cut(line, ";"); strings.HasPrefix(nv, "express:sess=") {
			return nv
		}
	}
	panic("no session cookie")
}

func doJSON(method, url, cookie, body string) (int, map[string]any) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func createTicket(cookie string) string { return createTicketAt(direct["tickets"], cookie) }

// createTicketAt creates a ticket through the tickets process at base.
func createTicketAt(base, cookie string) string {
	status, m := doJSON("POST", base+"/api/tickets", cookie, `{"title":"Bench ticket","price":"20.00"}`)
	if status != 201 {
		panic(fmt.Sprintf("create ticket: %d %v", status, m))
	}
	return m["id"].(string)
}

func headers(cookie string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if cookie != "" {
		h.Set("Cookie", cookie)
	}
	return h
}

func get(url, cookie string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url, Header: headers(cookie)})
}

func getMany(prefix string, ids []string) vegeta.Targeter {
	ts := make([]vegeta.Target, len(ids))
	for i, id := range ids {
		ts[i] = vegeta.Target{Method: "GET", URL: prefix + id}
	}
	return vegeta.NewStaticTargeter(ts...)
}

func post(url, cookie, body string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Header: headers(cookie), Body: []byte(body)})
}

// attack runs a closed loop of -c workers as fast as they go: first a warm-up,
// then -duration measured.
func attack(name string, tr vegeta.Targeter, note string) {
	attackWith(name, tr, note, *workers, *duration)
}

func attackWith(name string, tr vegeta.Targeter, note string, clients int, d time.Duration) {
	runAttack(name, tr, clients, time.Second) // warm-up
	record(name, runAttack(name, tr, clients, d), note)
}

func runAttack(name string, tr vegeta.Targeter, clients int, d time.Duration) vegeta.Metrics {
	opts := []func(*vegeta.Attacker){vegeta.Workers(uint64(clients)), vegeta.MaxWorkers(uint64(clients)), vegeta.KeepAlive(true), vegeta.Connections(clients)}
	if tlsConfig != nil {
		opts = append(opts, vegeta.TLSConfig(tlsConfig))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	for res := range a.Attack(tr, vegeta.Rate{Freq: 0}, d, name) {
		m.Add(res)
	}
	m.Close()
	return m
}

func record(name string, m vegeta.Metrics, note string) {
	errs := uint64(0)
	for code, n := range m.StatusCodes {
		if !strings.HasPrefix(code, "2") {
			errs += uint64(n)
		}
	}
	r := row{name: name, rps: m.Throughput, p50: m.Latencies.P50, p90: m.Latencies.P90, p99: m.Latencies.P99, errors: errs, note: note}
	rows = append(rows, r)
	fmt.Printf("  %-40s %8.0f req/s  p50 %-9v p99 %-9v errors %d\n", name, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), errs)
}

// bareServer is the ceiling for currentuser: net/http writing a fixed body.
func bareServer() string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"currentUser":null}`)
	}))
	return "http://" + ln.Addr().String()
}

// findOne is the ceiling for ticket show: the driver alone, same database,
// same ids, same concurrency.
func findOne(ids []string) {
	c, err := mongo.Connect(options.Client().ApplyURI(mongoURI["tickets"]))
	if err != nil {
		panic(err)
	}
	defer c.Disconnect(context.Background())
	coll := c.Database("tickets").Collection("tickets")
	oids := make([]bson.ObjectID, len(ids))
	for i, id := range ids {
		oids[i], _ = bson.ObjectIDFromHex(id)
	}
	lat := loop(time.Second, func(i int) error {
		return coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: oids[i%len(oids)]}}).Err()
	})
	_ = lat
	lat = loop(*duration, func(i int) error {
		return coll.FindOne(context.Background(), bson.D{{Key: "_id", Value: oids[i%len(oids)]}}).Err()
	})
	rows = append(rows, summarize("raw driver findOne (limit)", lat, *duration, ""))
}

type sample struct {
	d   time.Duration
	err bool
}

// loop runs fn from -c goroutines for d and returns every latency.
func loop(d time.Duration, fn func(i int) error) []sample {
	var mu sync.Mutex
	var all []sample
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			var mine []sample
			for i := w; time.Now().Before(end); i += *workers {
				t := time.Now()
				err := fn(i)
				mine = append(mine, sample{time.Since(t), err != nil})
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}

func summarize(name string, s []sample, d time.Duration, note string) row {
	ds := make([]time.Duration, len(s))
	errs := uint64(0)
	for i, x := range s {
		ds[i] = x.d
		if x.err {
			errs++
		}
	}
	r := row{name: name, errors: errs, note: note}
	if d > 0 {
		r.rps = float64(len(s)) / d.Seconds()
	}
	if len(ds) > 0 {
		slices.Sort(ds)
		r.p50, r.p90, r.p99 = ds[len(ds)*50/100], ds[len(ds)*90/100], ds[min(len(ds)-1, len(ds)*99/100)]
	}
	fmt.Printf("  %-40s %8.0f /s     p50 %-9v p99 %-9v errors %d\n", name, r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), errs)
	return r
}

// purchase measures the flow a buyer waits on: POST /api/orders until the
// ticket shows the orderId, then the payment; and expiresAt → cancelled.
func purchase(seller, buyer string) {
	n := *nBuy
	var reserve, pay, flow []sample
	for range n {
		id := createTicket(seller)
		waitReplica(id)
		t0 := time.Now()
		status, o := doJSON("POST", gatewayURL+"/api/orders", buyer, `{"ticketId":"`+id+`"}`)
		for deadline := time.Now().Add(30 * time.Second); remoteMode && status == 404 && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond) // the replica has not heard of the ticket yet
			t0 = time.Now()
			status, o = doJSON("POST", gatewayURL+"/api/orders", buyer, `{"ticketId":"`+id+`"}`)
		}
		if status != 201 {
			panic(fmt.Sprintf("order: %d %v", status, o))
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			_, tk := doJSON("GET", direct["tickets"]+"/api/tickets/"+id, "", "")
			if tk["orderId"] == o["id"] {
				break
			}
			if time.Now().After(deadline) {
				panic("the ticket was not reserved within 30s")
			}
		}
		reserve = append(reserve, sample{d: time.Since(t0)})
		t1 := time.Now()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
			status, _ := doJSON("POST", gatewayURL+"/api/payments", buyer, `{"token":"tok_visa","orderId":"`+o["id"].(string)+`"}`)
			if status == 201 {
				break
			}
			if time.Now().After(deadline) {
				panic("the payment was not accepted within 30s")
			}
		}
		pay = append(pay, sample{d: time.Since(t1)})
		flow = append(flow, sample{d: time.Since(t0)})
	}
	rows = append(rows, summarize("order → ticket shows orderId", reserve, 0, fmt.Sprintf("%d orders, one at a time", n)))
	provider := "stripe-mock"
	if remoteMode {
		provider = "" // whatever Stripe peer the target talks to
	}
	rows = append(rows, summarize("payment (accepted → 201)", pay, 0, provider))
	rows = append(rows, summarize("purchase flow (order + pay)", flow, 0, ""))

	if remoteMode {
		return // its expiration window is not ours to set
	}
	// Expiry: orders of the bench stack expire after 2 s. One poller reads
	// the orders database for all of them at once every 2 ms: a poller per
	// order through the API would queue on the very database the
	// cancellations write to, and measure that queue.
	expiresAt := map[bson.ObjectID]time.Time{}
	var pending bson.A
	for range 20 {
		id := createTicket(seller)
		waitReplica(id)
		_, o := doJSON("POST", gatewayURL+"/api/orders", buyer, `{"ticketId":"`+id+`"}`)
		oid, _ := bson.ObjectIDFromHex(o["id"].(string))
		expiresAt[oid], _ = time.Parse(time.RFC3339, o["expiresAt"].(string))
		pending = append(pending, oid)
	}
	var expiry []sample
	for deadline := time.Now().Add(60 * time.Second); len(expiry) < len(pending) && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		cur, err := ordersDB().Collection("orders").Find(context.Background(),
			bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: pending}}}, {Key: "status", Value: "cancelled"}},
			options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			continue
		}
		var done []struct {
			ID bson.ObjectID `bson:"_id"`
		}
		_ = cur.All(context.Background(), &done)
		for _, d := range done {
			if at, ok := expiresAt[d.ID]; ok {
				expiry = append(expiry, sample{d: time.Since(at)})
				delete(expiresAt, d.ID)
			}
		}
	}
	rows = append(rows, summarize("expiresAt → order cancelled", expiry, 0, "20 orders, 2 s window"))
}

// ordersDB is the orders service's database, for polling its replica. One
// client for the whole run: connecting per poll would add a handshake to
// every measured latency.
var ordersDB = sync.OnceValue(func() *mongo.Database {
	c, err := mongo.Connect(options.Client().ApplyURI(mongoURI["orders"]))
	if err != nil {
		panic(err)
	}
	return c.Database("orders")
})

// waitReplica waits until the orders service has the ticket. Remotely it
// cannot look, so it returns at once: the order below is retried while the
// orders service answers 404 for a ticket it has not heard of yet.
func waitReplica(id string) {
	if remoteMode {
		return
	}
	oid, _ := bson.ObjectIDFromHex(id)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		n, _ := ordersDB().Collection("tickets").CountDocuments(context.Background(), bson.D{{Key: "_id", Value: oid}})
		if n == 1 {
			return
		}
		time.Sleep(2 * time.Millisecond) // gentle: the poll shares the database it measures
	}
	panic("the orders replica did not get the ticket within 60s")
}

// eventLatency: the ticket is created (201: written with its event) → the
// orders replica has it, through the outbox relay, the bus and the orders
// listener. The create request's own latency is noted beside it.
// With several tickets URLs the creates go to each in turn.
func eventLatency(seller, bus, when string, ticketsURLs ...string) row {
	const n = 200
	if len(ticketsURLs) == 0 {
		ticketsURLs = []string{direct["tickets"]}
	}
	var event, create []sample
	for i := range n {
		t0 := time.Now()
		id := createTicketAt(ticketsURLs[i%len(ticketsURLs)], seller)
		t1 := time.Now()
		waitReplica(id)
		event = append(event, sample{d: time.Since(t1)})
		create = append(create, sample{d: t1.Sub(t0)})
	}
	c := summarize("(create request)", create, 0, "")
	r := summarize("ticket created (201) → orders replica", event, 0,
		fmt.Sprintf("%d tickets, one at a time, %s, %s; the create request itself: p50 %v, p99 %v", n, bus, when, c.p50.Round(10*time.Microsecond), c.p99.Round(10*time.Microsecond)))
	rows = append(rows, r)
	return r
}

// grow inserts filler tickets straight into the tickets database until it
// holds n, as the tickets service stores them (no events: the list only
// reads the collection). Through the API, each would also put an event
// through the outbox and the orders replica, whose conditional writes scan
// the collection on FerretDB: at 10,000 that takes many minutes.
func grow(seller string, n int) {
	c, err := mongo.Connect(options.Client().ApplyURI(mongoURI["tickets"]))
	if err != nil {
		panic(err)
	}
	defer func() { _ = c.Disconnect(context.Background()) }()
	coll := c.Database("tickets").Collection("tickets")
	have, _ := coll.CountDocuments(context.Background(), bson.D{})
	owner := userID(seller)
	for left := n - int(have); left > 0; left -= 1000 {
		docs := make([]any, min(left, 1000))
		for i := range docs {
			docs[i] = bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "title", Value: "Filler"}, {Key: "price", Value: int64(500)},
				{Key: "userId", Value: owner}, {Key: "version", Value: int64(0)}, {Key: "createdAt", Value: time.Now()}}
		}
		if _, err := coll.InsertMany(context.Background(), docs); err != nil {
			panic(err)
		}
	}
}

// userID is the id of the session's user.
func userID(cookie string) string {
	_, m := doJSON("GET", direct["auth"]+"/api/users/currentuser", cookie, "")
	u, _ := m["currentUser"].(map[string]any)
	id, _ := u["id"].(string)
	return id
}

// metric sums the samples of one metric on a service's /metrics (-1 when
// unreadable).
func metric(base, name string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var sum float64
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			var v float64
			fmt.Sscanf(line[strings.LastIndex(line, " ")+1:], "%g", &v)
			sum += v
		}
	}
	return sum
}

// rssAll reads each service's resident memory from its own /metrics.
func rssAll() map[string]float64 {
	out := map[string]float64{}
	for name, base := range direct {
		out[name] = metric(base, "process_resident_memory_bytes") / (1 << 20)
	}
	return out
}

func rssLine(idle, loaded map[string]float64) string {
	var parts []string
	for _, name := range services.Names() {
		parts = append(parts, fmt.Sprintf("%s %.1f → %.1f MB", name, idle[name], loaded[name]))
	}
	return strings.Join(parts, "; ")
}

func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(line[strings.Index(line, ":")+1:])
				break
			}
		}
	}
	mem := ""
	if out, err := exec.Command("sh", "-c", "free -g | awk '/Mem:/{print $2}'").Output(); err == nil {
		mem = strings.TrimSpace(string(out)) + " GiB"
	}
	return fmt.Sprintf("%d cores (%s), %s RAM, %s, %s/%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func report() {
	var b strings.Builder
	now := time.Now().UTC()
	fmt.Fprintf(&b, "# Bench %s\n\n", now.Format("2006-01-02 15:04 UTC"))
	if remoteMode {
		fmt.Fprintf(&b, "Machine (of the load tool): %s. Target: %s, through its public API only. %d concurrent clients, %v per scenario after a 1 s warm-up.\n\n", machine(), gatewayURL, *workers, *duration)
	} else {
		fmt.Fprintf(&b, "Machine: %s. Event bus: %s (and the other one for the event latencies). %d concurrent clients, %v per scenario after a 1 s warm-up; the stack is `make run`'s (embedded FerretDB behind its serializing gate, the real binaries, the gateway).\n\n", machine(), *bus, *workers, *duration)
	}
	b.WriteString("| scenario | req/s | p50 | p90 | p99 | errors | note |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		if r.p50 == 0 && r.rps == 0 {
			fmt.Fprintf(&b, "| %s | | | | | | %s |\n", r.name, r.note)
			continue
		}
		rps := "—"
		if r.rps > 0 {
			rps = fmt.Sprintf("%.0f", r.rps)
		}
		dur := func(d time.Duration) string {
			if d == 0 {
				return "—"
			}
			return d.Round(10 * time.Microsecond).String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s |\n", r.name, rps, dur(r.p50), dur(r.p90), dur(r.p99), r.errors, r.note)
	}
	ratio := func(a, b string) string {
		var x, y float64
		for _, r := range rows {
			if r.name == a {
				x = r.rps
			}
			if r.name == b {
				y = r.rps
			}
		}
		if y == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.0f%%", 100*x/y)
	}
	if !remoteMode {
		fmt.Fprintf(&b, "\nRatios: currentuser direct / bare handler = %s (target ≥ 50%%); ticket show direct / raw findOne = %s (target ≥ 80%%).\n",
			ratio("currentuser direct", "bare net/http handler (limit)"), ratio("ticket show direct", "raw driver findOne (limit)"))
		b.WriteString("\nThe list page asks the database for 100 unreserved tickets sorted by id with a limit (index `available_by_id`), so the tickets service's own CPU per request is the same at 100 and 10,000 tickets. FerretDB v1 does not use secondary indexes and scans the collection, so its cost (and the latency) grows with the collection here — a real MongoDB serves the page from the index.\n")
	}
	fmt.Print("\n" + b.String())
	_ = os.MkdirAll(*outDir, 0o755)
	name := now.Format("2006-01-02")
	if remoteMode {
		name += "-remote"
	}
	name += resultSuffix
	path := filepath.Join(*outDir, name+".md")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return
	}
	fmt.Println("written to", path)
}
