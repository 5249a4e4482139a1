package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sdk, server := "unknown", "unknown"
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "go.temporal.io/sdk":
						sdk = d.Version
					case "go.temporal.io/server":
						server = d.Version
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "riposte %s (%s, temporal sdk %s, embedded temporal server %s)\n",
				version, runtime.Version(), sdk, server)
			return nil
		},
	}
}
