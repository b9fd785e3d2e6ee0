package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/internal/pageahead"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// session is a client plus the caller's home, for resolving relative paths.
type session struct {
	*client.Client
	home string
	// where the commands go, for people (see connect).
	where string
}

func (a *app) session(ctx context.Context) (*session, error) {
	c, where, err := a.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	return &session{Client: c, where: where}, nil
}

// remote resolves a remote path argument: absolute paths stand, anything
// else is relative to the user's home folder ("" and "." are the home).
func (s *session) remote(ctx context.Context, arg string) (string, error) {
	if strings.HasPrefix(arg, "/") {
		return arg, nil
	}
	if s.home == "" {
		u, err := s.Whoami(ctx)
		if err != nil {
			return "", err
		}
		s.home = u.Home
	}
	arg = strings.TrimPrefix(strings.TrimPrefix(arg, "~"), "/")
	if arg == "" || arg == "." {
		return s.home, nil
	}
	return s.home + "/" + strings.TrimPrefix(arg, "./"), nil
}

func (a *app) lsCmd() *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "ls [PATH]",
		Short: "List a folder (your home by default)",
		Long: `List a folder, page by page as the server sends it (sorted by name).
Relative paths are relative to your home folder. --json prints one JSON
object per entry and line.`,
		Args: cobra.MaximumNArgs(1),
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "show kind, size, time and version")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		arg := ""
		if len(args) == 1 {
			arg = args[0]
		}
		p, err := s.remote(ctx, arg)
		if err != nil {
			return err
		}
		// One write per page, not per line: a folder of 100,000 entries
		// would otherwise cost as many write calls. The next pages are
		// fetched while one is decoded and printed (each names the next
		// before it is decoded), so that the server makes a page while
		// the client reads the one before; the first is small, so that
		// the first line comes at once.
		out := bufio.NewWriterSize(a.env.Stdout, lsWriteBuffer)
		pages := pageahead.Pages(ctx, "", lsPagesAhead, func(ctx context.Context, cursor string) (client.PageText, string, error) {
			limit := 0
			if cursor == "" {
				limit = lsFirstPage
			}
			t, err := s.ListText(ctx, p, "", cursor, limit)
			return t, t.Cursor(), err
		})
		listed := false
		// Each page is decoded into the entries of the one printed before.
		var done []api.Entry
		for t, err := range pages {
			if err != nil && !listed {
				return a.lsNotFolder(ctx, s, p, err, long)
			}
			if err != nil {
				return err
			}
			pg, err := t.DecodeReusing(done)
			if err != nil {
				return err
			}
			done = pg.Entries
			listed = true
			if err := a.printEntries(out, pg.Entries, long); err != nil {
				return err
			}
			if err := out.Flush(); err != nil {
				return err
			}
		}
		return nil
	})
}

// lsNotFolder is ls of a path that could not be listed (err). The listing
// comes first because a folder is what ls is mostly for, and a policy may
// allow listing a folder (strata:ListFolder) without reading it
// (strata:GetFile, which a stat is). Only a file, or a path that may not be
// listed, is looked at as one.
func (a *app) lsNotFolder(ctx context.Context, s *session, p string, err error, long bool) error {
	if errors.Is(err, client.ErrNotDir) || errors.Is(err, client.ErrForbidden) {
		if e, serr := s.Stat(ctx, p); serr == nil && !e.IsDir() {
			return a.printEntries(a.env.Stdout, []api.Entry{e}, long)
		} else if errors.Is(err, client.ErrNotDir) {
			return serr
		}
	}
	return err
}

// lsFirstPage is the size of ls's first page, smaller than the server's
// own (1,000): the first line of a big folder shows without waiting for a
// whole page to be read, encoded and decoded. lsPagesAhead is how many
// pages ls reads ahead of what it prints.
const (
	lsFirstPage  = 100
	lsPagesAhead = 2
)

// lsWriteBuffer holds a page of names (a 4 KiB buffer was written three
// times a page), and is a pipe's capacity on Linux.
const lsWriteBuffer = 64 << 10

