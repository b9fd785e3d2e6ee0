// Package pagedlist is the part that the TUI's list screens (the trash,
// a file's versions) share: a list read a page at a time as it is
// scrolled, a selection kept on screen, a spinner and a status line for
// the screen's own requests, errors shown in place, and the dialog open
// over it.
//
// A screen holds a Model over its item type, built with a function that
// loads a page and one that makes the screen's own message of the list's
// (so that the parent, which routes messages by type, passes them back to
// the screen, which hands them to Update). The screen handles its keys
// (Navigate moves the selection), runs its requests with Start, and draws
// itself with View, giving the rows' renderer.
package pagedlist

import (
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/style"
)

// Loader loads the page that cursor names ("" for the first): its items
// and the cursor of the next page, "" after the last. It runs in a tea.Cmd.
type Loader[T any] func(cursor string) (items []T, next string, err error)

// Nav is the keys that move the selection.
type Nav struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

// Msg carries the list's asynchronous results: a page, or a tick of its
// spinner. The screen wraps it in its own message (see New) and passes it
// to Update.
type Msg[T any] struct {
	tick    bool
	tickMsg spinner.TickMsg

	gen   uint64 // of the listing the page belongs to
	items []T
	next  string
	err   error
}

// IsTick reports whether msg is only a tick of the spinner, which comes
// after a delay.
func (msg Msg[T]) IsTick() bool { return msg.tick }

// Model is the list and what the screen shows around it.
type Model[T any] struct {
	st   *style.Styles
	nav  Nav
	load Loader[T]
	wrap func(Msg[T]) tea.Msg
	help help.Model
	w, h int

	items   []T
	next    string // the cursor of the next page; "" once all are loaded
	loaded  bool   // the first page arrived
	loading bool
	loadErr error
	gen     uint64 // bumped by a reload: older pages are dropped

	sel, top int

	dlg      *dialog.Model
	busy     string // the operation under way, for the status line
	status   string
	statusOK bool // status is a success, not an error

	spin    spinner.Model
	ticking bool
}

// New builds a list that loads its pages with load and moves its selection
// with nav; wrap makes the screen's message of one of the list's. Init
// loads it.
func New[T any](st *style.Styles, nav Nav, load Loader[T], wrap func(Msg[T]) tea.Msg) Model[T] {
	h := help.New()
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator = st.Key, st.KeyDesc, st.Muted
	h.Styles.FullKey, h.Styles.FullDesc, h.Styles.FullSeparator, h.Styles.Ellipsis = st.Key, st.KeyDesc, st.Muted, st.Muted
	return Model[T]{st: st, nav: nav, load: load, wrap: wrap, help: h, w: 80, h: 24,
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent))}
}

// Init empties the list and loads (or reloads) its first page.
func (m *Model[T]) Init() tea.Cmd {
	m.items, m.next, m.loaded, m.loadErr, m.sel, m.top = nil, "", false, nil, 0, 0
	m.gen++
	return tea.Batch(m.loadPage(""), m.startSpinner())
}

// Reload clears the status line and loads the list again from its first
// page.
func (m *Model[T]) Reload() tea.Cmd {
	m.SetStatus("", false)
	return m.Init()
}

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model[T]) SetSize(w, h int) {
	m.w, m.h = max(20, w), max(6, h)
	m.help.Width = m.w
	if m.dlg != nil {
		m.dlg.SetSize(m.w, m.h)
	}
	m.scrollToSel()
}

// Width is the screen's width.
func (m Model[T]) Width() int { return m.w }

// Items are the items loaded so far.
func (m Model[T]) Items() []T { return m.items }

// Len is the number of items loaded so far.
func (m Model[T]) Len() int { return len(m.items) }

// Loaded reports whether the first page arrived.
func (m Model[T]) Loaded() bool { return m.loaded }

// Index is the selected item's index.
func (m Model[T]) Index() int { return m.sel }

// Selected is the selected item; the list must not be empty.
func (m Model[T]) Selected() T { return m.items[m.sel] }

