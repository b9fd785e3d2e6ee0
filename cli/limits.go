package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/server/api"
)

// limitsCmd is 'strata admin limits': one user's own rate limits.
func (a *app) limitsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "limits", Short: "Show and change one user's rate limits (requests and bandwidth)"}
	get := a.storeCmd(&cobra.Command{Use: "get USER", Short: "Show a user's rate limits: their own, and those that apply", Args: cobra.ExactArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			l, err := s.UserLimits(ctx, args[0])
			if err != nil {
				return err
			}
			return a.printLimits(l)
		})
	set := &cobra.Command{
		Use:   "set USER [--requests N] [--bandwidth SIZE]",
		Short: "Set a user's own rate limits in place of the server's defaults",
		Long: `Set a user's own rate limits in place of the server's defaults (strata serve
--limit-requests and --limit-bandwidth). --requests is the sustained requests
a second (the burst is twice as many), --bandwidth the bytes a second of
request and response bodies (e.g. 20MiB). 0 lifts that limit for the user;
"default" goes back to the server's. A limit not given stays as it was.`,
		Args: cobra.ExactArgs(1),
	}
	requests := set.Flags().String("requests", "", "sustained requests per second (0: no limit; default: the server's)")
	bandwidth := set.Flags().String("bandwidth", "", "bytes per second, e.g. 20MiB (0: no limit; default: the server's)")
	a.storeCmd(set, func(ctx context.Context, s *session, args []string) error {
		if *requests == "" && *bandwidth == "" {
			return usagef("give --requests, --bandwidth or both")
		}
		cur, err := s.UserLimits(ctx, args[0])
		if err != nil {
			return err
		}
		l := cur.Own
		if l.Requests, err = limitFlag("--requests", *requests, l.Requests, func(v string) (float64, error) {
			return strconv.ParseFloat(v, 64)
		}); err != nil {
			return err
		}
		if l.Bandwidth, err = limitFlag("--bandwidth", *bandwidth, l.Bandwidth, human.ParseBytes); err != nil {
			return err
		}
		got, err := s.SetUserLimits(ctx, args[0], l)
		if err != nil {
			return err
		}
		return a.printLimits(got)
	})
	clear := a.storeCmd(&cobra.Command{Use: "clear USER...", Short: "Drop users' own rate limits: the server's defaults apply", Args: cobra.MinimumNArgs(1)},
		func(ctx context.Context, s *session, args []string) error {
			return eachArg(args, func(name string) error { return s.ClearUserLimits(ctx, name) })
		})
	cmd.AddCommand(get, set, clear)
	return cmd
}

// limitFlag is the new value of one limit: cur when the flag is not
// given, nil for "default", else the flag's value.
func limitFlag[T any](flag, v string, cur *T, parse func(string) (T, error)) (*T, error) {
	switch v {
	case "":
		return cur, nil
	case "default":
		return nil, nil
	}
	n, err := parse(v)
	if err != nil {
		return nil, usagef("%s %q: want a number, 0 for no limit, or \"default\"", flag, v)
	}
	return &n, nil
}

func (a *app) printLimits(l api.UserLimits) error {
	if a.jsonOut {
		return a.printJSON(l)
	}
	req := func(r float64) string {
		if r == 0 {
			return "no limit"
		}
		return strconv.FormatFloat(r, 'f', -1, 64) + " a second, burst " + strconv.FormatFloat(2*r, 'f', 0, 64)
	}
	bw := func(b int64) string {
		if b == 0 {
			return "no limit"
		}
		return human.Bytes(b) + " a second"
	}
	src := func(own bool) string {
		if own {
			return "(the user's own)"
		}
		return "(the server's default)"
	}
	fmt.Fprintf(a.env.Stdout, "%s\n  requests   %s %s\n  bandwidth  %s %s\n", l.User,
		req(l.Effective.Requests), src(l.Own.Requests != nil), bw(l.Effective.Bandwidth), src(l.Own.Bandwidth != nil))
	return nil
}
