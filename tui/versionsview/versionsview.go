// Package versionsview is the screen that lists the kept versions of one
// remote file, newest first, makes an older one current again, or
// downloads it to the local pane's folder.
package versionsview

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// ClosedMsg says the user left the screen; Restored is true when a
// version was made current, so the parent reloads the file's entry.
type ClosedMsg struct{ Restored bool }

// KeyMap is the versions screen's keys.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Restore  key.Binding
	Download key.Binding
	Reload   key.Binding
	Back     key.Binding
}

// DefaultKeyMap returns the versions screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "newest")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "oldest")),
		Restore:  key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore as current")),
		Download: key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "download to the local folder")),
		Reload:   key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:     key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap: the keys worded briefly, to fit in 80
// columns.
func (k KeyMap) ShortHelp() []key.Binding {
	brief := pagedlist.Brief
	return []key.Binding{k.Up, k.Down, brief(k.Restore, "r", "restore"), brief(k.Download, "d", "download"), k.Back}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Restore, k.Download, k.Reload, k.Back},
	}
}

// restoreDialog is the ID of the restore confirmation.
const restoreDialog = "versions.restore"

type msgKind int

const (
	listMsg msgKind = iota
	restoredMsg
	savedMsg
)

// Msg carries the screen's own asynchronous results (and its list's pages
// and spinner ticks); the parent passes every Msg to Update.
type Msg struct {
	kind msgKind
	list pagedlist.Msg[remote.Version]

	version int64        // the version restored or downloaded
	entry   remote.Entry // the file after the restore
	err     error

	saving background.Update[saving] // a download's progress and end
	size   int64                     // of the version downloaded
}

// Model is the versions screen of one file.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	path string
	keys KeyMap
	list pagedlist.Model[remote.Version]

	pending  remote.Version // what the open confirmation is about
	restored bool
	saveDir  string // where d downloads to
}

// New builds the screen for the remote file at path; Init loads it. ctx
// ends its requests.
func New(ctx context.Context, st *style.Styles, r remote.Remote, path string) Model {
	keys := DefaultKeyMap()
	// d works once there is a local folder to download to (none over SSH).
	keys.Download.SetEnabled(false)
	nav := pagedlist.Nav{Up: keys.Up, Down: keys.Down, PageUp: keys.PageUp, PageDown: keys.PageDown, Top: keys.Top, Bottom: keys.Bottom}
	load := func(cursor string) ([]remote.Version, string, error) {
		pg, err := r.Versions(ctx, path, cursor)
		if err != nil {
			err = fmt.Errorf("versions of %s: %w", path, err)
		}
		return pg.Versions, pg.Cursor, err
	}
	wrap := func(msg pagedlist.Msg[remote.Version]) tea.Msg { return Msg{kind: listMsg, list: msg} }
	return Model{ctx: ctx, st: st, r: r, path: path, keys: keys, list: pagedlist.New(st, nav, load, wrap)}
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Path returns the file the screen is about.
func (m Model) Path() string { return m.path }

// Restored reports whether a version was made current since the screen
// opened.
func (m Model) Restored() bool { return m.restored }

// Init loads (or reloads) the first page of versions.
func (m *Model) Init() tea.Cmd { return m.list.Init() }

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) { m.list.SetSize(w, h) }

// Update handles keys (the open dialog's first), the confirmation's
// answer and the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg:
		return m.confirmed(msg)
	case tea.KeyMsg:
		if cmd, ok := m.list.DialogKey(msg); ok {
			return m, cmd
		}
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Back):
		return m, func() tea.Msg { return ClosedMsg{Restored: m.restored} }
	case key.Matches(msg, m.keys.Reload):
		return m, m.list.Reload()
	case m.list.Navigate(msg):
	case m.list.Len() == 0 || m.list.Busy():
		return m, nil
	case key.Matches(msg, m.keys.Download):
		return m, m.download(m.list.Selected())
	case key.Matches(msg, m.keys.Restore):
		v := m.list.Selected()
		if v.Current {
			m.list.SetStatus(fmt.Sprintf("Version %d is already the current one.", v.Version), false)
			return m, nil
		}
		q := fmt.Sprintf("Restore version %d of %s (%s, saved %s by %s) as the current version?\n\n"+
			"The current version stays in the list.",
			v.Version, dialog.Quote(path.Base(m.path)), human.Bytes(v.Size), dialog.FormatTime(v.Time), dialog.Sanitize(v.Author))
		m.list.Open(dialog.NewConfirm(m.st, restoreDialog, "Restore a version", q))
		m.pending = v
		return m, nil
	}
	return m, m.list.Scroll()
}

