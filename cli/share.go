package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/expiry"
	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/server/api"
)

// shareCmd is `strata share`: its subcommands are listed in one place so
// that other kinds of share add theirs beside the links'.
func (a *app) shareCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "share",
		Short: "Share files and folders: links anyone with the URL can use, and shares with users and groups",
		Long: `Share a file or folder with a link (create, ls, info, rm): a URL that works
in any browser, without an account, until it expires or is revoked. A link
follows its file or folder when it is renamed or moved, stops while it is in
the trash and works again when it is restored. It acts as you: it never gives
more than you have.

Or share it with users and groups (add, remove, grants, received, leave),
read-only or read-write: they find it at /shared/<you>/<name> and work in it
with exactly the rights given (never more than you have); what they delete
goes to your trash.`,
	}
	cmd.AddCommand(a.shareLinkCmds()...)
	a.addUserShareCmds(cmd)
	return cmd
}

// shareLinkCmds are the subcommands of share links.
func (a *app) shareLinkCmds() []*cobra.Command {
	return []*cobra.Command{a.shareCreateCmd(), a.shareLsCmd(), a.shareInfoCmd(), a.shareRmCmd()}
}

// parseExpiry reads --expires: a lifetime (30d, 12h), a date (2027-01-31,
// the end of that day UTC) or "never".
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	t, err := expiry.Parse(s, now)
	if err != nil {
		return nil, usagef("--expires %v", err)
	}
	return t, nil
}

func (a *app) shareCreateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create PATH",
		Short: "Make a link to a file or folder and print its URL",
		Long: `Make a link to a file or folder and print its URL (shown only this once:
the server keeps only a hash of it).

  strata share create report.pdf --expires 7d
  strata share create photos --password --max-downloads 10
  strata share create inbox --upload-only --max-upload-size 2GiB

A password-protected link asks for its password on its page; curl and wget
give it as HTTP Basic auth (any user name) on the link's /raw and /zip.`,
		Args: cobra.ExactArgs(1),
	}
	f := cmd.Flags()
	expires := f.String("expires", "30d", "when the link stops working: a lifetime (30d, 12h), a date (2027-01-31) or never")
	password := f.Bool("password", false, "protect the link with a password, asked on the terminal")
	stdin := f.Bool("password-stdin", false, "protect the link with a password read from standard input (for scripts)")
	maxDL := f.Int64("max-downloads", 0, "stop after this many downloads (0: no limit)")
	uploadOnly := f.Bool("upload-only", false, "a drop folder: visitors upload files and see nothing")
	allowUpload := f.Bool("allow-upload", false, "visitors may also upload files into the folder")
	maxUp := f.String("max-upload-size", "", "the largest file visitors may upload, e.g. 500MiB (default: no limit but your quota)")
	allowIP := f.StringSlice("allow-ip", nil, "only visitors from these networks (CIDR, comma-separated)")
	note := f.String("note", "", "a note shown to visitors")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		if *uploadOnly && *allowUpload {
			return usagef("--upload-only and --allow-upload exclude each other")
		}
		if *maxDL < 0 {
			return usagef("--max-downloads must not be negative")
		}
		exp, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return err
		}
		req := api.CreateShareRequest{Expires: exp, MaxDownloads: *maxDL, AllowIP: *allowIP, Note: *note, Mode: "read"}
		switch {
		case *uploadOnly:
			req.Mode = "upload"
		case *allowUpload:
			req.Mode = "read-upload"
		}
		if *maxUp != "" {
			n, err := parseSize(*maxUp)
			if err != nil {
				return usagef("--max-upload-size: %v", err)
			}
			req.MaxUploadSize = n
		}
		if *password || *stdin {
			pw, err := a.readSecret("Link password: ", *stdin)
			if err != nil {
				return err
			}
			if !*stdin {
				again, err := a.readSecret("Again: ", false)
				if err != nil {
					return err
				}
				if again != pw {
					return usagef("the two passwords differ; no link was made")
				}
			}
			req.Password = pw
		}
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		req.Path = p
		sh, err := s.CreateShare(ctx, req)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(sh)
		}
		fmt.Fprintln(a.env.Stdout, sh.URL)
		if !a.quiet {
			fmt.Fprintf(a.env.Stderr, "link %s to %s: %s\n", sh.ID, sh.Path, describeShare(sh))
		}
		return nil
	})
}

