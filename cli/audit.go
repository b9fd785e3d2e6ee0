package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/server/client"
)

// auditCmd is `strata admin audit`.
func (a *app) auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log, newest first (everyone's for admins, your own otherwise)",
		Long: `Read the audit log, newest first: every change, every denial and every login,
with who, from where, what, the policy statement that decided and the outcome.
Admins read everyone's records (strata:ReadAudit on strata:system/audit);
anyone else reads their own. --json prints one JSON record per line.`,
		Example: `  strata admin audit --since 24h
  strata admin audit --user alice --action 'strata:Delete*' --path /home/alice/projects`,
		Args: cobra.NoArgs,
	}
	user := cmd.Flags().String("user", "", "records of this user only")
	action := cmd.Flags().String("action", "", "records whose action matches this pattern (* and ?), e.g. 'strata:Delete*'")
	path := cmd.Flags().String("path", "", "records about this path or below it")
	since := cmd.Flags().String("since", "", "records of the last span (e.g. 24h, 7d) or from an RFC 3339 time on")
	limit := cmd.Flags().Int("limit", 100, "most records to print (0: all)")
	a.storeCmd(cmd, func(ctx context.Context, s *session, _ []string) error {
		q := client.AuditQuery{User: *user, Action: *action, Path: *path}
		if *since != "" {
			if t, err := time.Parse(time.RFC3339, *since); err == nil {
				q.Since = t
			} else {
				d, err := parseSpan("--since", *since)
				if err != nil {
					return err
				}
				q.Since = time.Now().Add(-d)
			}
		}
		if *limit < 0 {
			return usagef("--limit %d: want 0 (all) or more", *limit)
		}
		tab := a.table("TIME\tUSER\tVIA\tSOURCE\tACTION\tRESOURCE\tDECISION\tSTATEMENT\tOUTCOME")
		n := 0
		for {
			if *limit > 0 {
				q.Limit = min(*limit-n, 1000)
			}
			pg, err := s.Audit(ctx, q)
			if err != nil {
				return err
			}
			for _, r := range pg.Records {
				stmt := r.Policy
				if r.Sid != "" {
					stmt += "/" + r.Sid
				}
				if err := tab.row(r, localTime(r.Time), dash(r.User), dash(r.Via), dash(r.SourceIP), dash(r.Action),
					dash(r.Resource), dash(r.Decision), dash(stmt), r.Outcome); err != nil {
					return err
				}
				n++
			}
			if pg.Cursor == "" || *limit > 0 && n >= *limit {
				return tab.flush()
			}
			q.Cursor = pg.Cursor
		}
	})
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
