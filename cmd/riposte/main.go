// Command riposte is the Riposte SOAR service: `riposte dev` runs everything
// in one process on an embedded Temporal server; `riposte serve` and
// `riposte worker` run against a Temporal cluster.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