func (a *app) printEntries(w io.Writer, es []api.Entry, long bool) error {
	if a.jsonOut {
		enc := json.NewEncoder(w)
		for _, e := range es {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if !long {
		// Plain writes rather than fmt: one line per entry, and a folder
		// may hold hundreds of thousands.
		for _, e := range es {
			end := "\n"
			if e.IsDir() {
				end = "/\n"
			}
			if _, err := io.WriteString(w, e.Name); err != nil {
				return err
			}
			if _, err := io.WriteString(w, end); err != nil {
				return err
			}
		}
		return nil
	}
	// Fixed widths rather than a tabwriter: a listing streams page by page,
	// and columns must line up across pages.
	for _, e := range es {
		kind, size, ver, name := "d", "-", "", e.Name+"/"
		if !e.IsDir() {
			kind, size, ver, name = "-", human.Bytes(e.Size), fmt.Sprintf("v%d", e.Version), e.Name
		}
		if note := archiveNote(e); note != "" {
			name += "  " + note
		}
		fmt.Fprintf(w, "%s %10s  %s  %5s  %s\n", kind, size, e.ModTime.Local().Format("2006-01-02 15:04"), ver, name)
	}
	return nil
}

func (a *app) statCmd() *cobra.Command {
	return a.storeCmd(&cobra.Command{
		Use:   "stat PATH",
		Short: "Describe a file or folder",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, s *session, args []string) error {
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		e, err := s.Stat(ctx, p)
		if err != nil {
			return err
		}
		if a.jsonOut {
			return a.printJSON(e)
		}
		tw := tabwriter.NewWriter(a.env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "Path:\t%s\n", e.Path)
		fmt.Fprintf(tw, "Kind:\t%s\n", map[bool]string{true: "folder", false: "file"}[e.IsDir()])
		if !e.IsDir() {
			fmt.Fprintf(tw, "Size:\t%s (%d bytes)\n", human.Bytes(e.Size), e.Size)
			if e.ClientDigest {
				fmt.Fprintf(tw, "SHA-256:\t%s (the uploader's client computed it)\n", e.SHA256)
			} else {
				fmt.Fprintf(tw, "SHA-256:\t%s\n", e.SHA256)
			}
			fmt.Fprintf(tw, "Version:\t%d\n", e.Version)
			fmt.Fprintf(tw, "State:\t%s\n", e.State)
			if ai := e.Archive; ai != nil {
				fmt.Fprintf(tw, "Class:\t%s (since %s)\n", ai.Class, rfc3339(ai.Since))
				if e.State == api.StateRestoring {
					fmt.Fprintf(tw, "Restore:\t%s, %d days, asked %s, expected by %s\n", ai.Tier, ai.Days, rfc3339(ai.Requested), rfc3339(ai.Expected))
				}
				if e.State == api.StateRestored {
					fmt.Fprintf(tw, "Restored:\tuntil %s\n", rfc3339(ai.Until))
				}
			}
		}
		fmt.Fprintf(tw, "Modified:\t%s\n", rfc3339(e.ModTime))
		fmt.Fprintf(tw, "Created:\t%s\n", rfc3339(e.Created))
		fmt.Fprintf(tw, "ID:\t%s\n", e.ID)
		return tw.Flush()
	})
}

// rfc3339 writes a time in local time, "-" for none (the root has none).
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.RFC3339)
}

func (a *app) catCmd() *cobra.Command {
	var version int64
	cmd := &cobra.Command{
		Use:   "cat PATH",
		Short: "Write a file to standard output, verifying its SHA-256",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().Int64Var(&version, "version", 0, "read this version instead of the current one")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		p, err := s.remote(ctx, args[0])
		if err != nil {
			return err
		}
		d, err := s.Get(ctx, p, client.GetOptions{Version: version})
		if err != nil {
			return err
		}
		defer d.Body.Close()
		if _, err := d.WriteVerified(a.env.Stdout); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}

func (a *app) mkdirCmd() *cobra.Command {
	var parents bool
	cmd := &cobra.Command{
		Use:   "mkdir PATH...",
		Short: "Create folders",
		Args:  cobra.MinimumNArgs(1),
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "create missing parents; an existing folder is fine")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		return a.eachPath(ctx, s, args, func(p string) (any, error) {
			e, err := s.Mkdir(ctx, p, parents)
			if errors.Is(err, client.ErrNotFound) && !parents {
				return nil, fmt.Errorf("%w (-p creates the missing folders above it)", err)
			}
			return e, err
		})
	})
}

