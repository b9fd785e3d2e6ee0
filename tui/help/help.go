// Package help is the TUI's help screen: every key binding of the app,
// grouped by section, laid out in as many columns as the width allows and
// scrollable when taller than the screen.
package help

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/style"
)

// Section is one group of bindings under a title ("Files", "Transfers").
// Bindings without help text are left out.
type Section struct {
	Title    string
	Bindings []key.Binding
}

// ClosedMsg says the user closed the help screen.
type ClosedMsg struct{}

// KeyMap is the help screen's own keys.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Close    key.Binding
}

// DefaultKeyMap returns the help screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "f", " "), key.WithHelp("pgdn/f", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "bottom")),
		Close:    key.NewBinding(key.WithKeys("esc", "?", "q"), key.WithHelp("esc/?/q", "close help")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down, k.Close} }

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Top, k.Bottom, k.Close}}
}

// gap is the space between columns.
const gap = 4

// Model is the help screen.
type Model struct {
	st       *style.Styles
	keys     KeyMap
	sections []Section
	w, h     int
	lines    []string // the laid-out content, rebuilt on size or section change
	offset   int      // first content line shown
}

// New builds the help screen for sections.
func New(st *style.Styles, sections []Section) Model {
	m := Model{st: st, keys: DefaultKeyMap(), sections: sections, w: 80, h: 24}
	m.layout()
	return m
}

// KeyMap returns the help screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// SetSections replaces what the screen lists (bindings enabled or renamed
// since) and scrolls back to the top.
func (m *Model) SetSections(sections []Section) {
	m.sections = sections
	m.offset = 0
	m.layout()
}

// SetSize sets the screen size; the help fills all of it.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(1, w), max(3, h)
	m.layout()
	m.clamp()
}

// Update scrolls and closes.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	page := m.viewHeight()
	switch {
	case key.Matches(k, m.keys.Close):
		return m, func() tea.Msg { return ClosedMsg{} }
	case key.Matches(k, m.keys.Up):
		m.offset--
	case key.Matches(k, m.keys.Down):
		m.offset++
	case key.Matches(k, m.keys.PageUp):
		m.offset -= page
	case key.Matches(k, m.keys.PageDown):
		m.offset += page
	case key.Matches(k, m.keys.Top):
		m.offset = 0
	case key.Matches(k, m.keys.Bottom):
		m.offset = len(m.lines)
	}
	m.clamp()
	return m, nil
}

// viewHeight is the number of content lines shown: the title and the
// footer take one line each.
func (m Model) viewHeight() int { return max(1, m.h-2) }

func (m *Model) clamp() {
	m.offset = max(0, min(m.offset, len(m.lines)-m.viewHeight()))
}

// View draws the screen: exactly h lines of at most w cells.
func (m Model) View() string {
	vh := m.viewHeight()
	end := min(len(m.lines), m.offset+vh)
	pos, hints := "", []string{"esc/?/q close", "esc close"}
	if len(m.lines) > vh {
		pos = fmt.Sprintf("%d–%d of %d", m.offset+1, end, len(m.lines))
		hints = []string{"↑/↓ pgup/pgdn scroll · esc/?/q close", "↑/↓ scroll · esc close", "esc close"}
	}
	hint := hints[len(hints)-1]
	for _, h := range hints {
		if lipgloss.Width(h) <= m.w {
			hint = h
			break
		}
	}
	out := make([]string, 0, m.h)
	out = append(out, m.bar(m.st.Header.Render("Keys"), m.st.Muted.Render(pos)))
	out = append(out, m.lines[m.offset:end]...)
	for len(out) < vh+1 {
		out = append(out, "")
	}
	out = append(out, m.bar(m.st.Muted.Render(hint), ""))
	return strings.Join(out, "\n")
}

// bar puts left and right on one line of the screen's width.
func (m Model) bar(left, right string) string {
	space := m.w - lipgloss.Width(left) - lipgloss.Width(right)
	if space < 1 {
		return ansi.Truncate(left, m.w, "…")
	}
	return left + strings.Repeat(" ", space) + right
}

// block is one section laid out: its lines and their width.
type block struct {
	lines []string
	width int
}

func (m *Model) blocks() []block {
	var out []block
	for _, s := range m.sections {
		type row struct{ k, d string }
		var rows []row
		keyW := 0
		for _, b := range s.Bindings {
			h := b.Help()
			if h.Key == "" && h.Desc == "" {
				continue
			}
			rows = append(rows, row{h.Key, h.Desc})
			keyW = max(keyW, lipgloss.Width(h.Key))
		}
		if len(rows) == 0 {
			continue
		}
		b := block{lines: []string{m.st.PaneTitle.Render(s.Title)}, width: lipgloss.Width(s.Title)}
		for _, r := range rows {
			pad := strings.Repeat(" ", keyW-lipgloss.Width(r.k))
			line := m.st.Key.Render(r.k) + pad + "  " + m.st.KeyDesc.Render(r.d)
			b.lines = append(b.lines, line)
			b.width = max(b.width, lipgloss.Width(line))
		}
		out = append(out, b)
	}
	return out
}

// layout fills the sections into as many columns of equal width as fit,
// in order, each column about as tall as the others.
func (m *Model) layout() {
	blocks := m.blocks()
	if len(blocks) == 0 {
		m.lines = []string{m.st.Muted.Render("No keys.")}
		return
	}
	colW, total := 0, 0
	for _, b := range blocks {
		colW = max(colW, b.width)
		total += len(b.lines) + 1 // a blank line after each section
	}
	colW = min(colW, m.w)
	n := max(1, min(len(blocks), (m.w+gap)/(colW+gap)))
	target := (total + n - 1) / n
	cols := make([][]string, 1, n)
	for _, b := range blocks {
		c := len(cols) - 1
		if len(cols[c]) > 0 && len(cols[c])+len(b.lines) > target && len(cols) < n {
			cols = append(cols, nil)
			c++
		}
		if len(cols[c]) > 0 {
			cols[c] = append(cols[c], "")
		}
		for _, l := range b.lines {
			cols[c] = append(cols[c], ansi.Truncate(l, colW, "…"))
		}
	}
	height := 0
	for _, c := range cols {
		height = max(height, len(c))
	}
	m.lines = make([]string, height)
	for i := range height {
		var b strings.Builder
		for j, c := range cols {
			cell := ""
			if i < len(c) {
				cell = c[i]
			}
			if j < len(cols)-1 {
				cell += strings.Repeat(" ", colW-lipgloss.Width(cell)+gap)
			}
			b.WriteString(cell)
		}
		m.lines[i] = strings.TrimRight(b.String(), " ")
	}
}
