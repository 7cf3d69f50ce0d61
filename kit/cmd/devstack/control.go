package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
)

// serveControl lets a test stop one component of the stack (POST
// /stop/<name>) to check what the client shows while it is down. It lives
// here, in the dev stack, never in a service binary.
func (s *stack) serveControl(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-control: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /stop/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		s.mu.Lock()
		cmd := s.procs[name]
		if cmd != nil {
			s.stopped[name] = true
		}
		s.mu.Unlock()
		if cmd == nil {
			http.Error(w, "no such component", http.StatusNotFound)
			return
		}
		terminate(cmd.Process) // the OS-specific stop of the component's process group
		fmt.Fprintf(s.out, "  ✗ %-12s stopped through -control\n", name)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return nil
}
