// Package pagedlist is the part that the TUI's list screens (the trash,
// a file's versions) share: a list read a page at a time as it is
// scrolled, a selection kept on screen, marks (EnableMarks) and a filter
// as you type (EnableFilter) over it, a spinner and a status line for the
// screen's own requests, errors shown in place, and the dialog open over
// it.
//
// A screen holds a Model over its item type, built with a function that
// loads a page and one that makes the screen's own message of the list's
// (so that the parent, which routes messages by type, passes them back to
// the screen, which hands them to Update). The screen handles its keys
// (Navigate moves the selection), runs its requests with Start, and draws
// itself with View, giving the rows' renderer.
//
// Marks and the filter work on the items loaded; marking all, and any
// filter, load the rest of the list in the background, so that they apply
// to the whole of it. Marks hidden by the filter do not count: an action
// acts on exactly what is shown as marked.
package pagedlist

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
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

// DefaultNav is the screens' keys that move the selection, the same on
// every screen.
func DefaultNav() Nav {
	return Nav{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
	}
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

	vis      []int // positions in items of the rows shown (the filter applied)
	sel, top int   // the selected row and the first on screen, indexes into vis

	key     func(T) string // identifies an item for its mark (EnableMarks)
	size    func(T) int64  // an item's size, for the marks' total
	marked  map[string]bool
	markAll bool // marks pages as they arrive, until a mark is removed

	text      func(T) string // what the filter matches (EnableFilter)
	filter    string
	filtering bool // the filter's input has the keys
	input     textinput.Model
	loadAll   bool // load every page, not only as the selection nears the end

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
	m.items, m.vis, m.next, m.loaded, m.loadErr, m.sel, m.top = nil, nil, "", false, nil, 0, 0
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

// Items are the items loaded so far, shown or not.
func (m Model[T]) Items() []T { return m.items }

// Len is the number of items loaded so far, shown or not.
func (m Model[T]) Len() int { return len(m.items) }

// Shown is the number of items shown: those the filter lets through.
func (m Model[T]) Shown() int { return len(m.vis) }

// Loaded reports whether the first page arrived.
func (m Model[T]) Loaded() bool { return m.loaded }

// Complete reports whether every page is loaded.
func (m Model[T]) Complete() bool { return m.loaded && m.next == "" }

// Index is the selected row's index among those shown.
func (m Model[T]) Index() int { return m.sel }

// OnScreen is the items of the rows on screen, in order: what a screen
// that fetches more about its rows (a user's usage) asks for first.
func (m Model[T]) OnScreen() []T {
	if !m.loaded {
		return nil
	}
	var out []T
	for i := m.top; i < min(len(m.vis), m.top+m.rows()); i++ {
		out = append(out, m.items[m.vis[i]])
	}
	return out
}

// Selected is the selected item; nothing must be shown when there is none
// (Shown is 0).
func (m Model[T]) Selected() T { return m.items[m.vis[m.sel]] }

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
	for _, it := range msg.items {
		m.items = append(m.items, it)
		if m.markAll && m.key != nil {
			m.marked[m.key(it)] = true
		}
		if m.matches(it) {
			m.vis = append(m.vis, len(m.items)-1)
		}
	}
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
		m.sel = len(m.vis) - 1
	default:
		return false
	}
	return true
}

// Select moves the selection to the first item shown for which match is
// true, and reports whether there was one (a list loaded again after a
// change keeps its place on the item changed).
func (m *Model[T]) Select(match func(T) bool) bool {
	for i, at := range m.vis {
		if match(m.items[at]) {
			m.sel = i
			m.scrollToSel()
			return true
		}
	}
	return false
}

// Scroll keeps the selection in the list and on screen, and loads the
// next page when it nears the end of what is loaded.
func (m *Model[T]) Scroll() tea.Cmd {
	m.scrollToSel()
	return m.More()
}

// More loads the next page when the selection nears the end of what is
// loaded, so the list is read a page at a time as it is scrolled (or
// every page, while marking all, a filter or LoadAll needs them).
func (m *Model[T]) More() tea.Cmd {
	all := m.loadAll || m.markAll || m.filter != ""
	if m.loading || m.next == "" || (!all && m.sel < len(m.vis)-m.rows()) {
		return nil
	}
	return m.loadPage(m.next)
}

// LoadAll loads the pages not loaded yet, one after the other; Complete
// says when they are.
func (m *Model[T]) LoadAll() tea.Cmd {
	m.loadAll = true
	return m.More()
}

