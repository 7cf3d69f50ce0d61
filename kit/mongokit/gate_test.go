package mongokit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Request ids the fake upstream treats specially.
const (
	hangID    = 666 // never answered
	exhaustID = 777 // answered with moreToCome set, as an exhaust stream would
	staleID   = 888 // preceded by a reply to an earlier request
)

// fakeUpstream answers every message with an OP_MSG whose responseTo is the
// request's id, as FerretDB does (even for moreToCome requests), except for
// the ids above.
func fakeUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				r := bufio.NewReader(c)
				for {
					msg, err := readMsg(r)
					if err != nil {
						return
					}
					id := binary.LittleEndian.Uint32(msg[4:8])
					switch id {
					case hangID:
						continue
					case exhaustID:
						_, _ = c.Write(opMsgFrame(1, id, moreToCome))
					case staleID:
						_, _ = c.Write(opMsgFrame(1, id-1, 0))
						_, _ = c.Write(opMsgFrame(2, id, 0))
					default:
						_, _ = c.Write(opMsgFrame(1, id, 0))
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// opMsgFrame is a minimal OP_MSG: header, flags and an empty section.
func opMsgFrame(requestID, responseTo, flags uint32) []byte {
	b := make([]byte, headerLen+4+1+5)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], requestID)
	binary.LittleEndian.PutUint32(b[8:], responseTo)
	binary.LittleEndian.PutUint32(b[12:], opMsg)
	binary.LittleEndian.PutUint32(b[16:], flags)
	binary.LittleEndian.PutUint32(b[21:], 5) // an empty BSON document
	return b
}

func dialGate(t *testing.T, timeout time.Duration) (*gate, func() net.Conn) {
	t.Helper()
	g, err := newGate("127.0.0.1:0", fakeUpstream(t), timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	return g, func() net.Conn {
		c, err := net.Dial("tcp", g.addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		// Bounds a test that would otherwise hang on a gate bug.
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		return c
	}
}

func send(t *testing.T, c net.Conn, id, flags uint32) {
	t.Helper()
	if _, err := c.Write(opMsgFrame(id, 0, flags)); err != nil {
		t.Fatal(err)
	}
}

func responseTo(t *testing.T, c net.Conn) uint32 {
	t.Helper()
	reply, err := readMsg(c)
	if err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	return binary.LittleEndian.Uint32(reply[8:12])
}

func TestGateDropsTheReplyToAMoreToComeRequest(t *testing.T) {
	_, dial := dialGate(t, time.Minute)
	c := dial()
	send(t, c, 1, moreToCome)
	send(t, c, 2, 0)
	if got := responseTo(t, c); got != 2 {
		t.Fatalf("first reply answers request %d, want 2", got)
	}
}

func TestGateDropsStaleReplies(t *testing.T) {
	_, dial := dialGate(t, time.Minute)
	c := dial()
	send(t, c, staleID, 0)
	if got := responseTo(t, c); got != staleID {
		t.Fatalf("reply answers request %d, want %d", got, staleID)
	}
}

func TestGateClosesTheConnectionOnExhaustReplies(t *testing.T) {
	_, dial := dialGate(t, time.Minute)
	c := dial()
	send(t, c, exhaustID, 0)
	if _, err := readMsg(c); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want the connection closed", err)
	}
}

// TestGateTimesOutAHungUpstream: the hung connection is closed and the lock
// released, so other clients go on.
func TestGateTimesOutAHungUpstream(t *testing.T) {
	_, dial := dialGate(t, 200*time.Millisecond)
	hung, other := dial(), dial()
	send(t, hung, hangID, 0)
	send(t, other, 5, 0)
	if got := responseTo(t, other); got != 5 {
		t.Fatalf("reply answers request %d, want 5", got)
	}
	if _, err := readMsg(hung); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want the hung connection closed", err)
	}
}

func TestGateRejectsBadFrames(t *testing.T) {
	_, dial := dialGate(t, time.Minute)
	c := dial()
	if _, err := c.Write([]byte{3, 0, 0, 0}); err != nil { // shorter than a header
		t.Fatal(err)
	}
	if _, err := readMsg(c); !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want the connection closed", err)
	}
}

func TestGateCloseEndsClientConnections(t *testing.T) {
	g, dial := dialGate(t, time.Minute)
	c := dial()
	send(t, c, 1, 0)
	responseTo(t, c)
	g.close()
	if _, err := readMsg(c); err == nil {
		t.Fatal("connection still open after close")
	}
}
