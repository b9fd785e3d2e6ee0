// Package trashview is the screen that lists the user's trash, newest
// first, and restores from it or deletes for good.
package trashview

import (
	"context"
	"errors"
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

// ClosedMsg says the user left the trash; Restored entries came back, so
// the parent reloads its listings when it is not 0.
type ClosedMsg struct{ Restored int }

// KeyMap is the trash screen's keys.
type KeyMap struct {
	Up        key.Binding
	Down      key.Binding
	PageUp    key.Binding
	PageDown  key.Binding
	Top       key.Binding
	Bottom    key.Binding
	Restore   key.Binding
	RestoreTo key.Binding
	Purge     key.Binding
	Reload    key.Binding
	Back      key.Binding
}

// DefaultKeyMap returns the trash screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:        key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:      key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:  key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:       key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		Bottom:    key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Restore:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore")),
		RestoreTo: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restore to…")),
		Purge:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "delete for good")),
		Reload:    key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:      key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Restore, k.RestoreTo, k.Purge, k.Back}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Restore, k.RestoreTo, k.Purge, k.Reload, k.Back},
	}
}

// Dialog IDs, for the dialogs this screen opens.
const (
	purgeDialog     = "trash.purge"
	restoreToDialog = "trash.restore-to"
)

type msgKind int

const (
	pageMsg msgKind = iota
	restoredMsg
	purgedMsg
	tickMsg
)

// Msg carries the screen's own asynchronous results (and its spinner's
// ticks); the parent passes every Msg to Update.
type Msg struct {
	kind msgKind
	gen  uint64 // of the listing a page belongs to
	tick spinner.TickMsg

	page remote.TrashPage
	item remote.TrashItem // restored or purged
	to   string           // where it was restored ("" = where it was)
	err  error
}

// Model is the trash screen.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	keys KeyMap
	help help.Model
	w, h int

	items   []remote.TrashItem
	next    string // the cursor of the next page; "" once all are loaded
	loaded  bool   // the first page arrived
	loading bool
	loadErr error
	gen     uint64 // bumped by a reload: older pages are dropped

	sel, top int

	dlg      *dialog.Model
	dlgItem  remote.TrashItem // what the open dialog is about
	busy     string           // the operation under way, for the status line
	status   string
	statusOK bool // status is a success, not an error
	restored int

	spin    spinner.Model
	ticking bool
}

// New builds the screen; Init loads it. ctx ends its requests.
func New(ctx context.Context, st *style.Styles, r remote.Remote) Model {
	h := help.New()
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator = st.Key, st.KeyDesc, st.Muted
	h.Styles.FullKey, h.Styles.FullDesc, h.Styles.FullSeparator, h.Styles.Ellipsis = st.Key, st.KeyDesc, st.Muted, st.Muted
	return Model{ctx: ctx, st: st, r: r, keys: DefaultKeyMap(), help: h, w: 80, h: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent))}
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Restored is how many entries were restored since the screen opened.
func (m Model) Restored() int { return m.restored }

