package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ticketing-go/ticketing/common/events"
	"github.com/ticketing-go/ticketing/kit/mongokit"
	"github.com/ticketing-go/ticketing/kit/natskit"
	"github.com/ticketing-go/ticketing/kit/poll"
	"github.com/ticketing-go/ticketing/kit/svctest"
)

// TestDatabaseOutage: with the database gone, readiness and requests answer
// 503 in the envelope (never a hang or a 500), and the service recovers by
// itself when the database is back.
func TestDatabaseOutage(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", svctest.FreePort())
	db, err := mongokit.Start(mongokit.Options{Dir: dir, Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stan: natskit.Test(t), mongoURI: db.URI() + "outage", owner: bson.NewObjectID().Hex()}
	e.bus = svctest.Bus(t, e.stan)
	e.rec = svctest.Record(t, e.bus, events.SubjectTicketCreated)
	svc := e.start(t)
	id := e.create(t, "Before", 10)["id"].(string)

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	probe := svctest.Client{Base: svc.URL}
	poll.Until(t, 20*time.Second, func() bool { return probe.Do(t, "GET", "/readyz", nil).Status == 503 }, "readiness 503")
	for _, r := range []svctest.Response{
		e.c.Do(t, "GET", "/api/tickets/"+id, nil),
		e.c.Do(t, "POST", "/api/tickets", map[string]any{"title": "During", "price": 10}),
	} {
		if r.Status != 503 || r.Errors(t)[0].Message != "Service temporarily unavailable, please retry" {
			t.Fatalf("during the outage: %d %s", r.Status, r.Body)
		}
	}
	if r := probe.Do(t, "GET", "/healthz", nil); r.Status != 200 {
		t.Fatalf("liveness must not fail for a dependency: %d", r.Status)
	}

	db, err = mongokit.Start(mongokit.Options{Dir: dir, Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	poll.Until(t, 30*time.Second, func() bool { return probe.Do(t, "GET", "/readyz", nil).Status == 200 }, "ready again")
	if r := e.c.Do(t, "GET", "/api/tickets/"+id, nil); r.Status != 200 {
		t.Fatalf("after recovery: %d %s", r.Status, r.Body)
	}
	after := e.create(t, "After", 10)["id"].(string)
	e.waitEvents(t, events.SubjectTicketCreated, after, 1)
}

// TestSIGTERMUnderLoad: shutting down while requests are in flight lets them
// finish; nothing answers 5xx, and clients only see the door close.
func TestSIGTERMUnderLoad(t *testing.T) {
	e := &env{stan: natskit.Test(t), mongoURI: mongokit.DatabaseURI(t), owner: bson.NewObjectID().Hex()}
	vars := svctest.BusEnv(e.stan, "tickets-term")
	vars["JWT_KEY"], vars["MONGO_URI"], vars["SHUTDOWN_DRAIN"] = testKey, e.mongoURI, "300ms"
	svc, err := svctest.Start(run, vars)
	if err != nil {
		t.Fatal(err)
	}
	c := svctest.Client{Base: svc.URL, Cookie: svctest.SessionCookie(t, testKey, e.owner, "o@test.io"), HTTP: &http.Client{Timeout: 10 * time.Second}}
	var ok, refused, bad atomic.Int64
	var badMsgs sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, err := tryCreate(c)
				switch {
				case err != nil && isRefused(err):
					refused.Add(1)
					return
				case err != nil:
					bad.Add(1)
					badMsgs.Store(err.Error(), true)
					return
				case status == 201:
					ok.Add(1)
				default:
					bad.Add(1)
					badMsgs.Store(fmt.Sprint(status), true)
				}
			}
		})
	}
	poll.Until(t, 10*time.Second, func() bool { return ok.Load() > 50 }, "load running")
	if err := svc.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	close(stop)
	wg.Wait()
	if bad.Load() > 0 {
		var msgs []string
		badMsgs.Range(func(k, _ any) bool { msgs = append(msgs, k.(string)); return true })
		t.Fatalf("%d bad outcomes during shutdown (%d ok): %v", bad.Load(), ok.Load(), msgs)
	}
}

func tryCreate(c svctest.Client) (int, error) {
	req, _ := http.NewRequest("POST", c.Base+"/api/tickets", strings.NewReader(`{"title":"Load","price":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", c.Cookie)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func isRefused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