// intoTarget resolves the destination of mv and cp: with several sources,
// or a destination that is an existing folder, each source goes into it
// under its own name.
func (a *app) intoTarget(ctx context.Context, s *session, srcs []string, dst string) (func(src string) string, error) {
	into := len(srcs) > 1 || strings.HasSuffix(dst, "/")
	dst = strings.TrimSuffix(dst, "/")
	if dst == "" {
		dst = "/"
	}
	if !into {
		e, err := s.Stat(ctx, dst)
		switch {
		case err == nil:
			into = e.IsDir()
		case !errors.Is(err, client.ErrNotFound):
			return nil, err
		}
	} else if e, err := s.Stat(ctx, dst); err != nil {
		return nil, err
	} else if !e.IsDir() {
		return nil, fmt.Errorf("%s: %w", dst, client.ErrNotDir)
	}
	return func(src string) string {
		if into {
			return path.Join(dst, path.Base(src))
		}
		return dst
	}, nil
}

func (a *app) mvCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "mv SOURCE... DEST",
		Short: "Move or rename files and folders",
		Long: `Move or rename. With several sources, or when DEST is a folder, the sources
go into it. An existing file at the destination is only replaced with --force,
and then goes to the trash.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.moveOrCopy(cmd.Context(), args, func(s *session, from, to string) (api.Entry, error) {
				return s.Move(cmd.Context(), from, to, force)
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "replace an existing file (it goes to the trash)")
	return cmd
}

func (a *app) cpCmd() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "cp SOURCE... DEST",
		Short: "Copy files and folders on the server",
		Long: `Copy on the server: no content is transferred or re-encrypted, so a copy of
any size is instant. Copying onto an existing file makes a new version of it.
Folders need -r.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return a.moveOrCopy(ctx, args, func(s *session, from, to string) (api.Entry, error) {
				if !recursive {
					e, err := s.Stat(ctx, from)
					if err != nil {
						return api.Entry{}, err
					}
					if e.IsDir() {
						return api.Entry{}, usagef("%s is a folder: use -r to copy it with its content", from)
					}
				}
				return s.Copy(ctx, from, to)
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy folders with their content")
	return cmd
}

func (a *app) moveOrCopy(ctx context.Context, args []string, op func(s *session, from, to string) (api.Entry, error)) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	paths := make([]string, len(args))
	for i, arg := range args {
		if paths[i], err = s.remote(ctx, arg); err != nil {
			return err
		}
	}
	if strings.HasSuffix(args[len(args)-1], "/") {
		paths[len(paths)-1] += "/"
	}
	srcs, dst := paths[:len(paths)-1], paths[len(paths)-1]
	target, err := a.intoTarget(ctx, s, srcs, dst)
	if err != nil {
		return err
	}
	for _, src := range srcs {
		e, err := op(s, src, target(src))
		if err != nil {
			return err
		}
		if a.jsonOut {
			if err := a.printJSON(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *app) rmCmd() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm PATH...",
		Short: "Move files and folders to the trash",
		Long:  "Move files and folders to the trash, from where 'strata trash restore' brings them back.",
		Args:  cobra.MinimumNArgs(1),
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "delete folders with their content")
	return a.storeCmd(cmd, func(ctx context.Context, s *session, args []string) error {
		return a.eachPath(ctx, s, args, func(p string) (any, error) {
			t, err := s.Delete(ctx, p, recursive)
			if errors.Is(err, client.ErrNotEmpty) {
				return nil, fmt.Errorf("%w (use -r to delete a folder with its content)", err)
			}
			if err == nil && !a.jsonOut && !a.quiet {
				fmt.Fprintf(a.env.Stderr, "%s moved to the trash (id %s)\n", t.Path, t.ID)
			}
			return t, err
		})
	})
}
