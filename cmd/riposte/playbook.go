package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/riposte-soar/riposte/playbooks"
)

func newPlaybookCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "playbook", Short: "Validate and list playbooks"}
	validate := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check playbooks and report every problem as file:line:col",
		Long: `validate parses and checks playbook files, and directories of *.yaml and
*.yml files. With no PATH it checks the playbooks built into riposte.

Every problem is printed on stderr as file:line:col: message, all at once,
and the exit status is 1. On success it prints "ok: N playbooks".`,
		RunE: func(cmd *cobra.Command, args []string) error {
			pbs, err := loadPlaybooks(args)
			if err != nil {
				return reportProblems(cmd.ErrOrStderr(), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s\n", plural(len(pbs), "playbook"))
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list [PATH...]",
		Short: "List playbooks with their version and SHA-256",
		Long: `list prints the name, version, SHA-256 and file of each playbook in the
given files and directories, or of the built-in playbooks with no PATH.
Invalid playbooks are reported as by validate.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			pbs, err := loadPlaybooks(args)
			if err != nil {
				return reportProblems(cmd.ErrOrStderr(), err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tSHA256\tFILE")
			for _, pb := range pbs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", pb.Name, pb.Version, pb.SHA256, pb.File)
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(validate, list, newPlaybookTestCmd(g))
	return cmd
}

func loadPlaybooks(paths []string) ([]*playbooks.Playbook, error) {
	if len(paths) == 0 {
		return playbooks.LoadLibrary()
	}
	return playbooks.LoadPaths(paths...)
}

// reportProblems prints each problem on its own line and returns the
// summary as the command's error (exit status 1).
func reportProblems(w io.Writer, err error) error {
	problems := playbooks.Problems(err)
	files := map[string]bool{}
	for _, e := range problems {
		fmt.Fprintln(w, e)
		var p *playbooks.Problem
		var pe *fs.PathError
		switch {
		case errors.As(e, &p):
			files[p.File] = true
		case errors.As(e, &pe):
			files[pe.Path] = true
		default:
			files[e.Error()] = true
		}
	}
	return fmt.Errorf("%s in %s", plural(len(problems), "problem"), plural(len(files), "file"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
