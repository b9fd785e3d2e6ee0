package tui

import (
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/transfer"
)

// moveOverDialog is the ID of F6's confirmation.
const moveOverDialog = "move-over"

// copyOver (F5) copies the selection to the other pane's folder, as mc
// does: an upload from the local pane, a download from the Strata pane.
func (a *App) copyOver() tea.Cmd {
	if a.focus == paneLocal {
		return a.upload()
	}
	return a.download()
}

// confirmMoveOver (F6) asks before moving the selection to the other
// pane's folder, stating what it holds and when the sources go.
func (a *App) confirmMoveOver() tea.Cmd {
	items := a.panes[a.focus].Selected()
	if len(items) == 0 {
		return nil
	}
	a.pending = pendingOp{pane: a.focus, items: items}
	folders, files, paths := kinds(items)
	what := dialog.Selection(folders, files)
	var to, after string
	if a.focus == paneLocal {
		to = "Strata " + a.panes[paneRemote].Dir()
		after = "Each local file is deleted once its upload is verified."
	} else {
		to = a.panes[paneLocal].Dir()
		after = "The Strata originals go to the trash once all of them are downloaded and verified."
	}
	d := dialog.NewCountingConfirm(a.st, moveOverDialog, "Move", func(c *dialog.CountedMsg) string {
		count := dialog.CountText(c)
		if c != nil && c.Done && c.Err == nil {
			count = "That is " + count + "."
		}
		return fmt.Sprintf("Move %s to %s?\n\n%s\n\n%s", what, dialog.Sanitize(to), count, after)
	})
	d.SetSize(a.w, a.h)
	a.dlg = &d
	if a.focus == paneLocal {
		return dialog.CountLocalCmd(a.dialogCtx(), moveOverDialog, paths)
	}
	return dialog.CountTreeCmd(a.dialogCtx(), a.o.Remote, moveOverDialog, paths)
}

// kinds counts the folders and files of a selection, and lists their
// paths (for a count of what they hold).
func kinds(items []filelist.Item) (folders, files int, paths []string) {
	paths = make([]string, len(items))
	for i, it := range items {
		paths[i] = it.Path
		if it.Dir {
			folders++
		} else {
			files++
		}
	}
	return folders, files, paths
}

// moveOver queues the moves F6's confirmation was about.
func (a *App) moveOver(op pendingOp) tea.Cmd {
	var dst string
	for _, it := range op.items {
		if op.pane == paneLocal {
			dst = a.panes[paneRemote].Dir()
			a.o.Transfers.MoveUpload(it.Path, dst)
		} else {
			dst = a.panes[paneLocal].Dir()
			a.o.Transfers.MoveDownload(it.Path, it.Dir, dst)
		}
	}
	a.panes[op.pane].ClearSelection()
	a.setOK(fmt.Sprintf("Moving %s to %s (t to watch)", describe(op.items), dst))
	return nil
}

// moveNoted shows how a move ended, once, and shows its effect in the
// panes.
func (a *App) moveNoted(s transfer.Snapshot) tea.Cmd {
	if s.Note.Seq == a.noteSeq {
		return nil
	}
	a.noteSeq = s.Note.Seq
	if s.Note.Err {
		a.setErr(errors.New(s.Note.Text))
	} else {
		a.setOK(s.Note.Text)
	}
	return tea.Batch(a.panes[paneLocal].Reload(), a.panes[paneRemote].Reload())
}
