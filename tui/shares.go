package tui

import (
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/shareview"
)

// openShares opens the Shares screen: the user's links and shares.
func (a *App) openShares() tea.Cmd {
	a.shares = shareview.New(a.o.Ctx, a.st, a.o.Remote, a.o.Clipboard)
	a.shares.SetSize(a.w, a.h-1)
	a.view = viewShares
	return a.shares.Init()
}

// shareSelection opens the share dialog for the selection of the Strata
// pane, over the file manager.
func (a *App) shareSelection() tea.Cmd {
	if a.local(a.focus) {
		a.setErr(errors.New("share: choose files on the Strata pane (Tab), then P"))
		return nil
	}
	items := a.panes[a.focus].Selected()
	if len(items) == 0 {
		return nil
	}
	var targets []shareview.Target
	for _, it := range items {
		if strings.HasPrefix(it.Path, "/shared/") {
			a.setErr(errors.New("share: " + dialog.Quote(it.Name) + " is someone else's share; only its owner shares it"))
			return nil
		}
		targets = append(targets, shareview.Target{Path: it.Path, Name: it.Name, Dir: it.Dir})
	}
	a.shares = shareview.NewShare(a.o.Ctx, a.st, a.o.Remote, a.o.Clipboard, targets)
	a.shares.SetSize(a.w, a.h-1)
	a.view = viewShares
	return a.shares.Init()
}

// sharesClosed goes back to the file manager; what was shared or revoked
// shows in the Strata pane.
func (a *App) sharesClosed(msg shareview.ClosedMsg) tea.Cmd {
	a.view = viewPanes
	if !msg.Changed {
		return nil
	}
	a.panes[paneRemote].ClearSelection()
	if a.o.RemoteOnly {
		return tea.Batch(a.panes[paneLocal].Reload(), a.panes[paneRemote].Reload())
	}
	return a.panes[paneRemote].Reload()
}

// sharesBody is the screen under the header while the Shares screen is
// on: the screen, or the file manager with the share dialog over it.
func (a App) sharesBody() string {
	if !a.shares.Alone() {
		return a.shares.View()
	}
	return a.panesView() + "\n" + a.statusLine()
}
