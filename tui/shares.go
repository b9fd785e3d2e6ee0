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
		return tea.Batch(a.panes[paneLocal].Reload(), a.panes[paneRemote].Reload(), a.fetchLinked())
	}
	return tea.Batch(a.panes[paneRemote].Reload(), a.fetchLinked())
}

// sharesBody is the screen under the header while the Shares screen is
// on: the screen, or the file manager with the share dialog over it.
func (a App) sharesBody() string {
	if !a.shares.Alone() {
		return a.shares.View()
	}
	return a.panesView() + "\n" + a.statusLine()
}

// linkedMsg carries the IDs of the entries with active share links.
type linkedMsg struct {
	ids map[string]bool
	err error
}

// maxLinkPages bounds the pages of links read for the markers.
const maxLinkPages = 100

// fetchLinked lists the user's links once (a page at a time) for the
// Strata panes' markers. It runs when the app starts, when the Shares
// screen made or revoked something, and on a reload of a Strata pane —
// never per entry nor per folder: what it costs is the number of the
// user's links, whatever the size of the folders shown.
func (a *App) fetchLinked() tea.Cmd {
	r, ctx := a.o.Remote, a.o.Ctx
	return func() tea.Msg {
		ids := map[string]bool{}
		cursor := ""
		for range maxLinkPages {
			pg, err := r.Links(ctx, cursor)
			if err != nil {
				return linkedMsg{err: err}
			}
			for _, l := range pg.Shares {
				if l.State == "active" {
					ids[l.EntryID] = true
				}
			}
			if cursor = pg.Cursor; cursor == "" {
				break
			}
		}
		return linkedMsg{ids: ids}
	}
}

// gotLinked marks the entries with links in the Strata panes. A user who
// may not list their links (a policy) just sees no marks.
func (a *App) gotLinked(msg linkedMsg) {
	if msg.err != nil {
		return
	}
	a.panes[paneRemote].SetLinked(msg.ids)
	if a.o.RemoteOnly {
		a.panes[paneLocal].SetLinked(msg.ids)
	}
}
