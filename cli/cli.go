// Package cli is the strata command line: the cobra command tree and what
// each command does. Client commands reach the server only through
// server/client; `strata serve` wires the engines, the core and the server.
package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strata-storage/strata/internal/version"
)

// Exit codes, documented in README.md.
const (
	ExitOK          = 0
	ExitError       = 1 // anything not listed below
	ExitUsage       = 2 // bad command line or request (e.g. an invalid path)
	ExitNotFound    = 3
	ExitAuth        = 4 // missing, invalid or insufficient credentials
	ExitConflict    = 5 // exists, not empty, changed meanwhile, precondition
	ExitIntegrity   = 6 // a digest did not match
	ExitUnavailable = 7 // the server could not be reached
	ExitNoSpace     = 8
	// ExitInterrupted is the shell's code for a program stopped by SIGINT.
	ExitInterrupted = 130
)

// Env is what a command sees of its process: arguments aside, everything
// comes through here so tests can run commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// app holds what all commands share for one invocation.
type app struct {
	env     Env
	cfgFile map[string]string

	// Global flags.
	server   string
	token    string
	jsonOut  bool
	quiet    bool
	config   string
	caCert   string
	data     string // the data directory: the store of serve and local mode
	parallel int    // the TUI's transfers in flight

	// cleanups run when the command is done (a store opened in-process).
	cleanups []func()
	// waits shows the client's waits before it retries.
	waits waitNotices
}

// Run runs the strata command line and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	a := &app{env: env}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	for i := len(a.cleanups) - 1; i >= 0; i-- {
		a.cleanups[i]()
	}
	if err == nil {
		return ExitOK
	}
	if !a.jsonOut {
		// A command line that did not parse never set the flag.
		a.jsonOut = wantsJSON(args, env.Getenv)
	}
	if ctx.Err() != nil {
		// Ctrl-C or SIGTERM: what was cut short resumes on the next run.
		err = &interruptedError{err}
	}
	return a.printError(cmd, err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "strata",
		Short: "Strata: an encrypted, self-hostable file store",
		Long: `Strata stores files encrypted at rest, serves them over an HTTP API, and
ships its file manager, server, CLI and tools in this one binary.

strata with no command opens the file manager: on the server you logged in
to (strata login, or STRATA_SERVER and STRATA_TOKEN), or else in local mode,
on an embedded store in $XDG_DATA_HOME/strata (--data).

Start a server:      strata serve
Point the CLI at it: strata login --server http://127.0.0.1:8420
Then:                strata put report.pdf docs/ ; strata ls docs`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.bindSettings(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runTUI(cmd.Context())
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", "", "server address (env STRATA_SERVER; default: the profile saved by 'strata login')")
	pf.StringVar(&a.token, "token", "", "API token (prefer env STRATA_TOKEN: flags show in process lists)")
	pf.BoolVar(&a.jsonOut, "json", false, "print machine-readable JSON (one object per line for listings)")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "print no progress")
	pf.StringVar(&a.config, "config", "", "settings file (env STRATA_CONFIG; default $XDG_CONFIG_HOME/strata/config.json if present)")
	pf.StringVar(&a.caCert, "ca-cert", "", "trust the server certificates this CA (PEM file) signed, e.g. a self-signed one (env STRATA_CA_CERT)")
	pf.StringVar(&a.data, "data", "", "data directory: the store of 'strata serve' and of local mode, which commands use when no server is given (default $XDG_DATA_HOME/strata)")
	root.Flags().IntVar(&a.parallel, "parallel", 4, "files the file manager transfers at once")

	root.AddCommand(
		a.serveCmd(),
		a.loginCmd(), a.passwdCmd(), a.tokenCmd(false), a.sshKeysCmd(), a.whoamiCmd(),
		a.lsCmd(), a.statCmd(), a.catCmd(), a.mkdirCmd(), a.mvCmd(), a.cpCmd(), a.rmCmd(), a.touchCmd(),
		a.putCmd(), a.getCmd(),
		a.trashCmd(), a.versionsCmd(), a.uploadsCmd(), a.shareCmd(),
		a.usageCmd(),
		a.archiveCmd(), a.restoreCmd(),
		a.adminCmd(),
		a.provisionCmd(),
		a.versionCmd(),
	)
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes a command that only groups others fail on
// a word that is none of them: cobra checks subcommand names at the root
// only, and below it prints the group's help and exits 0, so a script's
// typo ("strata admin group add") would pass for success.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Use += " COMMAND"
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", s[0])
		}
		return usagef("%s (see %s --help)", msg, c.CommandPath())
	}
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.jsonOut {
				return a.printJSON(map[string]string{"version": version.String()})
			}
			fmt.Fprintln(a.env.Stdout, "strata", version.String())
			return nil
		},
	}
}

// bindSettings fills every flag the user did not give from STRATA_<FLAG>
// in the environment, then from the settings file: flags first, then the
// environment, then the file.
func (a *app) bindSettings(cmd *cobra.Command) error {
	if err := a.loadConfigFile(cmd); err != nil {
		return err
	}
	var bindErr error
	set := func(f *pflag.Flag) {
		if f.Changed || bindErr != nil || f.Name == "help" || f.Name == "version" || f.Name == "config" {
			return
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		if v := a.env.Getenv("STRATA_" + strings.ToUpper(key)); v != "" {
			if err := f.Value.Set(v); err != nil {
				bindErr = usagef("STRATA_%s: %v", strings.ToUpper(key), err)
			}
			return
		}
		if v, ok := a.cfgFile[f.Name]; ok {
			if err := f.Value.Set(v); err != nil {
				bindErr = usagef("%s in the settings file: %v", f.Name, err)
			}
		}
	}
	cmd.Flags().VisitAll(set)
	cmd.InheritedFlags().VisitAll(set)
	return bindErr
}

// table prints a listing: aligned columns under a header, or with --json one
// JSON object per line (and no header).
type table struct {
	a  *app
	tw *tabwriter.Writer
}

// table starts a listing; header is tab-separated.
func (a *app) table(header string) *table {
	t := &table{a: a, tw: tabwriter.NewWriter(a.env.Stdout, 0, 0, 2, ' ', 0)}
	if !a.jsonOut {
		fmt.Fprintln(t.tw, header)
	}
	return t
}

// row prints v as JSON, or cells as one row.
func (t *table) row(v any, cells ...any) error {
	if t.a.jsonOut {
		return t.a.printJSON(v)
	}
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
	return nil
}

func (t *table) flush() error { return t.tw.Flush() }

func localTime(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }
