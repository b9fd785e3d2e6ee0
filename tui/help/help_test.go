package help

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/tuitest"
)

func b(keys, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(strings.Split(keys, "/")...), key.WithHelp(keys, desc))
}

// appSections is a help as big as the app's.
func appSections() []Section {
	return []Section{
		{"Navigation", []key.Binding{b("↑/k", "up"), b("↓/j", "down"), b("enter", "open folder"), b("backspace", "parent folder"),
			b("tab", "other pane"), b("g", "jump to path"), b("home", "first entry"), b("end", "last entry")}},
		{"Selection", []key.Binding{b("space", "mark / unmark"), b("a", "mark all"), b("A", "unmark all")}},
		{"Files", []key.Binding{b("n", "new folder"), b("F2", "rename"), b("m", "move"), b("c", "copy"), b("d", "delete to trash"),
			b("i", "info panel"), key.NewBinding(key.WithKeys("x"))}}, // no help text: left out
		{"Transfers", []key.Binding{b("u", "upload"), b("D", "download"), b("p", "pause / resume"), b("ctrl+c", "cancel transfer")}},
		{"Views", []key.Binding{b("t", "trash"), b("v", "versions"), b("?", "help"), b("q", "quit")}},
	}
}

type harness struct {
	m      Model
	closed bool
}

func (h harness) Init() tea.Cmd { return nil }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width, msg.Height)
		return h, nil
	case ClosedMsg:
		h.closed = true
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h harness) View() string { return h.m.View() }

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
		teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func checkFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d wide (max %d): %q", i, lw, w, l)
		}
	}
}

func TestGoldenHelp(t *testing.T) {
	tm := teatest.NewTestModel(t, harness{m: New(tuitest.Styles(), appSections())}, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "cancel transfer")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	h := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	if !h.closed {
		t.Fatal("esc did not close")
	}
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenHelpScrolled(t *testing.T) {
	tm := teatest.NewTestModel(t, harness{m: New(tuitest.Styles(), appSections())}, teatest.WithInitialTermSize(80, 24))
	waitFor(t, tm, "cancel transfer")
	tm.Send(tea.WindowSizeMsg{Width: 30, Height: 12}) // one column, scrolls
	waitFor(t, tm, "of 34")
	for range 12 {
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'j'}})
	}
	waitFor(t, tm, "13–22 of 34")
	_ = tm.Quit()
	h := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	checkFits(t, h.View(), 30, 12)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestEveryKeyListed(t *testing.T) {
	m := New(tuitest.Styles(), appSections())
	for _, size := range [][2]int{{80, 24}, {120, 40}, {30, 10}, {200, 8}} {
		m.SetSize(size[0], size[1])
		m, _ = m.Update(tea.KeyMsg{Type: tea.KeyHome})
		var all strings.Builder
		for {
			all.WriteString(m.View())
			before := m.offset
			m, _ = m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
			if m.offset == before {
				break
			}
		}
		for _, s := range appSections() {
			for _, bd := range s.Bindings {
				if h := bd.Help(); h.Key != "" && !strings.Contains(all.String(), h.Desc) {
					t.Errorf("%dx%d: %q (%s) not shown", size[0], size[1], h.Key, h.Desc)
				}
			}
		}
		checkFits(t, m.View(), size[0], size[1])
	}
}

func TestColumns(t *testing.T) {
	m := New(tuitest.Styles(), appSections())
	m.SetSize(120, 40)
	first := m.lines[0]
	for _, title := range []string{"Navigation", "Files", "Transfers"} {
		if !strings.Contains(first, title) && !strings.Contains(strings.Join(m.lines, "\n"), title) {
			t.Errorf("%s missing", title)
		}
	}
	if !strings.Contains(first, "Navigation") || strings.Count(first, "  ") == 0 || len(m.lines) > 15 {
		t.Errorf("not laid out in columns at 120 wide (%d lines):\n%s", len(m.lines), strings.Join(m.lines, "\n"))
	}
	m.SetSize(30, 40)
	if len(m.lines) < 30 {
		t.Errorf("one column expected at 30 wide, got %d lines", len(m.lines))
	}
}

func TestScrollAndClose(t *testing.T) {
	m := New(tuitest.Styles(), appSections())
	m.SetSize(40, 10)
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyEnd})
	if m.offset != len(m.lines)-8 {
		t.Errorf("end: offset %d of %d lines", m.offset, len(m.lines))
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyDown})
	if m.offset != len(m.lines)-8 {
		t.Errorf("scrolled past the end: %d", m.offset)
	}
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyHome})
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyUp})
	if m.offset != 0 {
		t.Errorf("scrolled before the top: %d", m.offset)
	}
	m.SetSize(200, 100) // everything fits: the offset follows
	if m.offset != 0 {
		t.Errorf("offset %d after growing", m.offset)
	}
	for _, k := range []tea.KeyMsg{{Type: tea.KeyEsc}, {Type: tea.KeyRunes, Runes: []rune("?")}, {Type: tea.KeyRunes, Runes: []rune("q")}} {
		_, cmd := m.Update(k)
		if cmd == nil || cmd() != (ClosedMsg{}) {
			t.Errorf("%s does not close", k)
		}
	}
	if v := New(tuitest.Styles(), nil).View(); !strings.Contains(v, "No keys.") {
		t.Errorf("empty help:\n%s", v)
	}
}
