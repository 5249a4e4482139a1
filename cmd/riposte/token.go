package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/config"
	"github.com/riposte-soar/riposte/internal/auth"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var role, name string
	newCmd := &cobra.Command{
		Use:   "new --role admin|responder|compliance|ingest",
		Short: "Create a token and print it with the line for config",
		Long: `new prints a fresh random token, to hand to the person or system that will
use it, and the auth.tokens entry to paste into config. Riposte keeps only the
SHA-256 of the token, so a leaked config file does not leak the token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !config.ValidRole(role) {
				return usageError{fmt.Errorf("--role: must be one of admin, responder, compliance, ingest; got %q", role)}
			}
			if name == "" {
				name = role
			}
			token, hash, err := auth.NewToken()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "token: %s\n", token)
			fmt.Fprintf(out, "# add under auth.tokens in config:\n")
			fmt.Fprintf(out, "- {name: %q, role: %s, sha256: %s}\n", name, role, hash)
			return nil
		},
	}
	newCmd.Flags().StringVar(&role, "role", "", "role of the token: admin, responder, compliance or ingest (required)")
	newCmd.Flags().StringVar(&name, "name", "", "name recorded in the audit trail (default: the role)")
	_ = newCmd.MarkFlagRequired("role")
	cmd.AddCommand(newCmd)
	return cmd
}
