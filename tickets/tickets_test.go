package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/common/outbox"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
	"github.com/ticketing-go/ticketing/tickets/ticket"
)

const testKey = "tickets-test-key"

type env struct {
	c        svctest.Client // signed in as owner
	owner    string
	bus      events.Bus // the test's own client, to publish and observe
	rec      *svctest.Recorder
	stan     *natskit.STAN
	mongoURI string
	extraEnv map[string]string // on top of the defaults, for start
}

func boot(t *testing.T) *env {
	t.Helper()
	e := &env{stan: natskit.Test(t), mongoURI: mongokit.DatabaseURI(t), owner: bson.NewObjectID().Hex()}
	e.bus = svctest.Bus(t, e.stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectTicketCreated, events.SubjectTicketUpdated)
	e.start(t)
	return e
}

func (e *env) start(t *testing.T) *svctest.Service {
	vars := svctest.BusEnv(e.stan, "tickets-test")
	vars["JWT_KEY"], vars["MONGO_URI"] = testKey, e.mongoURI
	maps.Copy(vars, e.extraEnv)
	s := svctest.Boot(t, run, vars)
	e.c = svctest.Client{Base: s.URL, Cookie: svctest.SessionCookie(t, testKey, e.owner, "owner@test.io")}
	return s
}

func (e *env) as(t *testing.T, userID string) svctest.Client {
	c := e.c
	c.Cookie = svctest.SessionCookie(t, testKey, userID, "other@test.io")
	return c
}

func (e *env) create(t *testing.T, title string, price any) map[string]any {
	t.Helper()
	r := e.c.Do(t, "POST", "/api/tickets", map[string]any{"title": title, "price": price})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	return r.Map(t)
}

// waitEvents waits until exactly n events of subject for ticket id arrived
// and no more show up for a moment's polling.
func (e *env) waitEvents(t *testing.T, subject, id string, n int) []map[string]any {
	t.Helper()
	poll.Until(t, 10*time.Second, func() bool { return len(e.rec.Messages(subject, "id", id)) >= n },
		"%d %s events for %s, got %v", n, subject, id, e.rec.Messages(subject, "id", id))
	got := e.rec.Messages(subject, "id", id)
	if len(got) != n {
		t.Fatalf("%d %s events for %s, want %d: %v", len(got), subject, id, n, got)
	}
	return got
}

func TestCreate(t *testing.T) {
	e := boot(t)
	anon := e.c
	anon.Cookie = ""
	if r := anon.Do(t, "POST", "/api/tickets", map[string]any{"title": "x", "price": 10}); r.Status != 401 || r.Errors(t)[0].Message != "Not authorized" {
		t.Fatalf("signed out: %d %s", r.Status, r.Body)
	}
	tk := e.create(t, "  Concert  ", "20.00")
	if len(tk) != 5 || tk["title"] != "Concert" || tk["price"] != 20.0 || tk["userId"] != e.owner || tk["version"] != 0.0 || len(tk["id"].(string)) != 24 {
		t.Fatalf("created %v", tk)
	}
	if _, ok := tk["orderId"]; ok {
		t.Fatal("a free ticket shows no orderId")
	}
	evs := e.waitEvents(t, events.SubjectTicketCreated, tk["id"].(string), 1)
	want := fmt.Sprintf(`{"id":"%s","version":0,"title":"Concert","price":20,"userId":"%s"}`, tk["id"], e.owner)
	if raw := e.rec.Raw(events.SubjectTicketCreated); len(raw) != 1 || raw[0] != want {
		t.Fatalf("event %v\nwant %s (%v)", raw, want, evs)
	}
	if r := e.c.Do(t, "POST", "/api/tickets", map[string]any{"title": "Cents", "price": 19.99}); r.Map(t)["price"] != 19.99 {
		t.Fatalf("price kept exactly: %s", r.Body)
	}
}

