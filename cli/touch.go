package cli

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/server/client"
)

// touchCmd sets files' modification times, as touch(1) does: without
// writing a version of an existing file.
func (a *app) touchCmd() *cobra.Command {
	var mtime string
	var noCreate bool
	cmd := &cobra.Command{
		Use:   "touch PATH...",
		Short: "Set files' modification time (creating empty files that are missing)",
		Long: `Set the modification time of each file to --mtime (default: now), without
writing a new version: the content and its versions stay as they are. A
missing file is created empty with that time, unless --no-create is given.
Folders have no time to set. 'strata put' keeps the local files' times by
itself.`,
		Args: cobra.MinimumNArgs(1),
	}
	cmd.Flags().StringVar(&mtime, "mtime", "", "the time to set, RFC 3339 (2024-05-01T12:00:00Z; default: now)")
	cmd.Flags().BoolVarP(&noCreate, "no-create", "c", false, "do not create missing files")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		t := time.Now()
		if mtime != "" {
			var err error
			if t, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(mtime)); err != nil {
				return usagef("--mtime %q: want an RFC 3339 time such as 2024-05-01T12:00:00Z", mtime)
			}
		}
		return a.eachPath(ctx, s, args, func(p string) (any, error) {
			e, err := s.SetMTime(ctx, p, t)
			if errors.Is(err, client.ErrNotFound) && !noCreate {
				return s.Put(ctx, p, strings.NewReader(""), 0, client.PutOptions{MTime: t, IfNoneMatch: true})
			}
			return e, err
		})
	})
}
