package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/bookmarks"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/filelist"
)

// markMode is what the key after m or ' does.
type markMode int

const (
	markNone markMode = iota
	markSet           // m: the next letter bookmarks the focused pane's folder
	markJump          // ': the next letter opens a bookmark, ' the previous folder
)

// marks is the app's bookmark state: the store, the pending m or ', and
// each pane's previous folder (for ' then ').
type marks struct {
	store *bookmarks.Store
	mode  markMode
	cur   [2]string // the folder each pane last opened
	prev  [2]string // the one before it
}

// marksSavedMsg ends a save of the bookmarks file.
type marksSavedMsg struct{ err error }

// place is whose folders the pane's bookmarks name.
func (a *App) place(pane int) bookmarks.Place {
	if a.local(pane) {
		return bookmarks.Place{}
	}
	// Where names the data directory in local mode, where every store
	// has the same address.
	where := a.o.Where
	if where == "" {
		where = a.o.Remote.Server()
	}
	return bookmarks.Place{Remote: true, Server: where}
}

// noteOpened keeps each pane's previous folder as navigations finish.
func (a *App) noteOpened(msg filelist.OpenedMsg) {
	for i := range a.panes {
		if a.panes[i].Source().Title() != msg.Source {
			continue
		}
		if msg.Dir != a.mark.cur[i] {
			a.mark.prev[i], a.mark.cur[i] = a.mark.cur[i], msg.Dir
		}
	}
}

// startMark opens the bookmark list, waiting for the key that sets or
// opens one.
func (a *App) startMark(mode markMode) {
	a.mark.mode = mode
}

// markKey takes the key after m or '.
func (a App) markKey(msg tea.KeyMsg) (App, tea.Cmd) {
	mode := a.mark.mode
	a.mark.mode = markNone
	k := msg.String()
	p := &a.panes[a.focus]
	switch {
	case key.Matches(msg, a.keys.Back):
		return a, nil
	case mode == markJump && key.Matches(msg, a.keys.GoMark):
		prev := a.mark.prev[a.focus]
		if prev == "" {
			a.setErr(errors.New("no previous folder yet on this pane"))
			return a, nil
		}
		return a, p.Navigate(prev)
	case !bookmarks.ValidKey(k):
		a.setErr(fmt.Errorf("%s is not a bookmark: bookmarks are letters and digits", dialog.Quote(k)))
		return a, nil
	case mode == markSet:
		dir := p.Dir()
		if err := a.mark.store.Set(a.place(a.focus), k, dir); err != nil {
			a.setErr(err)
			return a, nil
		}
		a.setOK(fmt.Sprintf("Bookmark %s: %s (' then %s goes there)", k, dir, k))
		store := a.mark.store
		return a, func() tea.Msg { return marksSavedMsg{store.Save()} }
	}
	dir, ok := a.mark.store.Get(a.place(a.focus), k)
	if !ok {
		a.setErr(fmt.Errorf("no bookmark %s on this pane (m then %s sets one)", k, k))
		return a, nil
	}
	return a, p.Navigate(dir)
}

// marksView is the list shown while the app waits for the key after m
// or ' ("" when it does not).
func (a App) marksView() string {
	if a.mark.mode == markNone || a.view != viewPanes {
		return ""
	}
	where := "local"
	if !a.local(a.focus) {
		where = "Strata"
	}
	title, help := "Set a bookmark ("+where+")", "a letter or digit names "+a.panes[a.focus].Dir()+" · esc cancel"
	if a.mark.mode == markJump {
		title, help = "Go to a bookmark ("+where+")", "a letter opens it · ' the previous folder · esc cancel"
	}
	inner := min(60, max(20, a.w-6))
	lines := []string{a.st.DialogTitle.Render(title), ""}
	list := a.mark.store.List(a.place(a.focus))
	if a.mark.mode == markJump && a.mark.prev[a.focus] != "" {
		list = append([]bookmarks.Mark{{Key: "'", Path: a.mark.prev[a.focus]}}, list...)
	}
	room := max(1, a.h-8)
	for i, m := range list {
		if i == room-1 && len(list) > room {
			lines = append(lines, a.st.Muted.Render(fmt.Sprintf("… and %d more", len(list)-i)))
			break
		}
		lines = append(lines, a.st.Key.Render(m.Key)+"  "+ansi.Truncate(dialog.Sanitize(m.Path), inner-3, "…"))
	}
	if len(list) == 0 {
		lines = append(lines, a.st.Muted.Render("No bookmarks yet: m then a letter sets one."))
	}
	lines = append(lines, "")
	for _, l := range dialog.Wrap(dialog.Sanitize(help), inner) {
		lines = append(lines, a.st.Muted.Render(l))
	}
	return a.st.Dialog.Width(inner + 2).Render(strings.Join(lines, "\n"))
}