func TestCreateValidation(t *testing.T) {
	e := boot(t)
	title := svctest.ErrorEntry{Message: "Title is required", Field: "title"}
	price := svctest.ErrorEntry{Message: "Price must be greater than 0", Field: "price"}
	invisible := svctest.ErrorEntry{Message: "Title must not contain control or invisible characters", Field: "title"}
	for _, tc := range []struct {
		name string
		body string
		want []svctest.ErrorEntry
	}{
		{"empty", `{}`, []svctest.ErrorEntry{title, price}},
		{"blank title", `{"title":"   ","price":10}`, []svctest.ErrorEntry{title}},
		{"title too long", `{"title":"` + strings.Repeat("x", 10000) + `","price":10}`, []svctest.ErrorEntry{title}},
		{"title not a string", `{"title":{"$gt":""},"price":10}`, []svctest.ErrorEntry{title}},
		{"negative", `{"title":"t","price":-1}`, []svctest.ErrorEntry{price}},
		{"zero", `{"title":"t","price":0}`, []svctest.ErrorEntry{price}},
		{"word", `{"title":"t","price":"abc"}`, []svctest.ErrorEntry{price}},
		{"huge exponent", `{"title":"t","price":1e400}`, []svctest.ErrorEntry{price}},
		{"three decimals", `{"title":"t","price":20.001}`, []svctest.ErrorEntry{price}},
		{"over a million says the maximum", `{"title":"t","price":1000000.01}`, []svctest.ErrorEntry{{Message: "Price must be at most 1,000,000", Field: "price"}}},
		{"over a million as a string", `{"title":"t","price":"2000000.00"}`, []svctest.ErrorEntry{{Message: "Price must be at most 1,000,000", Field: "price"}}},
		{"NUL in the title", `{"title":"a\u0000b","price":10}`, []svctest.ErrorEntry{invisible}},
		{"bell in the title", `{"title":"a\u0007b","price":10}`, []svctest.ErrorEntry{invisible}},
		{"newline in the title", `{"title":"a\nb","price":10}`, []svctest.ErrorEntry{invisible}},
		{"DEL and C1 in the title", `{"title":"a\u007f\u0085b","price":10}`, []svctest.ErrorEntry{invisible}},
		{"bidi override in the title", `{"title":"abc\u202Egnp.exe","price":10}`, []svctest.ErrorEntry{invisible}},
		{"bidi isolate in the title", `{"title":"a\u2066b\u2069","price":10}`, []svctest.ErrorEntry{invisible}},
		{"zero-width space in the title", `{"title":"Con\u200Bcert","price":10}`, []svctest.ErrorEntry{invisible}},
		{"zero-width joiner between letters", `{"title":"Con\u200Dcert","price":10}`, []svctest.ErrorEntry{invisible}},
		{"byte order mark in the title", `{"title":"\uFEFFConcert","price":10}`, []svctest.ErrorEntry{invisible}},
		{"line separator in the title", `{"title":"a\u2028b","price":10}`, []svctest.ErrorEntry{invisible}},
		{"boolean", `{"title":"t","price":true}`, []svctest.ErrorEntry{price}},
		{"null price", `{"title":"t","price":null}`, []svctest.ErrorEntry{price}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.c.Do(t, "POST", "/api/tickets", tc.body)
			if r.Status != 400 || fmt.Sprint(r.Errors(t)) != fmt.Sprint(tc.want) {
				t.Fatalf("%d %s, want %v", r.Status, r.Body, tc.want)
			}
		})
	}
	for _, body := range []string{`[`, `[]`, `"x"`, `{"title":` + strings.Repeat(" ", 2<<20) + `"x"}`} {
		if r := e.c.Do(t, "POST", "/api/tickets", body); r.Status != 400 && r.Status != 413 {
			t.Fatalf("%.20q: %d %s", body, r.Status, r.Body)
		}
	}
	if r := e.c.Do(t, "POST", "/api/tickets", map[string]any{"title": "ok", "price": 1000000}); r.Status != 201 {
		t.Fatalf("a million is allowed: %d %s", r.Status, r.Body)
	}
	// Ordinary Unicode stays: accents (composed or combining), other
	// scripts, right-to-left text, emoji with their joiners and selectors.
	for _, title := range []string{"Café Ölçü", "Cafe\u0301", "東京ドーム", "Рок-концерт", "حفلة موسيقية", "Concert 🎫", "👨\u200D👩\u200D👧 family day", "❤\uFE0F live"} {
		r := e.c.Do(t, "POST", "/api/tickets", `{"title":"`+title+`","price":10}`)
		if r.Status != 201 {
			t.Fatalf("title %q: %d %s", title, r.Status, r.Body)
		}
	}
}

