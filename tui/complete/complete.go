// Package complete completes folder names in a path typed into a prompt,
// on the local disk or on Strata, as a shell's Tab does.
package complete

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
)

// Limit is the most candidates a completion lists: beyond it, the user
// types more of the name.
const Limit = 64

// Folders lists the names of the folders in dir that start with prefix,
// up to limit of them in name order, and whether there were more.
type Folders func(ctx context.Context, dir, prefix string, limit int) (names []string, more bool, err error)

// Tree is where a typed path is completed.
type Tree struct {
	// Sep separates the names of a path as the user types it.
	Sep string
	// Resolve turns what the user typed for a folder (relative, "~", ...)
	// into the folder's path.
	Resolve func(typed string) string
	// Folders lists a folder's subfolders.
	Folders Folders
}

// Result is a completion: Value replaces what was typed; Candidates are
// the names it could continue with when there is more than one.
type Result struct {
	Value      string
	Candidates []string
	More       bool
}

// NoMatchError says no folder continues what was typed.
type NoMatchError struct{ Dir, Prefix string }

func (e *NoMatchError) Error() string {
	return fmt.Sprintf("no folder in %s starts with “%s”", e.Dir, e.Prefix)
}

// Path completes the last name of typed: to the one folder that matches
// (with a separator after it, ready for the next name), or to the longest
// prefix all matches share, listing them. Dot folders are offered only
// when the name typed starts with a dot, as shells do.
func (t Tree) Path(ctx context.Context, typed string) (Result, error) {
	dirPart, base := "", typed
	if i := strings.LastIndex(typed, t.Sep); i >= 0 {
		dirPart, base = typed[:i+len(t.Sep)], typed[i+len(t.Sep):]
	}
	dir := t.Resolve(dirPart)
	names, more, err := t.Folders(ctx, dir, base, Limit)
	if err != nil {
		return Result{}, err
	}
	if !strings.HasPrefix(base, ".") {
		names = slicesDeleteHidden(names)
	}
	switch len(names) {
	case 0:
		if base == "" {
			return Result{}, fmt.Errorf("%s holds no folders", dir)
		}
		return Result{}, &NoMatchError{Dir: dir, Prefix: base}
	case 1:
		if !more {
			return Result{Value: dirPart + names[0] + t.Sep}, nil
		}
	}
	return Result{Value: dirPart + commonPrefix(names), Candidates: names, More: more}, nil
}

func slicesDeleteHidden(names []string) []string {
	out := names[:0]
	for _, n := range names {
		if !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out
}

// commonPrefix is the longest prefix of every name, cut on a rune
// boundary.
func commonPrefix(names []string) string {
	p := names[0]
	for _, n := range names[1:] {
		i := 0
		for i < len(p) && i < len(n) && p[i] == n[i] {
			i++
		}
		p = p[:i]
	}
	return strings.ToValidUTF8(p, "")
}

// Remote lists folders of a Strata server, asking it for the names with
// the prefix only, so that completing in a folder of 100,000 entries
// reads one page. Files are skipped, so it reads on while a page held
// files only, within a few pages.
func Remote(r remote.Remote) Folders {
	return func(ctx context.Context, dir, prefix string, limit int) ([]string, bool, error) {
		var names []string
		cursor := ""
		for pages := 0; pages < 8; pages++ {
			pg, err := r.ListPrefix(ctx, dir, prefix, cursor, 1000)
			if err != nil {
				return nil, false, fmt.Errorf("list %s: %w", dir, err)
			}
			for _, e := range pg.Entries {
				if !e.IsDir() {
					continue
				}
				if len(names) == limit {
					return names, true, nil
				}
				names = append(names, e.Name)
			}
			if pg.Cursor == "" {
				return names, false, nil
			}
			cursor = pg.Cursor
		}
		return names, true, nil
	}
}

// Local lists folders on this computer (links to folders count as
// folders), reading the folder in batches so a huge one is not held
// whole.
func Local(ctx context.Context, dir, prefix string, limit int) ([]string, bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var names []string
	more := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		batch, err := f.ReadDir(512)
		for _, e := range batch {
			if !strings.HasPrefix(e.Name(), prefix) || !isDir(filepath.Join(dir, e.Name()), e) {
				continue
			}
			names = append(names, e.Name())
		}
		if errors.Is(err, io.EOF) || (err == nil && len(batch) == 0) {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	sort.Strings(names)
	if len(names) > limit {
		names, more = names[:limit], true
	}
	return names, more, nil
}

func isDir(p string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// LocalTree is this computer's file system, with paths typed as a shell's
// cd reads them: relative to dir unless absolute, "~" for the home folder.
func LocalTree(dir string) Tree {
	return Tree{Sep: string(filepath.Separator), Folders: Local, Resolve: func(s string) string {
		if s == "~" || strings.HasPrefix(s, "~"+string(filepath.Separator)) {
			if home, err := os.UserHomeDir(); err == nil {
				s = filepath.Join(home, s[1:])
			}
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(dir, s)
		}
		return filepath.Clean(s)
	}}
}

// RemoteTree is the Strata server behind r, with paths typed relative to
// dir unless absolute, and cleaned, so that "//photos" or "/a/../b" still
// go somewhere (the server refuses such paths as they are).
func RemoteTree(r remote.Remote, dir string) Tree {
	return Tree{Sep: "/", Folders: Remote(r), Resolve: func(s string) string {
		if !strings.HasPrefix(s, "/") {
			s = path.Join(dir, s)
		}
		return path.Clean(s)
	}}
}

// Cmd is the completion function of a dialog.NewPathInput with the given
// id: it completes in t, off the UI.
func (t Tree) Cmd(ctx context.Context, id string) func(value string) tea.Cmd {
	return func(value string) tea.Cmd {
		return func() tea.Msg {
			res, err := t.Path(ctx, value)
			return dialog.CompletedMsg{ID: id, For: value, Value: res.Value, Candidates: res.Candidates, More: res.More, Err: err}
		}
	}
}
