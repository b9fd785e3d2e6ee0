package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

func (a *app) archiveCmd() *cobra.Command {
	var recursive bool
	var class string
	cmd := &cobra.Command{
		Use:   "archive PATH...",
		Short: "Move files to an archive class (cheap to keep, slow to read)",
		Long: `Move the content of files to an archive class: glacier (restores take
minutes to hours), deep-archive (hours to two days, the cheapest) or
glacier-ir (instant retrieval: no restore needed). An archived file keeps its
place, name and versions, and shows in listings as archived; reading it
needs 'strata restore' first (except glacier-ir). On S3 these are the
storage classes of the same names; on the embedded engines a cold directory
(strata serve --archive-dir).

Folders need -r: every file under the folder is archived by a job on the
server, which goes on (and resumes after a restart) whether or not this
command waits.`,
		Args: cobra.MinimumNArgs(1),
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "archive every file under the folders given")
	cmd.Flags().StringVar(&class, "class", "glacier", "archive class: glacier, deep-archive or glacier-ir")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		req := api.ArchiveRequest{Class: class, Recursive: recursive}
		return a.eachPath(ctx, s, args, func(p string) (any, error) {
			e, job, err := s.Archive(ctx, p, req)
			if errors.Is(err, client.ErrIsDir) {
				return nil, usagef("%s is a folder: use -r to archive the files in it", p)
			}
			if err != nil || job == nil {
				return e, err
			}
			return a.followTreeJob(ctx, s, *job, "archived")
		})
	})
}

func (a *app) restoreCmd() *cobra.Command {
	var recursive, wait bool
	var tier string
	var days int
	cmd := &cobra.Command{
		Use:   "restore PATH...",
		Short: "Ask for readable copies of archived files for some days",
		Long: `Ask for a readable copy of archived files, kept for --days days (1 to 30),
at a retrieval tier: expedited (1-5 minutes on AWS; not for deep-archive),
standard (3-5 hours; 12 for deep-archive) or bulk (5-12 hours; 48 for
deep-archive), the cheaper the slower. The servers carry the restore out;
'strata ls -l' and 'strata stat' show it as restoring, then restored until
its copy expires, then archived again. A file that is not archived, or is
being restored already, is left as it is (with a note).

--wait returns once every file given is readable, with a progress line on a
terminal. Folders need -r.`,
		Args: cobra.MinimumNArgs(1),
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "restore every archived file under the folders given")
	cmd.Flags().StringVar(&tier, "tier", "standard", "retrieval tier: expedited, standard or bulk")
	cmd.Flags().IntVar(&days, "days", 7, "days the restored copy is kept (1 to 30)")
	cmd.Flags().BoolVar(&wait, "wait", false, "return once every file is readable")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		if days < 1 || days > 30 {
			return usagef("--days %d: want 1 to 30", days)
		}
		req := api.RestoreRequest{Tier: tier, Days: days, Recursive: recursive}
		var paths []string
		err := a.eachPath(ctx, s, args, func(p string) (any, error) {
			res, job, err := s.Restore(ctx, p, req)
			if errors.Is(err, client.ErrIsDir) {
				return nil, usagef("%s is a folder: use -r to restore the files in it", p)
			}
			if err != nil {
				return nil, err
			}
			paths = append(paths, p)
			if job != nil {
				return a.followTreeJob(ctx, s, *job, "asked to restore")
			}
			if !res.Started && !a.jsonOut {
				fmt.Fprintf(a.env.Stderr, "%s: %s\n", p, res.Note)
			}
			return res, nil
		})
		if err != nil || !wait {
			return err
		}
		return a.waitRestored(ctx, s, paths)
	})
}

// followTreeJob waits for a folder archive or restore job, drawing its
// count on a terminal, and says what it left out.
func (a *app) followTreeJob(ctx context.Context, s *session, job api.Job, did string) (api.Job, error) {
	line := a.statusLine()
	job, err := s.WaitJob(ctx, job, func(done int64) { line("%s: %s %d files...", job.Path, did, done) })
	line("")
	if err != nil {
		return job, err
	}
	if !a.jsonOut && !a.quiet {
		fmt.Fprintf(a.env.Stderr, "%s: %s %d files\n", job.Path, did, job.Done-job.Skipped)
	}
	if job.Skipped > 0 && !a.jsonOut {
		fmt.Fprintf(a.env.Stderr, "%s: %d files left out; the last because: %s\n", job.Path, job.Skipped, job.Why)
	}
	return job, nil
}

// waitRestored waits until no file at or under paths is being restored,
// asking the server less and less often (restores take minutes to days).
func (a *app) waitRestored(ctx context.Context, s *session, paths []string) error {
	line := a.statusLine()
	defer line("")
	wait := time.Second
	for {
		var total, pending int
		var next time.Time
		for _, p := range paths {
			err := a.walkFiles(ctx, s, p, func(e api.Entry) {
				total++
				if e.State == api.StateRestoring {
					pending++
					if e.Archive != nil && (next.IsZero() || e.Archive.Expected.Before(next)) {
						next = e.Archive.Expected
					}
				}
			})
			if err != nil {
				return err
			}
		}
		if pending == 0 {
			return nil
		}
		expect := ""
		if !next.IsZero() {
			expect = ", next expected by " + next.Local().Format("2006-01-02 15:04")
		}
		line("restoring: %d of %d files readable%s", total-pending, total, expect)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, time.Minute)
	}
}