// Init loads the first page.
func (m *Model) Init() tea.Cmd {
	m.items, m.next, m.loaded, m.loadErr, m.sel, m.top = nil, "", false, nil, 0, 0
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
	ctx, r, gen := m.ctx, m.r, m.gen
	return func() tea.Msg {
		pg, err := r.Trash(ctx, cursor)
		if err != nil {
			err = fmt.Errorf("list the trash: %w", err)
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

// rows is the number of list rows on screen: the title, the column
// header, the status and the help line take the rest.
func (m Model) rows() int { return max(1, m.h-4) }

// Update handles keys (the open dialog's first), the dialogs' answers
// and the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg:
		return m.confirmed(msg)
	case dialog.InputMsg:
		return m.restoreTo(msg)
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
		m.sel = len(m.items) - 1
	case len(m.items) == 0:
		return m, nil
	case m.busy != "":
		// One change at a time: the list must not move under a request.
		return m, nil
	case key.Matches(msg, m.keys.Restore):
		it := m.items[m.sel]
		return m, m.start("Restoring "+dialog.Quote(it.Name)+"…", m.restoreCmd(it, ""))
	case key.Matches(msg, m.keys.RestoreTo):
		m.openRestoreTo(m.items[m.sel], "")
		return m, nil
	case key.Matches(msg, m.keys.Purge):
		it := m.items[m.sel]
		q := fmt.Sprintf("Delete %s for good?\n\nIt was %s (%s), deleted %s.\nThis cannot be undone.",
			dialog.Quote(it.Name), dialog.Sanitize(it.Path), sizeText(it), dialog.FormatTime(it.Deleted))
		d := dialog.NewConfirm(m.st, purgeDialog, "Delete for good", q)
		d.SetDefault(1)
		d.SetSize(m.w, m.h)
		m.dlg, m.dlgItem = &d, it
		return m, nil
	}
	m.scrollToSel()
	return m, m.more()
}

// more loads the next page when the selection nears the end of what is
// loaded, so the trash is read a page at a time as it is scrolled.
func (m *Model) more() tea.Cmd {
	if m.loading || m.next == "" || m.sel < len(m.items)-m.rows() {
		return nil
	}
	return m.loadPage(m.next)
}

func (m *Model) start(what string, cmd tea.Cmd) tea.Cmd {
	m.busy, m.status = what, ""
	return tea.Batch(cmd, m.startSpinner())
}

func (m Model) restoreCmd(it remote.TrashItem, to string) tea.Cmd {
	ctx, r := m.ctx, m.r
	return func() tea.Msg {
		_, err := r.RestoreTrash(ctx, it.ID, to)
		if err != nil {
			where := to
			if where == "" {
				where = it.Path
			}
			err = fmt.Errorf("restore to %s: %w", where, err)
		}
		return Msg{kind: restoredMsg, item: it, to: to, err: err}
	}
}

func (m *Model) openRestoreTo(it remote.TrashItem, why string) {
	prompt := "Restore " + dialog.Quote(it.Name) + " to:"
	if why != "" {
		prompt = why + "\n\n" + prompt
	}
	d := dialog.NewInput(m.st, restoreToDialog, "Restore to…", prompt, suggest(it.Path), validPath)
	d.SetSize(m.w, m.h)
	m.dlg, m.dlgItem = &d, it
}

// suggest proposes a free-looking name next to where the entry was:
// "/a/report (restored).pdf".
func suggest(p string) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext == base { // ".profile"
		ext = ""
	}
	return dir + strings.TrimSuffix(base, ext) + " (restored)" + ext
}

// validPath accepts the absolute, clean paths the server takes.
func validPath(p string) error {
	switch {
	case p == "":
		return errors.New("a path is needed")
	case !strings.HasPrefix(p, "/"):
		return errors.New("the path must start with /")
	case p == "/":
		return errors.New("the root cannot be replaced")
	case path.Clean(p) != p:
		return fmt.Errorf("not a clean path (did you mean %s?)", path.Clean(p))
	}
	return nil
}

func (m Model) confirmed(msg dialog.ConfirmedMsg) (Model, tea.Cmd) {
	if msg.ID != purgeDialog || m.dlg == nil {
		return m, nil
	}
	m.dlg = nil
	if !msg.Yes {
		return m, nil
	}
	it := m.dlgItem
	ctx, r := m.ctx, m.r
	return m, m.start("Deleting "+dialog.Quote(it.Name)+" for good…", func() tea.Msg {
		err := r.PurgeTrash(ctx, it.ID)
		if err != nil {
			err = fmt.Errorf("delete %s for good: %w", it.Name, err)
		}
		return Msg{kind: purgedMsg, item: it, err: err}
	})
}

func (m Model) restoreTo(msg dialog.InputMsg) (Model, tea.Cmd) {
	if msg.ID != restoreToDialog || m.dlg == nil {
		return m, nil
	}
	if msg.Canceled {
		m.dlg = nil
		return m, nil
	}
	// The dialog stays open until the server answers, to show its error
	// in place.
	it := m.dlgItem
	return m, m.start("Restoring "+dialog.Quote(it.Name)+"…", m.restoreCmd(it, msg.Value))
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
		m.items = append(m.items, msg.page.Items...)
		m.next = msg.page.Cursor
		m.scrollToSel()
		return m, m.more()
	case restoredMsg:
		m.busy = ""
		if msg.err != nil {
			return m.restoreFailed(msg)
		}
		m.dlg = nil
		m.remove(msg.item.ID)
		m.restored++
		where := msg.to
		if where == "" {
			where = msg.item.Path
		}
		m.status, m.statusOK = "Restored "+dialog.Quote(msg.item.Name)+" to "+dialog.Sanitize(where)+".", true
		return m, m.more()
	case purgedMsg:
		m.busy = ""
		if msg.err != nil {
			m.status, m.statusOK = msg.err.Error(), false
			return m, nil
		}
		m.remove(msg.item.ID)
		m.status, m.statusOK = "Deleted "+dialog.Quote(msg.item.Name)+" for good.", true
		return m, m.more()
	}
	return m, nil
}

