package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/server/api"
)

// usageCmd is `strata usage`: the home folder's usage against its quota,
// like df.
func (a *app) usageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage [USER]",
		Short: "Show what your home folder uses of its quota (an admin: anyone's)",
		Long: `Show what a home folder uses of its quota, like df: bytes and files used,
the limit, and the share of it used. Bytes count every version kept of every
file, in the folder and in any trash (a copy counts in full, though it shares
its content), plus what open upload sessions reserved. Emptying the trash
gives space back.`,
		Args: cobra.MaximumNArgs(1),
	}
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		user := ""
		if len(args) == 1 {
			user = args[0]
		}
		u, err := s.Usage(ctx, user)
		if err != nil {
			return err
		}
		return a.printUsage(u)
	})
}

// printUsage prints u as a df-like table, or as JSON.
func (a *app) printUsage(u api.Usage) error {
	t := a.table("HOME\tUSED\tLIMIT\tUSE%\tFILES\tLIMIT\tUSE%")
	if err := t.row(u, u.Home, human.Bytes(u.Bytes+u.Reserved), limitOf(u.QuotaBytes, human.Bytes), percent(u.Bytes+u.Reserved, u.QuotaBytes),
		human.Count(u.Files), limitOf(u.QuotaFiles, human.Count[int64]), percent(u.Files, u.QuotaFiles)); err != nil {
		return err
	}
	if err := t.flush(); err != nil || a.jsonOut {
		return err
	}
	if u.Reserved > 0 {
		fmt.Fprintf(a.env.Stdout, "(used includes %s reserved by open uploads: 'strata uploads ls --user %s' lists them)\n", human.Bytes(u.Reserved), u.User)
	}
	if !u.Counted {
		fmt.Fprintf(a.env.Stdout, "(never counted: 'strata admin quota recount %s' counts it)\n", u.User)
	}
	return nil
}

func limitOf(n int64, f func(int64) string) string {
	if n <= 0 {
		return "none"
	}
	return f(n)
}

func percent(used, limit int64) string {
	if limit <= 0 {
		return "-"
	}
	return strconv.FormatInt(used*100/limit, 10) + "%"
}

// quotaCmd is `strata admin quota`.
func (a *app) quotaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quota",
		Short: "Set and show users' quotas",
		Long: `A user's quota limits what their home folder, /home/<name>, may hold: bytes
(every version kept, trash included, copies in full, open uploads' reservations)
and files. What lies outside every home folder counts against nobody. A write
that would go past a limit is refused (quota_exceeded); a limit set below the
usage deletes nothing. 'strata serve --default-quota' sets the bytes limit of
new users.`,
	}
	set := &cobra.Command{
		Use:   "set USER",
		Short: "Set a user's quota (none or 0: no limit; a limit not given stays)",
		Example: `  strata admin quota set alice --bytes 10GiB --files 100000
  strata admin quota set alice --bytes none`,
		Args: cobra.ExactArgs(1),
	}
	bytesFlag := set.Flags().String("bytes", "", "most bytes: a size like 500M, 10GiB or 2TB (powers of 1024 but for KB, MB, GB, TB), or none")
	filesFlag := set.Flags().String("files", "", "most files, or none")
	a.storeCmd(set, func(ctx context.Context, s *session, args []string) error {
		var bytes, files *int64
		if set.Flags().Changed("bytes") {
			n, err := parseLimit(*bytesFlag, human.ParseBytes)
			if err != nil {
				return usagef("--bytes: %v", err)
			}
			bytes = &n
		}
		if set.Flags().Changed("files") {
			n, err := parseLimit(*filesFlag, parseCount)
			if err != nil {
				return usagef("--files: %v", err)
			}
			files = &n
		}
		if bytes == nil && files == nil {
			return usagef("give --bytes, --files or both")
		}
		u, err := s.SetQuota(ctx, args[0], bytes, files)
		if err != nil {
			return err
		}
		return a.printUsage(u)
	})
	get := a.userUsageCmd("get USER", "Show a user's quota and usage", (*session).Usage)
	recount := a.userUsageCmd("recount USER", "Count again what a user's home folder holds (it is kept exact; this is for repairs)", (*session).RecountUsage)
	cmd.AddCommand(set, get, recount)
	return cmd
}

// userUsageCmd is a command on one user that prints the usage of their
// home folder that fetch answers.
func (a *app) userUsageCmd(use, short string, fetch func(*session, context.Context, string) (api.Usage, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1)}
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		u, err := fetch(s, ctx, args[0])
		if err != nil {
			return err
		}
		return a.printUsage(u)
	})
}

// parseLimit reads a limit: none (or 0) is no limit, else parse reads it.
func parseLimit(s string, parse func(string) (int64, error)) (int64, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return 0, nil
	}
	return parse(s)
}

func parseCount(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want a number of files, or none", s)
	}
	return n, nil
}