// parseSize reads a size like 500MiB, 2GB or 1048576.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(num, &n); err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 500MiB)", s)
	}
	return n * mult, nil
}

// describeShare is a link's settings in words.
func describeShare(sh api.Share) string {
	var parts []string
	switch sh.Mode {
	case "upload":
		parts = append(parts, "upload only")
	case "read-upload":
		parts = append(parts, "download and upload")
	default:
		parts = append(parts, "download")
	}
	if sh.Expires != nil {
		parts = append(parts, "expires "+localTime(*sh.Expires))
	} else {
		parts = append(parts, "never expires")
	}
	if sh.Password {
		parts = append(parts, "password")
	}
	if sh.MaxDownloads > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d downloads used", sh.Downloads, sh.MaxDownloads))
	}
	if sh.MaxUploadSize > 0 {
		parts = append(parts, "uploads up to "+human.Bytes(sh.MaxUploadSize))
	}
	if len(sh.AllowIP) > 0 {
		parts = append(parts, "from "+strings.Join(sh.AllowIP, ", "))
	}
	return strings.Join(parts, ", ")
}

func (a *app) shareLsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List your links (only those to PATH, if given)",
		Args:  cobra.MaximumNArgs(1),
	}
	user := ownerFlag(cmd, "links")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		path := ""
		if len(args) == 1 {
			p, err := s.remote(ctx, args[0])
			if err != nil {
				return err
			}
			path = p
		}
		t := a.table("ID\tSTATE\tPATH\tSETTINGS\tNOTE")
		err := paged(func(cursor string) (string, error) {
			pg, err := s.ListShares(ctx, *user, path, cursor, 0)
			if err != nil {
				return "", err
			}
			for _, sh := range pg.Shares {
				where := sh.Path
				if where == "" {
					where = "(" + sh.Name + ")"
				}
				if err := t.row(sh, sh.ID, sh.State, where, describeShare(sh), sh.Note); err != nil {
					return "", err
				}
			}
			return pg.Cursor, nil
		})
		if err != nil {
			return err
		}
		return t.flush()
	})
}

func (a *app) shareInfoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "info ID",
		Short: "Describe a link",
		Args:  cobra.ExactArgs(1),
	}
	user := ownerFlag(cmd, "links")
	showURL := cmd.Flags().Bool("url", false, "show the link's URL again (your own links; the server keeps it sealed)")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		var sh api.Share
		var err error
		if *showURL {
			if *user != "" {
				return usagef("--url shows your own links only")
			}
			sh, err = s.RevealShare(ctx, args[0])
		} else {
			sh, err = s.GetShare(ctx, *user, args[0])
		}
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(sh)
		}
		w := a.env.Stdout
		fmt.Fprintf(w, "id:        %s\n", sh.ID)
		if sh.URL != "" {
			fmt.Fprintf(w, "url:       %s\n", sh.URL)
		}
		fmt.Fprintf(w, "state:     %s\n", sh.State)
		fmt.Fprintf(w, "%-10s %s\n", sh.Kind+":", map[bool]string{true: sh.Path, false: "(" + sh.Name + ", not in the tree)"}[sh.Path != ""])
		fmt.Fprintf(w, "owner:     %s\n", sh.Owner)
		fmt.Fprintf(w, "created:   %s\n", localTime(sh.Created))
		fmt.Fprintf(w, "settings:  %s\n", describeShare(sh))
		if sh.MaxDownloads == 0 {
			fmt.Fprintf(w, "downloads: %s\n", human.Count(sh.Downloads))
		}
		if sh.Note != "" {
			fmt.Fprintf(w, "note:      %s\n", sh.Note)
		}
		return nil
	})
}

func (a *app) shareRmCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rm ID...",
		Short: "Revoke links: they stop working at once",
		Args:  cobra.MinimumNArgs(1),
	}
	user := ownerFlag(cmd, "links")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		return eachArg(args, func(id string) error {
			if err := s.RevokeShare(ctx, *user, id); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"id": id, "revoked": true})
			}
			if !a.quiet {
				fmt.Fprintf(a.env.Stderr, "revoked %s\n", id)
			}
			return nil
		})
	})
}
