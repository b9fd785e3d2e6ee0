package trashview

import (
	"context"
	"fmt"
	"path"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/complete"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/treecount"
)

// Dialog IDs of the actions on several entries.
const (
	purgeManyDialog     = "trash.purge-many"
	restoreManyToDialog = "trash.restore-many-to"
)

// batchState is how far an action on several entries went: the entries
// it did, and those it could not (with why).
type batchState struct {
	restore bool // restoring (or else deleting for good)
	total   int
	done    []remote.TrashItem
	failed  []batchFailure
}

type batchFailure struct {
	item remote.TrashItem
	err  error
}

// batch runs op on each item in turn, off the UI, reporting as it goes.
// A failure does not stop it: the others are done all the same.
func (m *Model) batch(restore bool, items []remote.TrashItem, op func(context.Context, remote.TrashItem) error) tea.Cmd {
	items = append([]remote.TrashItem(nil), items...)
	start := "Deleting %s for good…"
	if restore {
		start = "Restoring %s…"
	}
	work := func(ctx context.Context, report func(batchState)) (batchState, error) {
		st := batchState{restore: restore, total: len(items)}
		for _, it := range items {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			if err := op(ctx, it); err != nil {
				st.failed = append(st.failed, batchFailure{it, err})
			} else {
				st.done = append(st.done, it)
			}
			report(batchState{restore: restore, total: st.total, done: st.done[:len(st.done):len(st.done)], failed: st.failed})
		}
		return st, nil
	}
	cmd := background.Start(m.ctx, work, func(u background.Update[batchState]) tea.Msg { return Msg{kind: batchMsg, batch: u} })
	return m.list.Start(fmt.Sprintf(start, human.Plural(len(items), "entry", "entries")), cmd)
}

// restoreMany restores the entries where they were, or into the folder
// to when it is not "".
func (m *Model) restoreMany(items []remote.TrashItem, to string) tea.Cmd {
	r := m.r
	return m.batch(true, items, func(ctx context.Context, it remote.TrashItem) error {
		dst := ""
		if to != "" {
			dst = path.Join(to, it.Name)
		}
		if _, err := r.RestoreTrash(ctx, it.ID, dst); err != nil {
			return fmt.Errorf("restore %s: %w", dialog.Quote(it.Name), err)
		}
		return nil
	})
}

// purgeMany deletes the entries for good.
func (m *Model) purgeMany(items []remote.TrashItem) tea.Cmd {
	r := m.r
	return m.batch(false, items, func(ctx context.Context, it remote.TrashItem) error {
		if err := r.PurgeTrash(ctx, it.ID); err != nil {
			return fmt.Errorf("delete %s for good: %w", dialog.Quote(it.Name), err)
		}
		return nil
	})
}

// openRestoreManyTo asks for the folder to restore several entries into.
func (m *Model) openRestoreManyTo(items []remote.TrashItem) {
	prompt := fmt.Sprintf("Restore %s into the folder:", human.Plural(len(items), "entry", "entries"))
	valid := func(p string) error {
		if p == "/" {
			return nil
		}
		return validPath(p)
	}
	m.list.Open(dialog.NewPathInput(m.st, restoreManyToDialog, "Restore to…", prompt, path.Dir(items[0].Path), valid,
		complete.RemoteTree(m.r, "/").Cmd(m.ctx, restoreManyToDialog)))
	m.dlgItems = items
}

// what says what entries are: "2 folders and 3 files (1.2 MiB and what
// the folders hold)": the trash knows the size of files, not of folders.
func what(items []remote.TrashItem) string { return whatTotal(total(items)) }

// total counts entries as the trash knows them.
func total(items []remote.TrashItem) treecount.Total {
	var t treecount.Total
	for _, it := range items {
		if it.Kind == "dir" {
			t.Folders++
		} else {
			t.Files++
			t.Bytes += it.Size
		}
	}
	return t
}