func (m Model) confirmed(msg dialog.ConfirmedMsg) (Model, tea.Cmd) {
	if !m.list.Confirmed(msg, restoreDialog) {
		return m, nil
	}
	v := m.pending
	ctx, r, p := m.ctx, m.r, m.path
	return m, m.list.Start(fmt.Sprintf("Restoring version %d…", v.Version), func() tea.Msg {
		e, err := r.RestoreVersion(ctx, p, v.Version)
		if err != nil {
			err = fmt.Errorf("restore version %d of %s: %w", v.Version, p, err)
		}
		return Msg{kind: restoredMsg, version: v.Version, entry: e, err: err}
	})
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case listMsg:
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg.list)
		return m, cmd
	case savedMsg:
		return m.saved(msg)
	case restoredMsg:
		m.list.Stop()
		if msg.err != nil {
			m.list.SetStatus(msg.err.Error(), false)
			return m, nil
		}
		m.restored = true
		m.list.SetStatus(fmt.Sprintf("Restored version %d as version %d.", msg.version, msg.entry.Version), true)
		// The restore added a version at the top: list again from there.
		return m, m.Init()
	}
	return m, nil
}

// Column widths beside the author's, which takes the rest.
const (
	numW  = 7
	timeW = 16
	sizeW = 9
	shaW  = 12
	gapW  = 2
	// narrow is the width below which the digest column is left out.
	narrow = 72
)

// View draws the screen, with an open dialog over it.
func (m Model) View() string {
	return m.list.View(pagedlist.Screen[remote.Version]{
		Title:   m.title(),
		Header:  m.st.Muted.Render(m.row("  ", "Version", "Saved", "Size", "Author", "SHA-256")),
		Loading: "Loading versions…",
		Empty:   m.st.Muted.Render("No versions."),
		Row: func(v remote.Version, selected, _ bool) string {
			cursor, cur := " ", " "
			if selected {
				cursor = "›" // the cursor shows without colour too
			}
			if v.Current {
				cur = "●"
			}
			mark := cursor + cur
			sha := v.SHA256
			if len(sha) > shaW {
				sha = sha[:shaW]
			}
			line := m.row(mark, fmt.Sprintf("%d", v.Version), dialog.FormatTime(v.Time), human.Bytes(v.Size),
				dialog.Sanitize(v.Author), dialog.Sanitize(sha))
			switch {
			case selected:
				line = m.st.RowCursor.Render(line)
			case v.Current:
				line = m.st.Accent.Render(line)
			}
			return line
		},
		Keys: m.keys,
	})
}

func (m Model) title() string {
	right := m.list.Count("version", "versions")
	left := m.st.Header.Render("Versions of ")
	room := max(1, m.list.Width()-lipgloss.Width(left)-lipgloss.Width(right)-1)
	p := dialog.Sanitize(m.path)
	if ansi.StringWidth(p) > room { // the end of a path says more than its start
		p = "…" + ansi.TruncateLeft(p, ansi.StringWidth(p)-room+1, "")
	}
	return m.list.Title(left+m.st.Header.Render(p), right)
}

// row lays out one line: a two-cell mark, number, time, size, author and
// digest prefix.
func (m Model) row(mark, num, when, size, author, sha string) string {
	cell := pagedlist.Cell
	g := strings.Repeat(" ", gapW)
	line := mark + cell(num, numW, true) + g + cell(when, timeW, false) + g + cell(size, sizeW, true) + g
	// On a narrow screen the author's name is worth more than a digest
	// prefix (the info panel has the whole digest).
	w := m.list.Width()
	if w < narrow {
		return ansi.Truncate(line+author, w, "…")
	}
	authorW := max(4, w-2-numW-timeW-sizeW-shaW-5*gapW)
	return ansi.Truncate(line+cell(author, authorW, false)+g+cell(sha, shaW, false), w, "")
}
