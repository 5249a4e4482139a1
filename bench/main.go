// Command bench is Riposte's benchmark harness (make bench). It starts
// `riposte dev` on a fresh data directory (SQLite file) and, on that one
// embedded Temporal server, measures raw Temporal (baseline), Riposte
// incidents end to end over HTTP, an alert storm, the webhook-to-Slack
// approval latency and the process's resources. It prints one line per
// figure, a final RESULT line, and writes bench/results/<date>.json.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() { os.Exit(run()) }

func run() int {
	d := DefaultOptions()
	o := d
	flag.StringVar(&o.Riposte, "riposte", "", "path to the riposte binary (required)")
	flag.IntVar(&o.N, "n", d.N, "workflows (baseline) and incidents (riposte) per throughput run")
	flag.IntVar(&o.M, "m", d.M, "alerts in the storm")
	flag.IntVar(&o.Keys, "keys", d.Keys, "grouping keys (incidents) in the storm")
	flag.IntVar(&o.Starters, "starters", d.Starters, "concurrent starters / HTTP posters")
	flag.IntVar(&o.Rounds, "rounds", d.Rounds, "alternating baseline/riposte rounds that share the n items")
	flag.IntVar(&o.LatencySamples, "latency-samples", d.LatencySamples, "sequential alerts timed to their Slack approval request")
	flag.StringVar(&o.WorkDir, "work-dir", "", "directory for the data dir, config and logs (default: a temporary one, removed)")
	out := flag.String("results", "bench/results", "directory for <date>.json; empty writes none")
	flag.Parse()
	if o.Riposte == "" {
		fmt.Fprintln(os.Stderr, "bench: -riposte is required (build it with go build -o DIR/riposte ./cmd/riposte)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Out = os.Stdout
	res, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	fmt.Println(res.ResultLine())
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		b, _ := json.MarshalIndent(res, "", "  ")
		path := filepath.Join(*out, time.Now().UTC().Format("2006-01-02")+".json")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Println("bench: results written to", path)
	}
	if !res.Complete() {
		fmt.Fprintln(os.Stderr, "bench: incomplete result:", res.Problems())
		return 1
	}
	return 0
}