func (m *Model[T]) loadPage(cursor string) tea.Cmd {
	m.loading = true
	load, wrap, gen := m.load, m.wrap, m.gen
	return func() tea.Msg {
		items, next, err := load(cursor)
		return wrap(Msg[T]{gen: gen, items: items, next: next, err: err})
	}
}

func (m *Model[T]) startSpinner() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	return m.wrapTick(m.spin.Tick)
}

func (m Model[T]) wrapTick(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	wrap := m.wrap
	return func() tea.Msg {
		t, _ := cmd().(spinner.TickMsg)
		return wrap(Msg[T]{tick: true, tickMsg: t})
	}
}

// rows is the number of list rows on screen: the title, the column
// header, the status and the help line take the rest.
func (m Model[T]) rows() int { return max(1, m.h-4) }

// Update takes a page or a tick of the spinner.
func (m Model[T]) Update(msg Msg[T]) (Model[T], tea.Cmd) {
	if msg.tick {
		if !m.loading && m.busy == "" {
			m.ticking = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg.tickMsg)
		return m, m.wrapTick(cmd)
	}
	if msg.gen != m.gen {
		return m, nil
	}
	m.loading = false
	if msg.err != nil {
		m.loadErr = msg.err
		return m, nil
	}
	m.loaded, m.loadErr = true, nil
	m.items = append(m.items, msg.items...)
	m.next = msg.next
	m.scrollToSel()
	return m, m.More()
}

// Navigate moves the selection when msg is one of the Nav keys, and
// reports whether it was. Scroll then follows the selection.
func (m *Model[T]) Navigate(msg tea.KeyMsg) bool {
	switch {
	case key.Matches(msg, m.nav.Up):
		m.sel--
	case key.Matches(msg, m.nav.Down):
		m.sel++
	case key.Matches(msg, m.nav.PageUp):
		m.sel -= m.rows()
	case key.Matches(msg, m.nav.PageDown):
		m.sel += m.rows()
	case key.Matches(msg, m.nav.Top):
		m.sel = 0
	case key.Matches(msg, m.nav.Bottom):
		m.sel = len(m.items) - 1
	default:
		return false
	}
	return true
}

// Scroll keeps the selection in the list and on screen, and loads the
// next page when it nears the end of what is loaded.
func (m *Model[T]) Scroll() tea.Cmd {
	m.scrollToSel()
	return m.More()
}

// More loads the next page when the selection nears the end of what is
// loaded, so the list is read a page at a time as it is scrolled.
func (m *Model[T]) More() tea.Cmd {
	if m.loading || m.next == "" || m.sel < len(m.items)-m.rows() {
		return nil
	}
	return m.loadPage(m.next)
}

// Remove drops the first item for which match is true, and keeps the
// selection on screen.
func (m *Model[T]) Remove(match func(T) bool) {
	for i, it := range m.items {
		if match(it) {
			m.items = append(m.items[:i:i], m.items[i+1:]...)
			break
		}
	}
	m.scrollToSel()
}

func (m *Model[T]) scrollToSel() {
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

// Open opens d over the screen; keys go to it (see DialogKey) until Close.
func (m *Model[T]) Open(d dialog.Model) {
	d.SetSize(m.w, m.h)
	m.dlg = &d
}

// Dialog is the open dialog, or nil.
func (m Model[T]) Dialog() *dialog.Model { return m.dlg }

// Close closes the open dialog.
func (m *Model[T]) Close() { m.dlg = nil }

// DialogKey passes msg to the open dialog, and reports whether one is.
func (m *Model[T]) DialogKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	if m.dlg == nil {
		return nil, false
	}
	return m.DialogMsg(msg), true
}

// DialogMsg passes msg (a key, a completion) to the open dialog, if any.
func (m *Model[T]) DialogMsg(msg tea.Msg) tea.Cmd {
	if m.dlg == nil {
		return nil
	}
	d, cmd := m.dlg.Update(msg)
	m.dlg = &d
	return cmd
}