func TestShow(t *testing.T) {
	e := boot(t)
	tk := e.create(t, "Show", 5)
	anon := e.c
	anon.Cookie = ""
	if r := anon.Do(t, "GET", "/api/tickets/"+tk["id"].(string), nil); r.Status != 200 || r.Map(t)["title"] != "Show" {
		t.Fatalf("show: %d %s", r.Status, r.Body)
	}
	if r := anon.Do(t, "GET", "/api/tickets/not-an-id", nil); r.Status != 400 || r.Errors(t)[0].Message != "Invalid ticket id" {
		t.Fatalf("malformed: %d %s", r.Status, r.Body)
	}
	if r := anon.Do(t, "GET", "/api/tickets/"+bson.NewObjectID().Hex(), nil); r.Status != 404 || r.Errors(t)[0].Message != "Not Found" {
		t.Fatalf("unknown: %d %s", r.Status, r.Body)
	}
}

func TestListIsPaginatedAndHidesReserved(t *testing.T) {
	e := boot(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, e.create(t, fmt.Sprint("t", i), 10)["id"].(string))
	}
	// Reserve the second one through the event orders would send.
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: bson.NewObjectID().Hex(), Version: 0, Status: "created",
		UserID: "u", ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: ids[1], Price: 1000}})
	e.waitEvents(t, events.SubjectTicketUpdated, ids[1], 1)

	var all []string
	next := "/api/tickets?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		r := e.c.Do(t, "GET", next, nil)
		var page []map[string]any
		r.JSON(t, &page)
		if r.Status != 200 || len(page) > 2 {
			t.Fatalf("page: %d %s", r.Status, r.Body)
		}
		for _, tk := range page {
			all = append(all, tk["id"].(string))
		}
		next = ""
		if link := r.Header.Get("Link"); link != "" {
			next = link[1:strings.Index(link, ">")]
		}
	}
	want := []string{ids[0], ids[2], ids[3], ids[4]}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v (oldest first, reserved hidden)", all, want)
	}
	if r := e.c.Do(t, "GET", "/api/tickets?limit=0", nil); r.Status != 400 || r.Errors(t)[0].Field != "limit" {
		t.Fatalf("bad limit: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"cursor=@@", "cursor=%%%", "cursor=%zz", "limit=2&cursor=%"} {
		if r := e.c.Do(t, "GET", "/api/tickets?"+q, nil); r.Status != 400 || r.Errors(t)[0].Field != "cursor" {
			t.Fatalf("bad cursor %s: %d %s", q, r.Status, r.Body)
		}
	}
	if r := e.c.Do(t, "GET", "/api/tickets?limit=%%%", nil); r.Status != 400 || r.Errors(t)[0].Field != "limit" {
		t.Fatalf("undecodable limit: %d %s", r.Status, r.Body)
	}
}

