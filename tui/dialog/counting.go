package dialog

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// CountedMsg delivers a count started by CountTreeCmd or CountLocalCmd.
// Files and Bytes are what was counted before an error, if any.
type CountedMsg struct {
	ID    string
	Files int
	Bytes int64
	Err   error
}

// CountPageSize is how many entries CountTree asks for per List call:
// the most it ever holds at once, however big a folder is.
const CountPageSize = 1000

// CountTree counts the files under the remote paths (a file counts
// itself) and their bytes, walking folders one page at a time. Folders
// are not counted as files.
func CountTree(ctx context.Context, r remote.Remote, paths []string) (files int, bytes int64, err error) {
	var pending []string // folders still to list: only their paths are kept
	for _, p := range paths {
		e, err := r.Stat(ctx, p)
		if err != nil {
			return files, bytes, fmt.Errorf("count %s: %w", p, err)
		}
		if e.IsDir() {
			pending = append(pending, p)
			continue
		}
		files++
		bytes += e.Size
	}
	for len(pending) > 0 {
		dir := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		cursor := ""
		for {
			if err := ctx.Err(); err != nil {
				return files, bytes, fmt.Errorf("count %s: %w", dir, err)
			}
			pg, err := r.List(ctx, dir, cursor, CountPageSize)
			if err != nil {
				return files, bytes, fmt.Errorf("count %s: %w", dir, err)
			}
			for _, e := range pg.Entries {
				if e.IsDir() {
					p := e.Path
					if p == "" {
						p = path.Join(dir, e.Name)
					}
					pending = append(pending, p)
					continue
				}
				files++
				bytes += e.Size
			}
			if pg.Cursor == "" {
				break
			}
			cursor = pg.Cursor
		}
	}
	return files, bytes, nil
}

// CountLocal counts the files under the local paths (a file counts
// itself) and the bytes of the regular ones. Symbolic links are counted as
// files and never followed, so a link cannot make the count loop or leave
// the tree.
func CountLocal(ctx context.Context, paths []string) (files int, bytes int64, err error) {
	for _, p := range paths {
		err := filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			files++
			if d.Type().IsRegular() {
				info, err := d.Info()
				if err != nil {
					return err
				}
				bytes += info.Size()
			}
			return nil
		})
		if err != nil {
			return files, bytes, fmt.Errorf("count %s: %w", p, err)
		}
	}
	return files, bytes, nil
}

// CountTreeCmd runs CountTree off the UI and delivers a CountedMsg with
// id. Cancel ctx when the dialog that waits for it closes.
func CountTreeCmd(ctx context.Context, r remote.Remote, id string, paths []string) tea.Cmd {
	paths = append([]string(nil), paths...)
	return func() tea.Msg {
		files, bytes, err := CountTree(ctx, r, paths)
		return CountedMsg{ID: id, Files: files, Bytes: bytes, Err: err}
	}
}

// CountLocalCmd runs CountLocal off the UI and delivers a CountedMsg with
// id.
func CountLocalCmd(ctx context.Context, id string, paths []string) tea.Cmd {
	paths = append([]string(nil), paths...)
	return func() tea.Msg {
		files, bytes, err := CountLocal(ctx, paths)
		return CountedMsg{ID: id, Files: files, Bytes: bytes, Err: err}
	}
}

// NewTrashConfirm opens the delete confirmation for folders folders and
// files files in its counting state ("Counting…", only No possible). Start
// CountTreeCmd with the same id and pass its CountedMsg to Update: the
// question then states the count and Yes becomes possible.
func NewTrashConfirm(st *style.Styles, id string, folders, files int) Model {
	m := NewConfirm(st, id, "Move to the trash", TrashQuestion(folders, files, nil))
	m.trash = &trashCount{folders: folders, files: files}
	m.SetBusy(true)
	return m
}

// TrashQuestion words the delete confirmation: with c nil, "Move 3 folders
// and 2 files to the trash?" and "Counting…"; with a count, "Move 3 folders
// and 2 files (1,204 files in all, 3.2 GiB) to the trash?", or for files
// alone "Move 2 files (3.2 GiB) to the trash?"; when the count
// failed, the question and why it has no count.
func TrashQuestion(folders, files int, c *CountedMsg) string {
	var what string
	switch {
	case folders > 0 && files > 0:
		what = human.Plural(folders, "folder", "folders") + " and " + human.Plural(files, "file", "files")
	case folders > 0:
		what = human.Plural(folders, "folder", "folders")
	default:
		what = human.Plural(files, "file", "files")
	}
	switch {
	case c == nil:
		return "Move " + what + " to the trash?\n\nCounting…"
	case c.Err != nil:
		return "Move " + what + " to the trash?\n\nCould not count them: " + c.Err.Error()
	}
	if files == 0 && c.Files == 0 {
		return "Move " + what + " (empty) to the trash?"
	}
	if folders == 0 {
		// Files only: the count says nothing the selection did not,
		// but the size is news.
		return fmt.Sprintf("Move %s (%s) to the trash?", what, human.Bytes(c.Bytes))
	}
	return fmt.Sprintf("Move %s (%s in all, %s) to the trash?", what, human.Plural(c.Files, "file", "files"), human.Bytes(c.Bytes))
}
