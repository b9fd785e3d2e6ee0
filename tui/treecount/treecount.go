// Package treecount counts what folder trees hold — files, folders and
// bytes — on the Strata server or on the local disk, reporting as it goes,
// for the questions that state what they are about ("Move 3 folders
// (1,204 files, 3.2 GiB) to the trash?") and for the info panel. A count
// holds one page of a folder at a time, however big the tree, and ends
// when its context does.
package treecount

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/remote"
)

// Total is what a count found under its roots. A root that is a file
// counts as a file; the roots themselves are not counted as folders.
type Total struct {
	Files   int
	Folders int
	Bytes   int64
	// Unreadable counts the folders below a root that could not be
	// listed (no permission, removed meanwhile): what they hold is not
	// in the total.
	Unreadable int
	// Remote files by where their content stands, for archive and restore
	// estimates: in the hot tier (Hot), and archived in a class that must
	// be restored before it is read (Glacier, DeepArchive). Files being
	// restored, restored or in glacier-ir are in none of them.
	Hot, Glacier, DeepArchive Tally
}

// Tally is some files and their bytes.
type Tally struct {
	Files int
	Bytes int64
}

// tally counts a remote file's content where it stands.
func (t *Total) tally(e remote.Entry) {
	var to *Tally
	switch {
	case e.State == "" || e.State == remote.StateHot:
		to = &t.Hot
	case e.State != remote.StateArchived || e.Archive == nil:
		return
	case e.Archive.Class == "glacier":
		to = &t.Glacier
	case e.Archive.Class == "deep-archive":
		to = &t.DeepArchive
	default:
		return
	}
	to.Files++
	to.Bytes += e.Size
}

// String says what a total holds: "1,204 files in 37 folders, 3.2 GiB".
func (t Total) String() string {
	s := human.Plural(t.Files, "file", "files")
	if t.Folders > 0 {
		s += " in " + human.Plural(t.Folders, "folder", "folders")
	}
	s += ", " + human.Bytes(t.Bytes)
	if t.Unreadable > 0 {
		s += " (" + human.Plural(t.Unreadable, "folder", "folders") + " could not be read)"
	}
	return s
}

// PageSize is how many entries Remote asks for per List call: the most it
// holds at once.
const PageSize = 1000

// reportEvery is how many local entries pass between two reports.
const reportEvery = 1000

// Remote counts the trees at the remote paths, walking folders one page at
// a time and reporting after each page (report may be nil). A failure to
// read a root, or the server going away, ends the count with an error and
// what was counted so far.
func Remote(ctx context.Context, r remote.Remote, paths []string, report func(Total)) (Total, error) {
	var t Total
	type folder struct {
		path string
		root bool // a root must be read; a folder below one may fail alone
	}
	var pending []folder // folders still to list: only their paths are kept
	for _, p := range paths {
		e, err := r.Stat(ctx, p)
		if err != nil {
			return t, fmt.Errorf("count %s: %w", p, err)
		}
		if e.IsDir() {
			pending = append(pending, folder{p, true})
			continue
		}
		t.Files++
		t.Bytes += e.Size
		t.tally(e)
	}
	for len(pending) > 0 {
		f := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		dir := f.path
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				return t, fmt.Errorf("count %s: %w", dir, err)
			}
			pg, err := r.List(ctx, dir, cursor, PageSize)
			if err != nil {
				if !f.root && cursor == "" && (errors.Is(err, remote.ErrNotFound) || errors.Is(err, remote.ErrForbidden)) {
					t.Unreadable++
					break
				}
				return t, fmt.Errorf("count %s: %w", dir, err)
			}
			for _, e := range pg.Entries {
				if e.IsDir() {
					p := e.Path
					if p == "" {
						p = path.Join(dir, e.Name)
					}
					pending = append(pending, folder{p, false})
					t.Folders++
					continue
				}
				t.Files++
				t.Bytes += e.Size
				t.tally(e)
			}
			if report != nil {
				report(t)
			}
			if pg.Cursor == "" {
				break
			}
			cursor = pg.Cursor
		}
	}
	return t, nil
}

// Local counts the trees at the local paths, reporting every thousand
// entries (report may be nil). Symbolic links count as files and are never
// followed, so a link cannot make the count loop or leave the tree; only
// regular files add bytes. A root that cannot be read ends the count with
// an error; a folder below one is counted as Unreadable.
func Local(ctx context.Context, paths []string, report func(Total)) (Total, error) {
	var t Total
	seen := 0
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				t.Unreadable++
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if seen++; report != nil && seen%reportEvery == 0 {
				report(t)
			}
			if d.IsDir() {
				if p != root {
					t.Folders++
				}
				return nil
			}
			t.Files++
			if d.Type().IsRegular() {
				info, err := d.Info()
				if err != nil {
					return nil // gone since the listing
				}
				t.Bytes += info.Size()
			}
			return nil
		})
		if err != nil {
			return t, fmt.Errorf("count %s: %w", root, err)
		}
	}
	return t, nil
}
