// Package sources holds the two filelist.Sources of the file manager: the
// local file system and a Strata server (through remote.Remote).
package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/strata-storage/strata/tui/filelist"
)

// maxSnapshots bounds the folders whose names a Local source keeps.
const maxSnapshots = 8

// local serves folders of the local disk from a snapshot of their names
// taken at each first page, so the pages of one listing agree with each
// other and a page costs one Lstat per entry it returns, not a re-read.
type local struct {
	root string
	mu   sync.Mutex
	snap map[string][]string // folder -> sorted names
}

// Local is the local file system under root (usually "/"); the cursor of a
// page is the last name it returned. Symbolic links are shown as what they
// point to, so a link to a folder opens as a folder (it is the user's own
// disk: no confinement). Hidden files are the names starting with '.', the
// list's rule.
func Local(root string) filelist.Source {
	if root == "" {
		root = string(filepath.Separator)
	}
	return &local{root: filepath.Clean(root), snap: map[string][]string{}}
}

// Title implements filelist.Source.
func (l *local) Title() string { return "Local" }

// Root implements filelist.Source.
func (l *local) Root() string { return l.root }

// Join implements filelist.Source.
func (l *local) Join(dir, name string) string { return filepath.Join(dir, name) }

// Parent implements filelist.Source; it stops at the root.
func (l *local) Parent(dir string) string {
	d := filepath.Clean(dir)
	if d == l.root {
		return l.root
	}
	return filepath.Dir(d)
}

// Page implements filelist.Source.
func (l *local) Page(ctx context.Context, dir, cursor string, limit int) (filelist.PageResult, error) {
	if err := ctx.Err(); err != nil {
		return filelist.PageResult{}, err
	}
	if limit <= 0 {
		limit = filelist.PageSize
	}
	names, err := l.names(dir, cursor == "")
	if err != nil {
		return filelist.PageResult{}, err
	}
	i := sort.SearchStrings(names, cursor)
	if cursor != "" && i < len(names) && names[i] == cursor {
		i++
	}
	end := min(i+limit, len(names))
	res := filelist.PageResult{Items: make([]filelist.Item, 0, end-i)}
	for _, name := range names[i:end] {
		if err := ctx.Err(); err != nil {
			return filelist.PageResult{}, err
		}
		if it, ok := stat(filepath.Join(dir, name), name); ok {
			res.Items = append(res.Items, it)
		}
	}
	if end < len(names) {
		res.Cursor = names[end-1]
	}
	return res, nil
}

// stat describes one entry; false if it vanished since the names were read.
func stat(p, name string) (filelist.Item, bool) {
	it := filelist.Item{Name: name, Path: p}
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return it, false
	}
	if err != nil {
		// Listed but not examinable (a folder readable but not
		// searchable): still show the name.
		return it, true
	}
	it.Dir, it.Size, it.ModTime = fi.IsDir(), fi.Size(), fi.ModTime()
	if fi.Mode()&fs.ModeSymlink != 0 {
		// Shown as its target (a link's own size is the length of the
		// target's path: of no use); a broken link as itself.
		if t, err := os.Stat(p); err == nil {
			it.Dir, it.Size, it.ModTime = t.IsDir(), t.Size(), t.ModTime()
		}
	}
	if it.Dir {
		it.Size = 0
	}
	return it, true
}

// names returns dir's sorted names: read afresh for a first page (or if
// the snapshot is gone), from the snapshot otherwise.
func (l *local) names(dir string, fresh bool) ([]string, error) {
	key := filepath.Clean(dir)
	if !fresh {
		l.mu.Lock()
		names, ok := l.snap[key]
		l.mu.Unlock()
		if ok {
			return names, nil
		}
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	sort.Strings(names)
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.snap[key]; !ok && len(l.snap) >= maxSnapshots {
		for k := range l.snap {
			delete(l.snap, k)
			break
		}
	}
	l.snap[key] = names
	return names, nil
}
