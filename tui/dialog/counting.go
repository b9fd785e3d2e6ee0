package dialog

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/treecount"
)

// CountedMsg delivers the progress and the end of a count started by
// CountTreeCmd or CountLocalCmd, for the dialog of the same ID. Until it is
// Done, the parent passes it to the dialog, whose Update returns Next.
type CountedMsg struct {
	ID string
	background.Update[treecount.Total]
}

// Counted is the CountedMsg of a count that ended with t (or err).
func Counted(id string, t treecount.Total, err error) CountedMsg {
	return CountedMsg{ID: id, Update: background.Update[treecount.Total]{Value: t, Done: true, Err: err}}
}

// CountTreeCmd counts the remote paths off the UI, delivering CountedMsgs
// with id. Cancel ctx when the dialog that waits for it closes.
func CountTreeCmd(ctx context.Context, r remote.Remote, id string, paths []string) tea.Cmd {
	paths = append([]string(nil), paths...)
	return countCmd(ctx, id, func(ctx context.Context, report func(treecount.Total)) (treecount.Total, error) {
		return treecount.Remote(ctx, r, paths, report)
	})
}

// CountLocalCmd counts the local paths off the UI, delivering CountedMsgs
// with id.
func CountLocalCmd(ctx context.Context, id string, paths []string) tea.Cmd {
	paths = append([]string(nil), paths...)
	return countCmd(ctx, id, func(ctx context.Context, report func(treecount.Total)) (treecount.Total, error) {
		return treecount.Local(ctx, paths, report)
	})
}

func countCmd(ctx context.Context, id string, count func(context.Context, func(treecount.Total)) (treecount.Total, error)) tea.Cmd {
	return background.Start(ctx, count, func(u background.Update[treecount.Total]) tea.Msg {
		return CountedMsg{ID: id, Update: u}
	})
}

// NewCountingConfirm opens a confirmation that states a count of what it
// is about: question words it with c nil while the count is pending, then
// with each CountedMsg of the same id passed to Update. Until the count is
// done the dialog is busy ("Counting…", only No possible); start the
// count (CountTreeCmd, CountLocalCmd) with the same id.
func NewCountingConfirm(st *style.Styles, id, title string, question func(c *CountedMsg) string) Model {
	m := NewConfirm(st, id, title, question(nil))
	m.counting = question
	m.SetBusy(true)
	return m
}

// Counting makes m (a Choice) word its question by a count, as
// NewCountingConfirm does: question(nil) now, then question(c) with each
// CountedMsg of m's id; m is busy (only cancel possible) until the count
// is done.
func (m *Model) Counting(question func(c *CountedMsg) string) {
	m.question = question(nil)
	m.counting = question
	m.SetBusy(true)
}

// NewTrashConfirm opens the delete confirmation for folders folders and
// files files in its counting state: the question then states the count
// and Yes becomes possible (see NewCountingConfirm).
func NewTrashConfirm(st *style.Styles, id string, folders, files int) Model {
	return NewCountingConfirm(st, id, "Move to the trash", func(c *CountedMsg) string {
		return TrashQuestion(folders, files, c)
	})
}

// CountText says where a count stands, for a question: "Counting…" before
// the first report, "Counting… 1,204 files, 3.2 GiB so far" while it runs,
// "Could not count them: …" when it failed, and the total once done.
func CountText(c *CountedMsg) string {
	switch {
	case c == nil:
		return "Counting…"
	case c.Err != nil:
		return "Could not count them: " + c.Err.Error()
	case !c.Done:
		return fmt.Sprintf("Counting… %s, %s so far", human.Plural(c.Value.Files, "file", "files"), human.Bytes(c.Value.Bytes))
	}
	return c.Value.String()
}

// Selection words a selection of folders and files: "3 folders and 2
// files", "1 folder", "2 files".
func Selection(folders, files int) string {
	switch {
	case folders > 0 && files > 0:
		return human.Plural(folders, "folder", "folders") + " and " + human.Plural(files, "file", "files")
	case folders > 0:
		return human.Plural(folders, "folder", "folders")
	}
	return human.Plural(files, "file", "files")
}

// TrashQuestion words the delete confirmation: with c nil, "Move 3 folders
// and 2 files to the trash?" and "Counting…"; with a count, "Move 3
// folders and 2 files (1,204 files in all, 3.2 GiB) to the trash?", or for
// files alone "Move 2 files (3.2 GiB) to the trash?"; when the count
// failed, the question and why it has no count.
func TrashQuestion(folders, files int, c *CountedMsg) string {
	what := Selection(folders, files)
	switch {
	case c == nil || c.Err != nil || !c.Done:
		return "Move " + what + " to the trash?\n\n" + CountText(c)
	case files == 0 && c.Value.Files == 0:
		return "Move " + what + " (empty) to the trash?"
	case folders == 0:
		// Files only: the count says nothing the selection did not, but
		// the size is news.
		return fmt.Sprintf("Move %s (%s) to the trash?", what, human.Bytes(c.Value.Bytes))
	}
	return fmt.Sprintf("Move %s (%s in all, %s) to the trash?", what, human.Plural(c.Value.Files, "file", "files"), human.Bytes(c.Value.Bytes))
}