// walkFiles calls fn for the file at p, or every file under the folder at
// p.
func (a *app) walkFiles(ctx context.Context, s *session, p string, fn func(api.Entry)) error {
	e, err := s.Stat(ctx, p)
	if err != nil {
		return err
	}
	if !e.IsDir() {
		fn(e)
		return nil
	}
	return paged(func(cursor string) (string, error) {
		pg, err := s.List(ctx, p, cursor, 0)
		if err != nil {
			return "", err
		}
		for _, e := range pg.Entries {
			if e.IsDir() {
				if err := a.walkFiles(ctx, s, e.Path, fn); err != nil {
					return "", err
				}
				continue
			}
			fn(e)
		}
		return pg.Cursor, nil
	})
}

// statusLine returns a func that redraws one status line on a terminal
// (and draws nothing elsewhere); "" clears it.
func (a *app) statusLine() func(format string, args ...any) {
	f, ok := a.env.Stderr.(*os.File)
	if !ok || a.quiet || a.jsonOut || !term.IsTerminal(int(f.Fd())) {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		io.WriteString(f, "\r\x1b[K")
		if format != "" {
			fmt.Fprintf(f, format, args...)
		}
	}
}

// archiveNote is the state column of 'ls -l': where an archived file
// stands, "" for a hot one.
func archiveNote(e api.Entry) string {
	ai := e.Archive
	if ai == nil || e.State == api.StateHot || e.State == "" {
		return ""
	}
	switch e.State {
	case api.StateRestoring:
		return fmt.Sprintf("[restoring %s, by %s]", ai.Class, ai.Expected.Local().Format("01-02 15:04"))
	case api.StateRestored:
		return fmt.Sprintf("[restored %s, until %s]", ai.Class, ai.Until.Local().Format("01-02 15:04"))
	}
	return fmt.Sprintf("[%s]", ai.Class)
}

func (a *app) lifecycleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lifecycle",
		Short: "Archive rules: archive a folder's files not modified for some time",
		Long: `Archive rules: the files under a folder that were not modified for some
time move to an archive class. The servers sweep the folders themselves (S3's
lifecycle rules cannot: object keys say nothing of paths), a bounded number
of entries at a time, and each file is checked for whoever set the rule.`,
	}
	var after, class string
	set := &cobra.Command{Use: "set FOLDER --archive-after 90d [--class deep-archive]", Short: "Set a folder's rule (replacing its rule if it has one)", Args: cobra.ExactArgs(1)}
	set.Flags().StringVar(&after, "archive-after", "", "archive files not modified for this long, in days: 90d (or 90)")
	set.Flags().StringVar(&class, "class", "glacier", "archive class: glacier, deep-archive or glacier-ir")
	a.storeCmd(set, func(ctx context.Context, s *session, args []string) error {
		days, err := strconv.Atoi(strings.TrimSuffix(after, "d"))
		if err != nil || days < 1 {
			return usagef("--archive-after %q: want a number of days, e.g. 90d", after)
		}
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		rule, err := s.SetArchiveRule(ctx, p, api.ArchiveRuleRequest{AfterDays: days, Class: class})
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(rule)
		}
		fmt.Fprintf(a.env.Stdout, "%s: files not modified for %d days go to %s\n", rule.Path, rule.AfterDays, rule.Class)
		return nil
	})
	ls := a.storeCmd(&cobra.Command{Use: "ls [FOLDER]", Short: "List the rules on a folder (your home by default; / for all) and below", Args: cobra.MaximumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			p, err := s.remote(ctx, arg)
			if err != nil {
				return err
			}
			rules, err := s.ArchiveRules(ctx, p)
			if err != nil {
				return err
			}
			if a.jsonOut {
				for _, r := range rules {
					if err := a.printJSON(r); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "FOLDER\tAFTER\tCLASS\tBY\tLAST SWEEP\tARCHIVED")
			for _, r := range rules {
				last := rfc3339(r.LastSweep)
				if r.Sweeping {
					last += " (sweeping)"
				}
				fmt.Fprintf(tw, "%s\t%dd\t%s\t%s\t%s\t%d\n", r.Path, r.AfterDays, r.Class, r.By, last, r.Archived)
			}
			return tw.Flush()
		})
	rm := a.storeCmd(&cobra.Command{Use: "rm FOLDER", Short: "Remove a folder's rule", Args: cobra.ExactArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			p, err := s.remote(ctx, args[0])
			if err != nil {
				return err
			}
			return s.DeleteArchiveRule(ctx, p)
		})
	cmd.AddCommand(set, ls, rm)
	return cmd
}