func whatTotal(t treecount.Total) string {
	s := dialog.Selection(t.Folders, t.Files)
	if t.Files > 0 {
		s += " (" + human.Bytes(t.Bytes)
		if t.Folders > 0 {
			s += " and what the folders hold"
		}
		s += ")"
	}
	return s
}

// confirmPurgeMany asks before deleting several entries for good.
func (m *Model) confirmPurgeMany(items []remote.TrashItem) {
	q := fmt.Sprintf("Delete %s for good?\n\nThis cannot be undone.", what(items))
	d := dialog.NewConfirm(m.st, purgeManyDialog, "Delete for good", q)
	d.SetDefault(1)
	m.list.Open(d)
	m.dlgItems = items
}

// confirmEmpty asks before emptying the trash, once every page is loaded
// and counted: what is deleted is what the question counted, nothing that
// arrived in the trash since.
func (m *Model) confirmEmpty() tea.Cmd {
	if m.list.Complete() && m.list.Len() == 0 {
		m.list.SetStatus("The trash is already empty.", true)
		return nil
	}
	m.list.ClearFilter()
	d := dialog.NewCountingConfirm(m.st, emptyDialog, "Empty the trash", func(c *dialog.CountedMsg) string {
		if c == nil || !c.Done || c.Err != nil {
			return "Delete everything in the trash for good?\n\n" + dialog.CountText(c)
		}
		n := c.Value.Files + c.Value.Folders
		return fmt.Sprintf("Delete everything in the trash for good: %s, %s?\n\nThis cannot be undone.",
			human.Plural(n, "entry", "entries"), whatTotal(c.Value))
	})
	d.SetDefault(1)
	m.list.Open(d)
	return tea.Batch(m.list.LoadAll(), m.emptyCounted())
}

// emptyCounted tells the empty question its count once the list is whole.
func (m *Model) emptyCounted() tea.Cmd {
	d := m.list.Dialog()
	if d == nil || d.ID() != emptyDialog || !d.Busy() {
		return nil
	}
	if err := m.list.LoadErr(); err != nil {
		return m.list.DialogMsg(dialog.Counted(emptyDialog, treecount.Total{}, err))
	}
	if !m.list.Complete() {
		return nil
	}
	items := m.list.Items()
	m.dlgItems = append([]remote.TrashItem(nil), items...)
	return m.list.DialogMsg(dialog.Counted(emptyDialog, total(items), nil))
}

// batchDone follows an action on several entries, and ends it.
func (m Model) batchDone(msg Msg) (Model, tea.Cmd) {
	u := msg.batch
	st := u.Value
	progress, text := "Deleting for good: %s of %s…", "Deleted %s for good."
	if st.restore {
		progress, text = "Restoring: %s of %s…", "Restored %s."
	}
	if !u.Done {
		m.list.Progress(fmt.Sprintf(progress, human.Count(len(st.done)+len(st.failed)), human.Count(st.total)))
		return m, u.Next()
	}
	m.list.Stop()
	m.list.Close()
	done := map[string]bool{}
	for _, it := range st.done {
		done[it.ID] = true
	}
	m.list.Remove(func(it remote.TrashItem) bool { return done[it.ID] })
	if st.restore {
		m.restored += len(st.done)
	}
	text = fmt.Sprintf(text, human.Plural(len(st.done), "entry", "entries"))
	switch {
	case u.Err != nil:
		m.list.SetStatus(text+" Stopped: "+u.Err.Error(), false)
	case len(st.failed) > 0:
		why := make([]string, 0, 2)
		for _, f := range st.failed[:min(2, len(st.failed))] {
			why = append(why, f.err.Error())
		}
		more := ""
		if len(st.failed) > 2 {
			more = "; …"
		}
		m.list.SetStatus(fmt.Sprintf("%s %s could not be: %s%s", text, human.Plural(len(st.failed), "entry", "entries"),
			strings.Join(why, "; "), more), false)
	default:
		m.list.SetStatus(text, true)
	}
	return m, m.list.More()
}