func TestUpdate(t *testing.T) {
	e := boot(t)
	tk := e.create(t, "Old", 10)
	id := tk["id"].(string)
	path := "/api/tickets/" + id
	other := e.as(t, bson.NewObjectID().Hex())
	anon := e.c
	anon.Cookie = ""

	checks := []struct {
		name   string
		c      svctest.Client
		path   string
		body   any
		status int
		msg    string
	}{
		{"signed out", anon, path, map[string]any{"title": "x", "price": 1}, 401, "Not authorized"},
		{"validation before id", e.c, "/api/tickets/nope", map[string]any{"title": "", "price": 1}, 400, "Title is required"},
		{"malformed id", e.c, "/api/tickets/nope", map[string]any{"title": "x", "price": 1}, 400, "Invalid ticket id"},
		{"unknown", e.c, "/api/tickets/" + bson.NewObjectID().Hex(), map[string]any{"title": "x", "price": 1}, 404, "Not Found"},
		{"not the owner", other, path, map[string]any{"title": "x", "price": 1}, 401, "Not authorized"},
		{"stale version", e.c, path, map[string]any{"title": "x", "price": 1, "version": 7}, 409, "Ticket was changed by someone else; reload it and retry"},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(t, "PUT", tc.path, tc.body)
			if r.Status != tc.status || r.Errors(t)[0].Message != tc.msg {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	r := e.c.Do(t, "PUT", path, map[string]any{"title": "New", "price": "12.50", "version": 0})
	if r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	got := r.Map(t)
	if got["title"] != "New" || got["price"] != 12.5 || got["version"] != 1.0 {
		t.Fatalf("updated %v", got)
	}
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 1)
	if upd[0]["version"] != 1.0 || upd[0]["price"] != 12.5 || upd[0]["title"] != "New" {
		t.Fatalf("event %v", upd[0])
	}
	// Create + update of one ticket: exactly two events.
	e.waitEvents(t, events.SubjectTicketCreated, id, 1)
}

// Ownership first (issue 13): a stranger learns nothing about a ticket's
// state from its edit, just 401; the owner learns it is reserved.
func TestReservedTicketCannotBeEditedOwnerFirst(t *testing.T) {
	e := boot(t)
	id := e.create(t, "Held", 10)["id"].(string)
	orderID := bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: orderID, Status: "created", UserID: "u",
		ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: id, Price: 1000}})
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 1)
	if upd[0]["orderId"] != orderID || upd[0]["version"] != 1.0 {
		t.Fatalf("reservation event %v", upd[0])
	}
	r := e.as(t, bson.NewObjectID().Hex()).Do(t, "PUT", "/api/tickets/"+id, map[string]any{"title": "x", "price": 1})
	if r.Status != 401 || r.Errors(t)[0].Message != "Not authorized" {
		t.Fatalf("not the owner: %d %s", r.Status, r.Body)
	}
	r = e.c.Do(t, "PUT", "/api/tickets/"+id, map[string]any{"title": "x", "price": 1})
	if r.Status != 400 || r.Errors(t)[0].Message != "Cannot edit a reserved ticket" {
		t.Fatalf("the owner: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do(t, "GET", "/api/tickets/"+id, nil); r.Map(t)["orderId"] != orderID {
		t.Fatalf("show of a reserved ticket: %s", r.Body)
	}
}