func (m Model) restoreFailed(msg Msg) (Model, tea.Cmd) {
	switch {
	case m.dlg != nil:
		m.dlg.SetError(msg.err) // restore to…: the dialog shows why
	case errors.Is(msg.err, remote.ErrExists):
		m.status, m.statusOK = msg.err.Error(), false
		m.openRestoreTo(msg.item, "Something is already at "+dialog.Sanitize(msg.item.Path)+".")
	default:
		m.status, m.statusOK = msg.err.Error(), false
	}
	return m, nil
}

func (m *Model) remove(id string) {
	for i, it := range m.items {
		if it.ID == id {
			m.items = append(m.items[:i:i], m.items[i+1:]...)
			break
		}
	}
	m.scrollToSel()
}

func (m *Model) scrollToSel() {
	m.sel = max(0, min(m.sel, len(m.items)-1))
	rows := m.rows()
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+rows {
		m.top = m.sel - rows + 1
	}
	m.top = max(0, min(m.top, len(m.items)-rows))
}

// Column widths beside the name and the folder, which share the rest.
const (
	sizeW = 9
	timeW = 16
	gapW  = 2
)

// View draws the screen, with an open dialog over it.
func (m Model) View() string {
	out := []string{m.title()}
	nameW, dirW := m.columns()
	out = append(out, m.st.Muted.Render(m.row("Name", "Was in", "Size", "Deleted", nameW, dirW)))
	rows := m.rows()
	switch {
	case !m.loaded && m.loadErr == nil:
		out = append(out, m.spin.View()+" "+m.st.Muted.Render("Loading the trash…"))
	case !m.loaded:
		out = append(out, m.errLines(m.loadErr.Error()+" — ctrl+r to retry")...)
	case len(m.items) == 0:
		out = append(out, "", m.st.Muted.Render(m.center("The trash is empty.")))
	default:
		for i := m.top; i < min(len(m.items), m.top+rows); i++ {
			it := m.items[i]
			name := dialog.Sanitize(it.Name)
			if it.Kind == "dir" {
				name += "/"
			}
			line := m.row(name, dialog.Sanitize(path.Dir(it.Path)), sizeText(it), dialog.FormatTime(it.Deleted), nameW, dirW)
			if i == m.sel {
				line = "›" + line[1:] // visible without colour too
				line = m.st.RowCursor.Render(line)
			} else if it.Kind == "dir" {
				line = m.st.Dir.Render(line)
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
		right = fmt.Sprintf("%s+ items", dialog.FormatCount(len(m.items)))
	case m.loaded && len(m.items) == 1:
		right = "1 item"
	case m.loaded:
		right = dialog.FormatCount(len(m.items)) + " items"
	}
	left := m.st.Header.Render("Trash")
	space := max(1, m.w-lipgloss.Width(left)-lipgloss.Width(right))
	return left + strings.Repeat(" ", space) + m.st.Muted.Render(right)
}

func (m Model) columns() (nameW, dirW int) {
	rest := m.w - 2 - sizeW - timeW - 3*gapW
	nameW = max(4, rest*2/5)
	return nameW, max(4, rest-nameW)
}

// row lays out one line: a two-cell margin, name, folder, size, time.
func (m Model) row(name, dir, size, when string, nameW, dirW int) string {
	cell := func(s string, w int, right bool) string {
		s = ansi.Truncate(s, w, "…")
		p := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
		if right {
			return p + s
		}
		return s + p
	}
	// The end of a folder path says more than its start.
	if ansi.StringWidth(dir) > dirW {
		dir = "…" + ansi.TruncateLeft(dir, ansi.StringWidth(dir)-dirW+1, "")
	}
	g := strings.Repeat(" ", gapW)
	line := "  " + cell(name, nameW, false) + g + cell(dir, dirW, false) + g + cell(size, sizeW, true) + g + cell(when, timeW, false)
	return ansi.Truncate(line, m.w, "")
}

func (m Model) center(s string) string {
	return strings.Repeat(" ", max(0, (m.w-lipgloss.Width(s))/2)) + s
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

func sizeText(it remote.TrashItem) string {
	if it.Kind == "dir" && it.Size == 0 {
		return "—"
	}
	return dialog.FormatBytes(it.Size)
}
