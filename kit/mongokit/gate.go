package mongokit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// gate is a TCP proxy in front of FerretDB that runs one command at a time.
//
// FerretDB v1's single-document writes are not atomic under concurrency (a
// version-checked update can "succeed" twice from one version), which would
// make every concurrency test lie. MongoDB guarantees that atomicity, so the
// gate restores it: it reads a whole wire message from a client without any
// lock, then under one global lock sends it on that client's own upstream
// connection and reads its reply, and sends the reply back after unlocking.
type gate struct {
	ln       net.Listener
	upstream string
	timeout  time.Duration

	mu sync.Mutex // held for one upstream round trip

	connMu sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Wire protocol constants (MongoDB's OP_MSG specification).
const (
	headerLen  = 16
	maxMsgLen  = 48 << 20 // MongoDB's maxMessageSizeBytes
	opMsg      = 2013
	moreToCome = 1 << 1
)

func newGate(addr, upstream string, timeout time.Duration) (*gate, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	g := &gate{ln: ln, upstream: upstream, timeout: timeout, conns: map[net.Conn]struct{}{}}
	g.wg.Add(1)
	go g.accept()
	return g, nil
}

func (g *gate) addr() string { return g.ln.Addr().String() }

func (g *gate) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			g.handle(c)
		}()
	}
}

// close stops accepting, cuts every connection and waits for the handlers.
func (g *gate) close() {
	_ = g.ln.Close()
	g.connMu.Lock()
	g.closed = true
	for c := range g.conns {
		_ = c.Close()
	}
	g.connMu.Unlock()
	g.wg.Wait()
}

// track registers a connection for close to cut. It refuses (and closes the
// connection) once close has begun, so a connection accepted or dialled
// during close cannot keep a handler, and so close, waiting.
func (g *gate) track(c net.Conn) bool {
	g.connMu.Lock()
	defer g.connMu.Unlock()
	if g.closed {
		_ = c.Close()
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *gate) untrack(c net.Conn) {
	g.connMu.Lock()
	delete(g.conns, c)
	g.connMu.Unlock()
	_ = c.Close()
}

func (g *gate) handle(client net.Conn) {
	if !g.track(client) {
		return
	}
	// Either side going away ends both: the driver then sees a closed
	// connection and drops it from its pool.
	defer g.untrack(client)
	up, err := net.DialTimeout("tcp", g.upstream, g.timeout)
	if err != nil {
		return
	}
	if !g.track(up) {
		return
	}
	defer g.untrack(up)

	cr, ur := bufio.NewReader(client), bufio.NewReader(up)
	for {
		msg, err := readMsg(cr) // no lock: a slow client stalls only itself
		if err != nil {
			return
		}
		reply, err := g.roundTrip(up, ur, msg)
		if err != nil {
			return
		}
		if moreToComeSet(msg) {
			continue // an unacknowledged write: the client expects no reply
		}
		if _, err := client.Write(reply); err != nil {
			return
		}
	}
}

// roundTrip runs one command alone. FerretDB v1 answers even requests with
// moreToCome set (w:0 writes), so the gate waits for that answer too (the
// write must finish under the lock to be serialized) and the caller drops
// it. The reply to wait for is the one whose responseTo is this request's
// id; anything else is stale and dropped.
func (g *gate) roundTrip(up net.Conn, ur *bufio.Reader, msg []byte) ([]byte, error) {
	reqID := binary.LittleEndian.Uint32(msg[4:8])
	g.mu.Lock()
	defer g.mu.Unlock()
	// A hung upstream must not stall every client behind the lock: past
	// the deadline the read fails and the caller closes this connection.
	if err := up.SetDeadline(time.Now().Add(g.timeout)); err != nil {
		return nil, err
	}
	if _, err := up.Write(msg); err != nil {
		return nil, err
	}
	for {
		reply, err := readMsg(ur)
		if err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint32(reply[8:12]) != reqID {
			continue
		}
		if moreToComeSet(reply) {
			// An exhaust stream would send replies with no request to
			// pair them with. FerretDB v1 never streams (its hello has no
			// topologyVersion, so drivers poll); refuse rather than guess.
			return nil, errors.New("gate: exhaust replies are not supported")
		}
		return reply, nil
	}
}

func readMsg(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n < headerLen || n > maxMsgLen {
		return nil, fmt.Errorf("gate: bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// moreToComeSet reports whether msg is an OP_MSG whose flags say no reply
// follows (from a client: w:0; from a server: an exhaust stream).
func moreToComeSet(msg []byte) bool {
	return len(msg) >= headerLen+4 &&
		binary.LittleEndian.Uint32(msg[12:16]) == opMsg &&
		binary.LittleEndian.Uint32(msg[16:20])&moreToCome != 0
}