// Confirmed reports whether msg says yes to the open confirmation of the
// given id. It closes the dialog when msg answers it, yes or no; any other
// msg leaves it open.
func (m *Model[T]) Confirmed(msg dialog.ConfirmedMsg, id string) bool {
	if msg.ID != id || m.dlg == nil {
		return false
	}
	m.dlg = nil
	return msg.Yes
}

// Start shows what (with the spinner) in the status line and runs cmd,
// whose answer the screen ends with Stop.
func (m *Model[T]) Start(what string, cmd tea.Cmd) tea.Cmd {
	m.busy, m.status = what, ""
	return tea.Batch(cmd, m.startSpinner())
}

// Stop ends the operation Start began.
func (m *Model[T]) Stop() { m.busy = "" }

// Busy reports whether an operation is under way: one at a time, so that
// the list does not move under a request.
func (m Model[T]) Busy() bool { return m.busy != "" }

// SetStatus shows s in the status line, as a success when ok and as an
// error otherwise; "" clears it.
func (m *Model[T]) SetStatus(s string, ok bool) { m.status, m.statusOK = s, ok }

// Count says how many items there are, for the title: "" before the first
// page, "1 <one>", "N <many>", or "N+ <many>" while more pages remain.
func (m Model[T]) Count(one, many string) string {
	switch {
	case m.loaded && m.next != "":
		return human.Count(len(m.items)) + "+ " + many
	case m.loaded && len(m.items) == 1:
		return "1 " + one
	case m.loaded:
		return human.Count(len(m.items)) + " " + many
	}
	return ""
}

// Title lays out the title line: left (styled) at the start, right (muted)
// at the end.
func (m Model[T]) Title(left, right string) string {
	space := max(1, m.w-lipgloss.Width(left)-lipgloss.Width(right))
	return left + strings.Repeat(" ", space) + m.st.Muted.Render(right)
}

// Screen is what View draws around and into the list.
type Screen[T any] struct {
	Title   string // the first line (see Title)
	Header  string // the column header, styled
	Loading string // beside the spinner until the first page arrives
	Empty   string // styled, when the list is empty
	// Row draws an item, the selected one with the cursor.
	Row  func(it T, selected bool) string
	Keys help.KeyMap
}

// View draws the screen — the title, the column header, the visible rows
// (or what stands for them), the status and the help line — with an open
// dialog over it.
func (m Model[T]) View(s Screen[T]) string {
	out := []string{s.Title, s.Header}
	rows := m.rows()
	switch {
	case !m.loaded && m.loadErr == nil:
		out = append(out, m.spin.View()+" "+m.st.Muted.Render(s.Loading))
	case !m.loaded:
		out = append(out, m.errLines(m.loadErr.Error()+" — ctrl+r to retry")...)
	case len(m.items) == 0:
		out = append(out, "", s.Empty)
	default:
		for i := m.top; i < min(len(m.items), m.top+rows); i++ {
			out = append(out, s.Row(m.items[i], i == m.sel))
		}
	}
	for len(out) < rows+2 {
		out = append(out, "")
	}
	out = append(out[:rows+2], m.statusLine(), m.help.View(s.Keys))
	v := strings.Join(out, "\n")
	if m.dlg != nil {
		v = dialog.Overlay(v, m.dlg.View(), m.w, m.h)
	}
	return v
}

// Cell is s in a column w cells wide: cut short with "…" when longer,
// padded when shorter, aligned right when right.
func Cell(s string, w int, right bool) string {
	s = ansi.Truncate(s, w, "…")
	p := strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
	if right {
		return p + s
	}
	return s + p
}

func (m Model[T]) errLines(s string) []string {
	lines := dialog.Wrap(dialog.Sanitize(s), m.w)
	for i, l := range lines {
		lines[i] = m.st.StatusErr.Render(l)
	}
	return lines
}

func (m Model[T]) statusLine() string {
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