func TestOrderListeners(t *testing.T) {
	e := boot(t)
	id := e.create(t, "Listen", 10)["id"].(string)
	orderA, orderB := bson.NewObjectID().Hex(), bson.NewObjectID().Hex()
	created := events.OrderCreated{ID: orderA, Status: "created", UserID: "u", ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: id, Price: 1000}}
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, created)
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, created) // a duplicate delivery
	e.waitEvents(t, events.SubjectTicketUpdated, id, 1)

	// A cancel of another order does not free it.
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: bson.NewObjectID().Hex(), Version: 1, Ticket: events.OrderCancelledTicket{ID: id}})
	// The cancel of the holder does, once.
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: orderA, Version: 1, Ticket: events.OrderCancelledTicket{ID: id}})
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: orderA, Version: 1, Ticket: events.OrderCancelledTicket{ID: id}})
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 2)
	if _, has := upd[1]["orderId"]; has || upd[1]["version"] != 2.0 {
		t.Fatalf("freeing event %v", upd[1])
	}
	r := e.c.Do(t, "GET", "/api/tickets/"+id, nil)
	if m := r.Map(t); m["version"] != 2.0 || m["orderId"] != nil {
		t.Fatalf("after cancel: %s", r.Body)
	}
	// Undecodable events are dropped, not retried forever, and do no harm.
	if err := e.bus.Publish(t.Context(), events.SubjectOrderCreated, []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	// Order B reserves it now.
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: orderB, Status: "created", UserID: "u", ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: id, Price: 1000}})
	upd = e.waitEvents(t, events.SubjectTicketUpdated, id, 3)
	if upd[2]["orderId"] != orderB || upd[2]["version"] != 3.0 {
		t.Fatalf("second reservation %v", upd[2])
	}
	metrics := string(e.c.Do(t, "GET", "/metrics", nil).Body)
	for _, want := range []string{
		`events_consumed_total{group="tickets-service",outcome="ack",service="tickets",subject="order:created"}`,
		`outbox_published_total{collection="tickets",service="tickets"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestConcurrentUpdatesKeepVersionsExact(t *testing.T) {
	e := boot(t)
	id := e.create(t, "Race", 10)["id"].(string)
	const n = 20
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			statuses[i] = e.c.Do(t, "PUT", "/api/tickets/"+id, map[string]any{"title": fmt.Sprint("v", i), "price": i + 1}).Status
		})
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	final := e.c.Do(t, "GET", "/api/tickets/"+id, nil).Map(t)
	if final["version"] != float64(ok) || ok == 0 {
		t.Fatalf("final version %v after %d successful updates (%v)", final["version"], ok, statuses)
	}
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, ok)
	for i, ev := range upd {
		if ev["version"] != float64(i+1) {
			t.Fatalf("event %d has version %v: %v", i, ev["version"], upd)
		}
	}
}

// The relay's idle safety pass is an hour away here: what brings the events
// out once the bus is back is the short retry timer that failed publishes
// set (OUTBOX_INTERVAL, 200 ms in tests).
func TestOutboxDeliversWhatWasWrittenWhileTheBusWasDown(t *testing.T) {
	e := &env{stan: natskit.Test(t, t.TempDir()), mongoURI: mongokit.DatabaseURI(t), owner: bson.NewObjectID().Hex(),
		extraEnv: map[string]string{"OUTBOX_IDLE_INTERVAL": "1h"}}
	e.bus = svctest.Bus(t, e.stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectTicketCreated, events.SubjectTicketUpdated)
	svc := e.start(t)
	e.stan.Close()
	poll.Until(t, 15*time.Second, func() bool { return svctest.Client{Base: svc.URL}.Do(t, "GET", "/readyz", nil).Status == 503 },
		"readiness reports the bus down")
	id := e.create(t, "Offline", 10)["id"].(string)
	for i := range 3 {
		if r := e.c.Do(t, "PUT", "/api/tickets/"+id, map[string]any{"title": fmt.Sprint("Offline ", i), "price": 10}); r.Status != 200 {
			t.Fatalf("update while the bus is down: %d %s", r.Status, r.Body)
		}
	}
	if err := e.stan.Restart(); err != nil {
		t.Fatal(err)
	}
	e.waitEvents(t, events.SubjectTicketCreated, id, 1)
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 3)
	for i, ev := range upd {
		if ev["version"] != float64(i+1) {
			t.Fatalf("out of order: %v", upd)
		}
	}
}

func TestEventWrittenBeforeACrashIsPublishedAfterRestart(t *testing.T) {
	e := &env{stan: natskit.Test(t), mongoURI: mongokit.DatabaseURI(t), owner: bson.NewObjectID().Hex()}
	e.bus = svctest.Bus(t, e.stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectTicketCreated)
	// What a process that died right after its write leaves behind: the
	// ticket and its unpublished event.
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(e.mongoURI))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database(e.mongoURI[strings.LastIndex(e.mongoURI, "/")+1:])
	// A relay that never runs: the process dies before it publishes.
	dead := outbox.NewRelayWith(db.Collection(ticket.Collection), nil, slog.New(slog.DiscardHandler), outbox.Config{})
	store, err := ticket.NewMongoStore(ctx, dead)
	if err != nil {
		t.Fatal(err)
	}
	tk := ticket.New("Orphan", 500, e.owner)
	ev, _ := outbox.NewEvent(events.TopicTicketCreated, tk.Created())
	if err := store.Create(ctx, tk, ev); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	e.waitEvents(t, events.SubjectTicketCreated, tk.ID.Hex(), 1)
}

func TestRefusesToStartWithoutBusConfig(t *testing.T) {
	err := run(t.Context(), nil, func(k string) string {
		return map[string]string{"JWT_KEY": "k", "MONGO_URI": "mongodb://127.0.0.1:1/x"}[k]
	}, &svctest.SyncBuffer{}, &svctest.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "NATS_URL") {
		t.Fatalf("err = %v", err)
	}
}

// TestCancelBeforeCreateNeverReserves: order:cancelled and order:created
// travel on different subjects, so a cancel can overtake its create; the
// late create must not reserve the ticket for the dead order.
func TestCancelBeforeCreateNeverReserves(t *testing.T) {
	e := boot(t)
	id := e.create(t, "Overtaken", 10)["id"].(string)
	orderA, orderB := bson.NewObjectID().Hex(), bson.NewObjectID().Hex()
	svctest.Publish(t, e.bus, events.SubjectOrderCancelled, events.OrderCancelled{ID: orderA, Version: 1, Ticket: events.OrderCancelledTicket{ID: id}})
	coll := mongokit.Connect(t, e.mongoURI).Collection("tickets")
	oid, _ := bson.ObjectIDFromHex(id)
	poll.Until(t, 10*time.Second, func() bool {
		n, _ := coll.CountDocuments(t.Context(), bson.D{{Key: "_id", Value: oid}, {Key: "cancelledOrders", Value: orderA}})
		return n == 1
	}, "the early cancel recorded")
	for _, o := range []string{orderA, orderB} {
		svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: o, Status: "created", UserID: "u",
			ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: id, Price: 1000}})
	}
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 1)
	if upd[0]["orderId"] != orderB || upd[0]["version"] != 1.0 {
		t.Fatalf("first reservation %v, want order B", upd[0])
	}
	if r := e.c.Do(t, "GET", "/api/tickets/"+id, nil); strings.Contains(string(r.Body), "cancelledOrders") {
		t.Fatalf("internal field shown: %s", r.Body)
	}
}

// order:completed makes the reserved ticket sold: version + 1, a
// ticket:updated that keeps the orderId (the orders replica applies it as a
// no-op), and "sold": true on the ticket. A duplicate changes nothing.
func TestOrderCompletedMarksTheTicketSold(t *testing.T) {
	e := boot(t)
	id := e.create(t, "Sell out", 10)["id"].(string)
	order := bson.NewObjectID().Hex()
	// A completion that overtakes its order:created waits (not acknowledged)
	// until the reservation is there.
	completed := events.OrderCompleted{ID: order, Version: 1, PaymentID: "p1", Ticket: events.TicketRef{ID: id}}
	svctest.Publish(t, e.bus, events.SubjectOrderCompleted, completed)
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: order, Status: "created", UserID: "u",
		ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: id, Price: 1000}})
	svctest.Publish(t, e.bus, events.SubjectOrderCompleted, completed) // a duplicate
	upd := e.waitEvents(t, events.SubjectTicketUpdated, id, 2)
	if upd[1]["orderId"] != order || upd[1]["version"] != 2.0 {
		t.Fatalf("sold event %v", upd[1])
	}
	if _, has := upd[1]["sold"]; has {
		t.Fatalf("the event keeps the contract's fields: %v", upd[1])
	}
	r := e.c.Do(t, "GET", "/api/tickets/"+id, nil)
	if m := r.Map(t); m["sold"] != true || m["orderId"] != order || m["version"] != 2.0 {
		t.Fatalf("sold ticket: %s", r.Body)
	}
	// A free ticket leaves the field out (never false or null).
	free := e.create(t, "Free", 10)["id"].(string)
	if r := e.c.Do(t, "GET", "/api/tickets/"+free, nil); strings.Contains(string(r.Body), "sold") {
		t.Fatalf("free ticket: %s", r.Body)
	}
}

// ?userId= lists that seller's tickets in every state (for sale, reserved,
// sold), oldest first and paged like the listing; ?q= searches the titles
// of tickets for sale, case-insensitively, taking the text literally.
func TestListBySellerAndSearch(t *testing.T) {
	e := boot(t)
	other := e.as(t, bson.NewObjectID().Hex())
	mine := []string{e.create(t, "Jazz night", 10)["id"].(string), e.create(t, "Rock (a.k.a. loud)", 10)["id"].(string)}
	r := other.Do(t, "POST", "/api/tickets", map[string]any{"title": "Jazz brunch", "price": 5})
	theirs := r.Map(t)["id"].(string)
	mine = append(mine, e.create(t, "JAZZ finale", 10)["id"].(string))
	svctest.Publish(t, e.bus, events.SubjectOrderCreated, events.OrderCreated{ID: bson.NewObjectID().Hex(), Status: "created", UserID: "u",
		ExpiresAt: time.Now().Add(time.Minute), Ticket: events.OrderTicket{ID: mine[0], Price: 1000}})
	e.waitEvents(t, events.SubjectTicketUpdated, mine[0], 1)

	ids := func(path string) ([]string, string) {
		t.Helper()
		r := e.c.Do(t, "GET", path, nil)
		var page []map[string]any
		r.JSON(t, &page)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		var out []string
		for _, tk := range page {
			out = append(out, tk["id"].(string))
		}
		return out, r.Header.Get("Link")
	}
	got, _ := ids("/api/tickets?userId=" + e.owner)
	if fmt.Sprint(got) != fmt.Sprint(mine) {
		t.Fatalf("seller's tickets %v, want %v (reserved included)", got, mine)
	}
	got, link := ids("/api/tickets?limit=2&userId=" + e.owner)
	if len(got) != 2 || !strings.Contains(link, "userId="+e.owner) {
		t.Fatalf("first page %v, link %q", got, link)
	}
	got, _ = ids(link[1:strings.Index(link, ">")])
	if fmt.Sprint(got) != fmt.Sprint(mine[2:]) {
		t.Fatalf("second page %v", got)
	}

	got, _ = ids("/api/tickets?q=jAzZ")
	if want := []string{theirs, mine[2]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("search %v, want %v (reserved hidden)", got, want)
	}
	got, link = ids("/api/tickets?limit=1&q=jazz")
	if len(got) != 1 || !strings.Contains(link, "q=jazz") {
		t.Fatalf("search page %v, link %q", got, link)
	}
	if got, _ = ids("/api/tickets?q=" + url.QueryEscape("(a.k.a.")); fmt.Sprint(got) != fmt.Sprint(mine[1:2]) {
		t.Fatalf("literal search %v", got)
	}
	if got, _ = ids("/api/tickets?q=" + url.QueryEscape(".*")); len(got) != 0 {
		t.Fatalf("a pattern is taken literally: %v", got)
	}
	if r := e.c.Do(t, "GET", "/api/tickets?q="+strings.Repeat("x", 201), nil); r.Status != 400 || r.Errors(t)[0].Field != "q" {
		t.Fatalf("long query: %d %s", r.Status, r.Body)
	}
}
