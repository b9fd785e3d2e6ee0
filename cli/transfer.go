package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/internal/localtree"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

type transferOpts struct {
	recursive bool
	jobs      int
	partSize  int64
	version   int64
}

func (a *app) putCmd() *cobra.Command {
	var o transferOpts
	cmd := &cobra.Command{
		Use:   "put LOCAL... REMOTE",
		Short: "Upload files and folders",
		Long: `Upload local files (and folders, with -r) to the server.

With one file, REMOTE is the file's new path, or a folder to put it in
(an existing folder, or a path ending in /). With several sources or a folder,
REMOTE is a folder. LOCAL "-" reads standard input.

Big files go up in parts, several at a time; an interrupted upload of the
same file resumes where it stopped when you run the command again. Every
file's SHA-256 is checked by the server before it is committed.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.put(cmd.Context(), args[:len(args)-1], args[len(args)-1], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "upload folders with their content")
	f.IntVarP(&o.jobs, "jobs", "j", 4, "files (and parts of a big file) in flight at once")
	f.Int64Var(&o.partSize, "part-size", 0, "part size in bytes for big files (default: the server's)")
	return cmd
}

// isDir reports whether p is an existing folder.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// upJob is one file to upload.
type upJob struct {
	local  string
	remote string
	info   fs.FileInfo
}

func (a *app) put(ctx context.Context, srcs []string, dst string, o transferOpts) error {
	if o.jobs < 1 || o.jobs > 64 {
		return usagef("--jobs must be 1 to 64")
	}
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	rdst, err := s.remote(ctx, dst)
	if err != nil {
		return err
	}
	if len(srcs) == 1 && srcs[0] == "-" {
		return a.putStdin(ctx, s, rdst)
	}
	// Where do things go? Into REMOTE if it is (or must be) a folder.
	into := len(srcs) > 1 || strings.HasSuffix(dst, "/")
	dstEntry, err := s.Stat(ctx, rdst)
	switch {
	case err == nil:
		into = into || dstEntry.IsDir()
		if into && !dstEntry.IsDir() {
			return fmt.Errorf("%s: %w", rdst, client.ErrNotDir)
		}
	case errors.Is(err, client.ErrNotFound):
		if into {
			if _, err := s.Mkdir(ctx, rdst, true); err != nil {
				return err
			}
		}
	default:
		return err
	}
	var roots []upJob
	for _, src := range srcs {
		e, err := localtree.Stat(src)
		if errors.Is(err, fs.ErrNotExist) {
			return &localNotFound{src + ": no such file or folder"}
		}
		if err != nil {
			return err
		}
		if errors.Is(e.Skip, localtree.ErrBrokenLink) {
			return &localNotFound{src + ": " + e.Skip.Error()}
		}
		if e.Skip != nil {
			return fmt.Errorf("%s: %w", src, e.Skip)
		}
		if e.IsDir() && !o.recursive {
			return usagef("%s is a folder: use -r to upload it with its content", src)
		}
		target := rdst
		if into {
			target = path.Join(rdst, filepath.Base(filepath.Clean(src)))
		}
		roots = append(roots, upJob{local: src, remote: target, info: e.Info})
	}

	prog := a.newProgress("↑")
	defer prog.finish()
	// Count first (stat only) so the progress has totals; nothing is held.
	for _, r := range roots {
		if err := walkLocal(r, func(j upJob) error {
			if !j.info.IsDir() {
				prog.addFile(j.info.Size())
			}
			return nil
		}, nil); err != nil {
			return err
		}
	}

	jobs := make(chan upJob)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for range o.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				prog.setCurrent(j.remote)
				e, err := a.uploadOne(ctx, s, j, o, prog)
				if err != nil {
					fail(about(j.local, err))
					continue
				}
				prog.fileDone(j.remote)
				if a.jsonOut {
					mu.Lock()
					_ = a.printJSON(e)
					mu.Unlock()
				}
			}
		}()
	}
	skipped := 0
	walkErr := func() error {
		for _, r := range roots {
			err := walkLocal(r, func(j upJob) error {
				if j.info.IsDir() {
					_, err := s.Mkdir(ctx, j.remote, true)
					return err
				}
				select {
				case jobs <- j:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}, func(local string, why error) {
				skipped++
				prog.warn(func() { a.warnSkipped(local, why) })
			})
			if err != nil {
				return err
			}
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if skipped > 0 && !a.jsonOut {
		prog.warn(func() {
			fmt.Fprintf(a.env.Stderr, "strata: skipped %s (listed above)\n", human.Plural(skipped, "item", "items"))
		})
	}
	if walkErr != nil {
		errs = append([]error{walkErr}, errs...)
	}
	return reportErrors(a, errs)
}

// warnSkipped reports a local entry an upload leaves out, on stderr: a
// line, or with --json an object {"warning": {"code": "skipped", ...}}.
func (a *app) warnSkipped(local string, why error) {
	if !a.jsonOut {
		fmt.Fprintf(a.env.Stderr, "strata: skipping %s: %v\n", local, why)
		return
	}
	var w struct {
		Warning struct {
			Code    string `json:"code"`
			Path    string `json:"path"`
			Message string `json:"message"`
		} `json:"warning"`
	}
	w.Warning.Code, w.Warning.Path, w.Warning.Message = "skipped", local, why.Error()
	b, _ := json.Marshal(w)
	fmt.Fprintf(a.env.Stderr, "%s\n", b)
}

// reportErrors prints every error but the first and returns the first, so
// the exit code reflects it.
func reportErrors(a *app, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[1:] {
		a.printError(nil, e)
	}
	if len(errs) > 1 {
		return fmt.Errorf("%w (and %d more errors)", errs[0], len(errs)-1)
	}
	return errs[0]
}

// walkLocal visits root and, for a folder, everything under it, in lexical
// order, streaming (nothing is collected), by localtree's rule: links are
// followed, cycles, broken links and special files are skipped and passed
// to skip (when not nil).
func walkLocal(root upJob, fn func(upJob) error, skip func(local string, why error)) error {
	return localtree.Walk(root.local, func(rel string, e localtree.Entry) error {
		if e.Skip != nil {
			if skip != nil {
				skip(e.Path, e.Skip)
			}
			return nil
		}
		remote := root.remote
		if rel != "." {
			remote = path.Join(root.remote, filepath.ToSlash(rel))
		}
		return fn(upJob{local: e.Path, remote: remote, info: e.Info})
	})
}

func (a *app) uploadOne(ctx context.Context, s *session, j upJob, o transferOpts, prog *progress) (api.Entry, error) {
	return s.PutFile(ctx, j.local, j.remote, client.FileOptions{
		PartSize: o.partSize, Concurrency: o.jobs, Progress: prog.add,
		OnSession: func(u api.Upload, resumed bool) {
			if resumed && !a.quiet {
				fmt.Fprintf(a.env.Stderr, "strata: resuming the upload of %s (%d parts)\n", j.local, u.Parts)
			}
		},
	})
}

func (a *app) putStdin(ctx context.Context, s *session, dst string) error {
	if e, err := s.Stat(ctx, dst); err == nil && e.IsDir() {
		return usagef("%s is a folder: give the path of the file to write", dst)
	}
	prog := a.newProgress("↑")
	prog.addFile(0)
	e, err := s.Put(ctx, dst, a.env.Stdin, -1, client.PutOptions{Progress: prog.add})
	prog.fileDone(dst)
	prog.finish()
	if err != nil {
		return err
	}
	if a.jsonOut {
		return a.printJSON(e)
	}
	return nil
}

func (a *app) getCmd() *cobra.Command {
	var o transferOpts
	cmd := &cobra.Command{
		Use:   "get REMOTE... LOCAL",
		Short: "Download files and folders",
		Long: `Download files (and folders, with -r) from the server.

With one file, LOCAL is the file to write, or a folder to put it in. With
several sources or a folder, LOCAL is a folder. LOCAL "-" writes the file to
standard output.

Every file's SHA-256 is verified before it is put in place; until then it is
written next to its destination as a hidden ` + client.PartialSuffix + ` file, from which an
interrupted download resumes when you run the command again.`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.get(cmd.Context(), args[:len(args)-1], args[len(args)-1], o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "download folders with their content")
	f.IntVarP(&o.jobs, "jobs", "j", 4, "files in flight at once")
	f.Int64Var(&o.version, "version", 0, "download this version of a file instead of the current one")
	return cmd
}

type downJob struct {
	remote string
	local  string
	size   int64
}

func (a *app) get(ctx context.Context, srcs []string, dst string, o transferOpts) error {
	if o.jobs < 1 || o.jobs > 64 {
		return usagef("--jobs must be 1 to 64")
	}
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	if dst == "-" {
		if len(srcs) != 1 {
			return usagef("only one file can be written to standard output")
		}
		cat := a.catCmd()
		cat.SetContext(ctx)
		if o.version > 0 {
			_ = cat.Flags().Set("version", strconv.FormatInt(o.version, 10))
		}
		return cat.RunE(cat, srcs)
	}
	into := len(srcs) > 1 || strings.HasSuffix(dst, string(os.PathSeparator))
	if info, err := os.Stat(dst); err == nil {
		into = into || info.IsDir()
		if into && !info.IsDir() {
			return fmt.Errorf("%s exists and is not a folder", dst)
		}
	} else if into {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else if dir := filepath.Dir(dst); !isDir(dir) {
		// Said before anything is fetched, rather than as a failure to
		// create the partial file there.
		return &localNotFound{dir + ": no such local folder"}
	}
	type root struct {
		entry api.Entry
		local string
	}
	var roots []root
	for _, src := range srcs {
		p, err := s.remote(ctx, src)
		if err != nil {
			return err
		}
		e, err := s.Stat(ctx, p)
		if err != nil {
			return err
		}
		if e.IsDir() && !o.recursive {
			return usagef("%s is a folder: use -r to download it with its content", p)
		}
		local := dst
		if into {
			if !filepath.IsLocal(e.Name) {
				return fmt.Errorf("refusing the remote name %q as a local file name", e.Name)
			}
			local = filepath.Join(dst, e.Name)
		}
		roots = append(roots, root{entry: e, local: local})
	}

	prog := a.newProgress("↓")
	defer prog.finish()
	jobs := make(chan downJob)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range o.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				prog.setCurrent(j.remote)
				e, err := s.DownloadFile(ctx, j.remote, j.local, client.DownloadOptions{Version: o.version, Progress: prog.add})
				mu.Lock()
				if err != nil {
					errs = append(errs, about(j.remote, err))
				} else if a.jsonOut {
					_ = a.printJSON(e)
				}
				mu.Unlock()
				if err == nil {
					prog.fileDone(j.remote)
				}
			}
		}()
	}
	send := func(j downJob) error {
		prog.addFile(j.size)
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var walk func(remote, local string) error
	walk = func(remote, local string) error {
		if err := os.MkdirAll(local, 0o755); err != nil {
			return err
		}
		return s.Walk(ctx, remote, func(e api.Entry) error {
			if !filepath.IsLocal(e.Name) {
				return fmt.Errorf("refusing the remote name %q as a local file name", e.Name)
			}
			l := filepath.Join(local, e.Name)
			if e.IsDir() {
				return walk(e.Path, l)
			}
			return send(downJob{remote: e.Path, local: l, size: e.Size})
		})
	}
	walkErr := func() error {
		for _, r := range roots {
			var err error
			if r.entry.IsDir() {
				err = walk(r.entry.Path, r.local)
			} else {
				err = send(downJob{remote: r.entry.Path, local: r.local, size: r.entry.Size})
			}
			if err != nil {
				return err
			}
		}
		return nil
	}()
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		errs = append([]error{walkErr}, errs...)
	}
	return reportErrors(a, errs)
}
