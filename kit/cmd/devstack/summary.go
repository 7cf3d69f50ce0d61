package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ticketing-go/ticketing/kit/services"
)

// summarize prints, every interval, what each service did since the last
// line: requests, events handled, outbox backlog, goroutines and RSS — read
// from the services' own /metrics.
func summarize(ctx context.Context, out io.Writer, every time.Duration, urls map[string]string) {
	last := map[string]map[string]float64{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fmt.Fprintf(out, "  ── %s ──\n", time.Now().Format("15:04:05"))
		for _, svc := range services.All {
			m := scrape(urls[svc.Name])
			if m == nil {
				fmt.Fprintf(out, "  %-10s  not answering\n", svc.Name)
				continue
			}
			prev := last[svc.Name]
			delta := func(k string) float64 { return m[k] - prev[k] }
			if prev == nil {
				delta = func(k string) float64 { return m[k] }
			}
			fmt.Fprintf(out, "  %-10s  %6.0f req  %5.0f 5xx  %6.0f events  %4.0f outbox backlog  %4.0f goroutines  %5.1f MB\n",
				svc.Name, delta("http_requests_total"), delta("http_5xx"), delta("events_consumed_total"),
				m["outbox_backlog"], m["go_goroutines"], m["process_resident_memory_bytes"]/(1<<20))
			last[svc.Name] = m
		}
	}
}

// scrape sums each metric over its label sets (and counts 5xx apart).
func scrape(base string) map[string]float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	m := map[string]float64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		name := line[:sp]
		if strings.Contains(name, `route="/metrics"`) {
			continue // the summary's own scrapes
		}
		if i := strings.IndexByte(name, '{'); i >= 0 {
			if strings.HasPrefix(name, "http_requests_total") && strings.Contains(name, `status="5`) {
				m["http_5xx"] += v
			}
			name = name[:i]
		}
		m[name] += v
	}
	return m
}