// Replace puts the item change returns in place of each item for which
// it reports true (a row whose state moved on), keeping the selection,
// marks and filter as they are.
func (m *Model[T]) Replace(change func(T) (T, bool)) {
	for i, it := range m.items {
		if n, ok := change(it); ok {
			m.items[i] = n
		}
	}
}

// Remove drops the items for which match is true (and their marks), in
// one pass however many they are, and keeps the selection on screen.
func (m *Model[T]) Remove(match func(T) bool) {
	kept := m.items[:0:0]
	for _, it := range m.items {
		if !match(it) {
			kept = append(kept, it)
		} else if m.key != nil {
			delete(m.marked, m.key(it))
		}
	}
	m.items = kept
	m.refilter()
}

// refilter rebuilds the rows shown, keeping the selection on the item it
// was on if it is still shown.
func (m *Model[T]) refilter() {
	m.vis = m.vis[:0]
	for i, it := range m.items {
		if m.matches(it) {
			m.vis = append(m.vis, i)
		}
	}
	m.scrollToSel()
}

func (m *Model[T]) scrollToSel() {
	m.sel = max(0, min(m.sel, len(m.vis)-1))
	rows := m.rows()
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+rows {
		m.top = m.sel - rows + 1
	}
	m.top = max(0, min(m.top, len(m.vis)-rows))
}

// EnableMarks lets items be marked; key identifies an item (it must stay
// the same across reloads), size gives what it weighs for the footer
// ("3 marked, 1.2 MiB"; nil: not shown).
func (m *Model[T]) EnableMarks(key func(T) string, size func(T) int64) {
	m.key, m.size, m.marked = key, size, map[string]bool{}
}

// Mark marks the selected item, or unmarks it, and moves down.
func (m *Model[T]) Mark() tea.Cmd {
	if m.key == nil || len(m.vis) == 0 {
		return nil
	}
	m.status = "" // the footer counts the marks
	k := m.key(m.Selected())
	if m.marked[k] {
		delete(m.marked, k)
		m.markAll = false
	} else {
		m.marked[k] = true
	}
	m.sel++
	return m.Scroll()
}

// MarkAll marks every item shown, and those of the pages still to come.
func (m *Model[T]) MarkAll() tea.Cmd {
	if m.key == nil {
		return nil
	}
	m.status = ""
	for _, i := range m.vis {
		m.marked[m.key(m.items[i])] = true
	}
	m.markAll = m.filter == ""
	return m.More()
}

// Unmark removes every mark.
func (m *Model[T]) Unmark() {
	m.status = ""
	clear(m.marked)
	m.markAll = false
}

// Marked is the marked items that are shown, in order.
func (m Model[T]) Marked() []T {
	var out []T
	if len(m.marked) == 0 {
		return nil
	}
	for _, i := range m.vis {
		if m.marked[m.key(m.items[i])] {
			out = append(out, m.items[i])
		}
	}
	return out
}

// Targets is what an action acts on: the marked items shown, or else the
// selected one (none when nothing is shown).
func (m Model[T]) Targets() []T {
	if marked := m.Marked(); len(marked) > 0 {
		return marked
	}
	if len(m.vis) == 0 {
		return nil
	}
	return []T{m.Selected()}
}

// EnableFilter lets the list be filtered by what text says of an item
// (smart case: the query matches case-blind unless it has a capital).
func (m *Model[T]) EnableFilter(text func(T) string) {
	m.text = text
	in := textinput.New()
	in.Prompt = "/"
	in.PromptStyle = m.st.Accent
	in.TextStyle = m.st.R.NewStyle()
	in.Cursor.Style = m.st.R.NewStyle().Reverse(true)
	in.Cursor.TextStyle = m.st.R.NewStyle()
	in.Cursor.SetMode(cursor.CursorStatic)
	m.input = in
}

// Filtering reports that the filter's input has the keys: the screen must
// then pass it every key (FilterKey).
func (m Model[T]) Filtering() bool { return m.filtering }

// Filter is the filter in force ("" for none).
func (m Model[T]) Filter() string { return m.filter }

// StartFilter gives the keys to the filter's input.
func (m *Model[T]) StartFilter() {
	if m.text == nil {
		return
	}
	m.filtering = true
	m.status = ""
	m.input.SetValue(m.filter)
	m.input.CursorEnd()
	m.input.Focus()
}

// FilterKey edits the filter as it is typed: enter keeps it and gives the
// keys back to the list, esc clears it.
func (m *Model[T]) FilterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEnter:
		m.filtering = false
		m.input.Blur()
		return nil
	case tea.KeyEsc:
		m.filtering = false
		m.input.Blur()
		m.ClearFilter()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != m.filter {
		m.filter = v
		m.markAll = false
		m.refilter()
		return tea.Batch(cmd, m.More())
	}
	return cmd
}

