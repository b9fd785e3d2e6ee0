package tui

import (
	"errors"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// local says whether pane shows the local file system (never in a
// RemoteOnly session).
func (a *App) local(pane int) bool { return pane == paneLocal && !a.o.RemoteOnly }

// copyCommand is y's key in a RemoteOnly session.
var copyCommand = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy the sftp command for this folder (scp for the marked files)"))

// remoteOnlyKey handles the keys that mean something else, or nothing,
// when both panes show Strata: F5 and F6 copy and move on the server, y
// copies the command that copies files in and out, and what would touch
// a local file system or run a local program (on the server, not the
// user's machine) is refused with a way to do it instead.
func (a *App) remoteOnlyKey(msg tea.KeyMsg) (bool, tea.Cmd) {
	p := &a.panes[a.focus]
	switch {
	case key.Matches(msg, a.keys.CopyOver), key.Matches(msg, a.keys.MoveOver):
		items := p.Selected()
		if len(items) == 0 {
			return true, nil
		}
		a.pending = pendingOp{pane: a.focus, items: items}
		id, title := "copy", "Copy"
		if key.Matches(msg, a.keys.MoveOver) {
			id, title = "move", "Move"
		}
		other := a.panes[1-a.focus].Dir()
		return true, a.openPathInput(id, fmt.Sprintf("%s %s", title, describe(items)), "To folder:", a.focus, other)
	case key.Matches(msg, copyCommand):
		if a.o.Commands == nil || a.o.Clipboard == nil {
			return true, nil
		}
		cmd := a.o.Commands(p.Dir())
		if marked := p.Marked(); len(marked) > 0 && a.o.CopyOut != nil {
			paths, recursive := make([]string, len(marked)), false
			for i, it := range marked {
				paths[i], recursive = it.Path, recursive || it.Dir
			}
			cmd = a.o.CopyOut(paths, recursive)
		}
		if err := a.o.Clipboard(cmd); err != nil {
			a.setErr(fmt.Errorf("copy: %w", err))
		} else {
			a.setOK("Copied to your clipboard: " + cmd)
		}
		return true, nil
	case key.Matches(msg, a.keys.Upload), key.Matches(msg, a.keys.Download), key.Matches(msg, a.keys.Transfers):
		a.setErr(a.noLocalFiles())
		return true, nil
	case key.Matches(msg, a.keys.View), key.Matches(msg, a.keys.Edit):
		a.setErr(errors.New("files do not open over SSH (they would open on the server): copy them to your machine with the command above (y)"))
		return true, nil
	}
	return false, nil
}

func (a *App) noLocalFiles() error {
	if a.o.Commands != nil {
		return fmt.Errorf("no files of yours are here over SSH: copy files in and out with %s (y copies it)", a.o.Commands(a.panes[a.focus].Dir()))
	}
	return errors.New("no files of yours are here over SSH: copy files in and out with scp or sftp")
}
