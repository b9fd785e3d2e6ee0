// Package versionsview is the screen that lists the kept versions of one
// remote file, newest first, and makes an older one current again.
package versionsview

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/dialog"
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
		Reload:   key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:     key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Restore, k.Back}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Restore, k.Reload, k.Back},
	}
}

// restoreDialog is the ID of the restore confirmation.
const restoreDialog = "versions.restore"

type msgKind int

const (
	pageMsg msgKind = iota
	restoredMsg
	tickMsg
)

// Msg carries the screen's own asynchronous results (and its spinner's
// ticks); the parent passes every Msg to Update.
type Msg struct {
	kind msgKind
	gen  uint64 // of the listing a page belongs to
	tick spinner.TickMsg

	page    remote.VersionPage
	version int64        // the version restored
	entry   remote.Entry // the file after the restore
	err     error
}

// Model is the versions screen of one file.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	path string
	keys KeyMap
	help help.Model
	w, h int

	versions []remote.Version
	next     string // the cursor of the next page; "" once all are loaded
	loaded   bool
	loading  bool
	loadErr  error
	gen      uint64

	sel, top int

	dlg      *dialog.Model
	pending  remote.Version // what the open confirmation is about
	busy     string
	status   string
	statusOK bool
	restored bool

	spin    spinner.Model
	ticking bool
}

// New builds the screen for the remote file at path; Init loads it. ctx
// ends its requests.
func New(ctx context.Context, st *style.Styles, r remote.Remote, path string) Model {
	h := help.New()
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator = st.Key, st.KeyDesc, st.Muted
	h.Styles.FullKey, h.Styles.FullDesc, h.Styles.FullSeparator, h.Styles.Ellipsis = st.Key, st.KeyDesc, st.Muted, st.Muted
	return Model{ctx: ctx, st: st, r: r, path: path, keys: DefaultKeyMap(), help: h, w: 80, h: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent))}
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Path returns the file the screen is about.
func (m Model) Path() string { return m.path }

// Restored reports whether a version was made current since the screen
// opened.
func (m Model) Restored() bool { return m.restored }

// Init loads (or reloads) the first page of versions.
func (m *Model) Init() tea.Cmd {
	m.versions, m.next, m.loaded, m.loadErr, m.sel, m.top = nil, "", false, nil, 0, 0
	m.gen++
	return tea.Batch(m.loadPage(""), m.startSpinner())
}

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(20, w), max(6, h)
	m.help.Width = m.w
	if m.dlg != nil {
		m.dlg.SetSize(m.w, m.h)
	}
	m.scrollToSel()
}

func (m *Model) loadPage(cursor string) tea.Cmd {
	m.loading = true
	ctx, r, gen, p := m.ctx, m.r, m.gen, m.path
	return func() tea.Msg {
		pg, err := r.Versions(ctx, p, cursor)
		if err != nil {
			err = fmt.Errorf("versions of %s: %w", p, err)
		}
		return Msg{kind: pageMsg, gen: gen, page: pg, err: err}
	}
}

func (m *Model) startSpinner() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	return wrapTick(m.spin.Tick)
}

func wrapTick(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		t, _ := cmd().(spinner.TickMsg)
		return Msg{kind: tickMsg, tick: t}
	}
}

// rows is the number of list rows: the title, the column header, the
// status and the help line take the rest.
func (m Model) rows() int { return max(1, m.h-4) }

// Update handles keys (the open dialog's first), the confirmation's
// answer and the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg:
		return m.confirmed(msg)
	case tea.KeyMsg:
		if m.dlg != nil {
			d, cmd := m.dlg.Update(msg)
			m.dlg = &d
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
		m.status = ""
		return m, m.Init()
	case key.Matches(msg, m.keys.Up):
		m.sel--
	case key.Matches(msg, m.keys.Down):
		m.sel++
	case key.Matches(msg, m.keys.PageUp):
		m.sel -= m.rows()
	case key.Matches(msg, m.keys.PageDown):
		m.sel += m.rows()
	case key.Matches(msg, m.keys.Top):
		m.sel = 0
	case key.Matches(msg, m.keys.Bottom):
		m.sel = len(m.versions) - 1
	case len(m.versions) == 0 || m.busy != "":
		return m, nil
	case key.Matches(msg, m.keys.Restore):
		v := m.versions[m.sel]
		if v.Current {
			m.status, m.statusOK = fmt.Sprintf("Version %d is already the current one.", v.Version), false
			return m, nil
		}
		q := fmt.Sprintf("Restore version %d of %s (%s, saved %s by %s) as the current version?\n\n"+
			"The current version stays in the list.",
			v.Version, dialog.Quote(path.Base(m.path)), dialog.FormatBytes(v.Size), dialog.FormatTime(v.Time), dialog.Sanitize(v.Author))
		d := dialog.NewConfirm(m.st, restoreDialog, "Restore a version", q)
		d.SetSize(m.w, m.h)
		m.dlg, m.pending = &d, v
		return m, nil
	}
	m.scrollToSel()
	return m, m.more()
}

// more loads the next page when the selection nears the end of what is
// loaded.
func (m *Model) more() tea.Cmd {
	if m.loading || m.next == "" || m.sel < len(m.versions)-m.rows() {
		return nil
	}
	return m.loadPage(m.next)
}