// ClearFilter removes the filter, and reports whether there was one.
func (m *Model[T]) ClearFilter() bool {
	if m.filter == "" {
		return false
	}
	m.filter = ""
	m.input.SetValue("")
	m.refilter()
	return true
}

func (m Model[T]) matches(it T) bool {
	if m.filter == "" || m.text == nil {
		return true
	}
	t, q := m.text(it), m.filter
	if strings.ToLower(q) == q {
		t = strings.ToLower(t)
	}
	return strings.Contains(t, q)
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

// Progress says how far the operation Start began has got.
func (m *Model[T]) Progress(what string) {
	if m.busy != "" {
		m.busy = what
	}
}

// Stop ends the operation Start began.
func (m *Model[T]) Stop() { m.busy = "" }

// LoadErr is why the last page could not be loaded (nil if it was).
func (m Model[T]) LoadErr() error { return m.loadErr }

// Busy reports whether an operation is under way: one at a time, so that
// the list does not move under a request.
func (m Model[T]) Busy() bool { return m.busy != "" }

// SetStatus shows s in the status line, as a success when ok and as an
// error otherwise; "" clears it.
func (m *Model[T]) SetStatus(s string, ok bool) { m.status, m.statusOK = s, ok }

// Count says how many items there are, for the title: "" before the first
// page, "1 <one>", "N <many>", or "N+ <many>" while more pages remain; with
// a filter, "3 of N <many>".
func (m Model[T]) Count(one, many string) string {
	if m.filter != "" && m.loaded {
		more := ""
		if m.next != "" {
			more = "+"
		}
		return fmt.Sprintf("%s of %s%s %s", human.Count(len(m.vis)), human.Count(len(m.items)), more, many)
	}
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
	// Row draws an item, the selected one with the cursor, a marked one
	// marked.
	Row  func(it T, selected, marked bool) string
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
		out = append(out, m.errLines(m.loadErr.Error()+retryHint(m.loadErr))...)
	case len(m.items) == 0:
		out = append(out, "", s.Empty)
	case len(m.vis) == 0:
		out = append(out, "", m.st.Muted.Render("Nothing matches the filter (esc clears it)."))
	default:
		for i := m.top; i < min(len(m.vis), m.top+rows); i++ {
			it := m.items[m.vis[i]]
			out = append(out, s.Row(it, i == m.sel, m.key != nil && m.marked[m.key(it)]))
		}
	}
	for len(out) < rows+2 {
		out = append(out, "")
	}
	// help.Model lets a line overflow when an ellipsis would not fit: cut it.
	out = append(out[:rows+2], m.statusLine(), ansi.Truncate(m.help.View(s.Keys), m.w, "…"))
	v := strings.Join(out, "\n")
	if m.dlg != nil {
		v = dialog.Overlay(v, m.dlg.View(), m.w, m.h)
	}
	return v
}

// retryHint says how to try again after err, unless err says that trying
// again cannot help (a Final method that reports true: a refusal).
func retryHint(err error) string {
	var final interface{ Final() bool }
	if errors.As(err, &final) && final.Final() {
		return ""
	}
	return " — ctrl+r to retry"
}

// Brief is b shown as k and desc, for a help line that must fit in 80
// columns (the full help keeps the long words).
func Brief(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
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
	case m.filtering:
		m.input.Width = max(1, m.w-3)
		return m.input.View()
	case m.status == "":
		return m.st.Muted.Render(ansi.Truncate(m.footer(), m.w, "…"))
	case m.statusOK:
		return m.st.StatusOK.Render(ansi.Truncate(m.status, m.w, "…"))
	}
	return m.st.StatusErr.Render(ansi.Truncate(dialog.Sanitize(m.status), m.w, "…"))
}

// footer says what is marked and filtered, when nothing else is said.
func (m Model[T]) footer() string {
	var parts []string
	if marked := m.Marked(); len(marked) > 0 {
		s := human.Count(len(marked)) + " marked"
		if m.size != nil {
			var n int64
			for _, it := range marked {
				n += m.size(it)
			}
			s += ", " + human.Bytes(n)
		}
		parts = append(parts, s)
	}
	if m.filter != "" {
		parts = append(parts, "filter /"+dialog.Sanitize(m.filter)+" (esc clears)")
	}
	return strings.Join(parts, " · ")
}