func (m Model) confirmed(msg dialog.ConfirmedMsg) (Model, tea.Cmd) {
	if msg.ID != restoreDialog || m.dlg == nil {
		return m, nil
	}
	m.dlg = nil
	if !msg.Yes {
		return m, nil
	}
	v := m.pending
	ctx, r, p := m.ctx, m.r, m.path
	m.busy, m.status = fmt.Sprintf("Restoring version %d…", v.Version), ""
	return m, tea.Batch(m.startSpinner(), func() tea.Msg {
		e, err := r.RestoreVersion(ctx, p, v.Version)
		if err != nil {
			err = fmt.Errorf("restore version %d of %s: %w", v.Version, p, err)
		}
		return Msg{kind: restoredMsg, version: v.Version, entry: e, err: err}
	})
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case tickMsg:
		if !m.loading && m.busy == "" {
			m.ticking = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg.tick)
		return m, wrapTick(cmd)
	case pageMsg:
		if msg.gen != m.gen {
			return m, nil
		}
		m.loading = false
		if msg.err != nil {
			m.loadErr = msg.err
			return m, nil
		}
		m.loaded, m.loadErr = true, nil
		m.versions = append(m.versions, msg.page.Versions...)
		m.next = msg.page.Cursor
		m.scrollToSel()
		return m, m.more()
	case restoredMsg:
		m.busy = ""
		if msg.err != nil {
			m.status, m.statusOK = msg.err.Error(), false
			return m, nil
		}
		m.restored = true
		m.status, m.statusOK = fmt.Sprintf("Restored version %d as version %d.", msg.version, msg.entry.Version), true
		// The restore added a version at the top: list again from there.
		return m, m.Init()
	}
	return m, nil
}

func (m *Model) scrollToSel() {
	m.sel = max(0, min(m.sel, len(m.versions)-1))
	rows := m.rows()
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+rows {
		m.top = m.sel - rows + 1
	}
	m.top = max(0, min(m.top, len(m.versions)-rows))
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
	out := []string{m.title()}
	out = append(out, m.st.Muted.Render(m.row("  ", "Version", "Saved", "Size", "Author", "SHA-256")))
	rows := m.rows()
	switch {
	case !m.loaded && m.loadErr == nil:
		out = append(out, m.spin.View()+" "+m.st.Muted.Render("Loading versions…"))
	case !m.loaded:
		out = append(out, m.errLines(m.loadErr.Error()+" — ctrl+r to retry")...)
	case len(m.versions) == 0:
		out = append(out, "", m.st.Muted.Render("No versions."))
	default:
		for i := m.top; i < min(len(m.versions), m.top+rows); i++ {
			v := m.versions[i]
			cursor, cur := " ", " "
			if i == m.sel {
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
			line := m.row(mark, fmt.Sprintf("%d", v.Version), dialog.FormatTime(v.Time), dialog.FormatBytes(v.Size),
				dialog.Sanitize(v.Author), dialog.Sanitize(sha))
			switch {
			case i == m.sel:
				line = m.st.RowCursor.Render(line)
			case v.Current:
				line = m.st.Accent.Render(line)
			}
			out = append(out, line)
		}
	}
	for len(out) < rows+2 {
		out = append(out, "")
	}
	out = append(out[:rows+2], m.statusLine(), m.help.View(m.keys))
	v := strings.Join(out, "\n")
	if m.dlg != nil {
		v = dialog.Overlay(v, m.dlg.View(), m.w, m.h)
	}
	return v
}

func (m Model) title() string {
	right := ""
	switch {
	case m.loaded && m.next != "":
		right = dialog.FormatCount(len(m.versions)) + "+ versions"
	case m.loaded && len(m.versions) == 1:
		right = "1 version"
	case m.loaded:
		right = dialog.FormatCount(len(m.versions)) + " versions"
	}
	left := m.st.Header.Render("Versions of ")
	room := max(1, m.w-lipgloss.Width(left)-lipgloss.Width(right)-1)
	p := dialog.Sanitize(m.path)
	if ansi.StringWidth(p) > room { // the end of a path says more than its start
		p = "…" + ansi.TruncateLeft(p, ansi.StringWidth(p)-room+1, "")
	}
	left += m.st.Header.Render(p)
	space := max(1, m.w-lipgloss.Width(left)-lipgloss.Width(right))
	return left + strings.Repeat(" ", space) + m.st.Muted.Render(right)
}

// row lays out one line: a two-cell mark, number, time, size, author and
// digest prefix.
func (m Model) row(mark, num, when, size, author, sha string) string {
	cell := func(s string, w int, right bool) string {
		s = ansi.Truncate(s, w, "…")
		p := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
		if right {
			return p + s
		}
		return s + p
	}
	g := strings.Repeat(" ", gapW)
	line := mark + cell(num, numW, true) + g + cell(when, timeW, false) + g + cell(size, sizeW, true) + g
	// On a narrow screen the author's name is worth more than a digest
	// prefix (the info panel has the whole digest).
	if m.w < narrow {
		return ansi.Truncate(line+author, m.w, "…")
	}
	authorW := max(4, m.w-2-numW-timeW-sizeW-shaW-5*gapW)
	return ansi.Truncate(line+cell(author, authorW, false)+g+cell(sha, shaW, false), m.w, "")
}

func (m Model) errLines(s string) []string {
	lines := dialog.Wrap(dialog.Sanitize(s), m.w)
	for i, l := range lines {
		lines[i] = m.st.StatusErr.Render(l)
	}
	return lines
}

func (m Model) statusLine() string {
	switch {
	case m.busy != "":
		return m.spin.View() + " " + ansi.Truncate(m.busy, m.w-2, "…")
	case m.status == "":
		return ""
	case m.statusOK:
		return m.st.StatusOK.Render(ansi.Truncate(m.status, m.w, "…"))
	}
	return m.st.StatusErr.Render(ansi.Truncate(dialog.Sanitize(m.status), m.w, "…"))
}
