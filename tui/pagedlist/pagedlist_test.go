package pagedlist_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/tuitest"
)

// wrapped is a screen's message holding one of the list's.
type wrapped struct{ msg pagedlist.Msg[int] }

var nav = pagedlist.Nav{
	Up:       key.NewBinding(key.WithKeys("up")),
	Down:     key.NewBinding(key.WithKeys("down")),
	PageUp:   key.NewBinding(key.WithKeys("pgup")),
	PageDown: key.NewBinding(key.WithKeys("pgdown")),
	Top:      key.NewBinding(key.WithKeys("home")),
	Bottom:   key.NewBinding(key.WithKeys("end")),
}

type noKeys struct{}

func (noKeys) ShortHelp() []key.Binding  { return nil }
func (noKeys) FullHelp() [][]key.Binding { return nil }

// screen holds a list as the TUI's screens do.
type screen struct{ list pagedlist.Model[int] }

func (s *screen) Init() tea.Cmd    { return s.list.Init() }
func (s *screen) SetSize(w, h int) { s.list.SetSize(w, h) }
func (s screen) Update(msg tea.Msg) (screen, tea.Cmd) {
	w, ok := msg.(wrapped)
	if !ok {
		return s, nil
	}
	var cmd tea.Cmd
	s.list, cmd = s.list.Update(w.msg)
	return s, cmd
}

func (s screen) View() string {
	m := s.list
	return m.View(pagedlist.Screen[int]{
		Title:   m.Title("Numbers", m.Count("number", "numbers")),
		Header:  "N",
		Loading: "Loading…",
		Empty:   "None.",
		Row: func(n int, selected, marked bool) string {
			mark := " "
			if marked {
				mark = "*"
			}
			if selected {
				return fmt.Sprintf(">%s%d", mark, n)
			}
			return fmt.Sprintf(" %s%d", mark, n)
		},
		Keys: noKeys{},
	})
}

// numbers is a screen listing 0..n-1 paged by size, counting its loads.
func numbers(n, size int, loads *int, fail *error) screen {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	load := func(cursor string) ([]int, string, error) {
		*loads++
		if *fail != nil {
			return nil, "", *fail
		}
		items, next := pagedlisttest.Page(all, cursor, size)
		return items, next, nil
	}
	wrap := func(msg pagedlist.Msg[int]) tea.Msg { return wrapped{msg} }
	return screen{pagedlist.New(tuitest.Styles(), nav, load, wrap)}
}

func isTick(msg tea.Msg) bool {
	w, ok := msg.(wrapped)
	return ok && w.msg.IsTick()
}

// drain runs cmd and what it leads to, feeding the list its pages.
func drain(s screen, cmd tea.Cmd) screen { return pagedlisttest.Drain(s, cmd, isTick) }

func TestPagesAsScrolled(t *testing.T) {
	var loads int
	var fail error
	s := numbers(25, 5, &loads, &fail)
	s.SetSize(40, 9) // 5 rows
	s = drain(s, s.Init())
	if loads != 2 || s.list.Len() != 10 || !strings.Contains(s.View(), "10+ numbers") {
		t.Fatalf("%d loads, %d items up front\n%s", loads, s.list.Len(), s.View())
	}
	for i := range 5 {
		s.list.Navigate(tea.KeyMsg{Type: tea.KeyDown})
		s = drain(s, s.list.Scroll())
		if want := 2 + i/4; loads != want {
			t.Fatalf("at %d: %d loads, want %d", s.list.Index(), loads, want)
		}
	}
	if s.list.Len() != 15 || s.list.Index() != 5 {
		t.Errorf("after five downs: %d items, selection %d", s.list.Len(), s.list.Index())
	}
	for range 4 {
		s.list.Navigate(tea.KeyMsg{Type: tea.KeyEnd})
		s = drain(s, s.list.Scroll())
	}
	if v := s.View(); s.list.Len() != 25 || s.list.Index() != 24 || !strings.Contains(v, "25 numbers") || !strings.Contains(v, "> 24") {
		t.Errorf("end: %d items, selection %d\n%s", s.list.Len(), s.list.Index(), v)
	}
	pagedlisttest.CheckFits(t, s.View(), 40, 9)
	s.list.Remove(func(n int) bool { return n == 24 })
	if s.list.Len() != 24 || s.list.Index() != 23 {
		t.Errorf("after removing the last: %d items, selection %d", s.list.Len(), s.list.Index())
	}
	if s.list.Navigate(tuitest.Key("x")) {
		t.Error("x is a Nav key")
	}
}

// Select finds an item among those shown and keeps it on screen.
func TestSelect(t *testing.T) {
	var loads int
	var fail error
	s := marked(numbers(25, 25, &loads, &fail))
	s.SetSize(40, 9) // 5 rows
	s = drain(s, s.Init())
	if !s.list.Select(func(n int) bool { return n == 17 }) || s.list.Index() != 17 || !strings.Contains(s.View(), "> 17") {
		t.Fatalf("17 not selected (at %d):\n%s", s.list.Index(), s.View())
	}
	s.list.StartFilter()
	for _, k := range []string{"2"} {
		s.list.FilterKey(tuitest.Key(k))
	}
	if s.list.Select(func(n int) bool { return n == 17 }) {
		t.Error("selected an item the filter hides")
	}
	if !s.list.Select(func(n int) bool { return n == 20 }) || s.list.Selected() != 20 {
		t.Errorf("20 not selected under the filter: %d", s.list.Selected())
	}
}

func TestStalePageAndError(t *testing.T) {
	var loads int
	fail := errors.New("server unavailable")
	s := numbers(3, 10, &loads, &fail)
	s = drain(s, s.Init())
	if s.list.Loaded() || !strings.Contains(s.View(), "server unavailable — ctrl+r to retry") {
		t.Fatalf("error not in place:\n%s", s.View())
	}
	fail = nil
	first := s.Init()
	second := s.list.Reload()
	s = drain(s, first)
	if s.list.Loaded() {
		t.Fatal("the superseded page was taken")
	}
	s = drain(s, second)
	if s.list.Len() != 3 || !strings.Contains(s.View(), "3 numbers") {
		t.Errorf("%d items\n%s", s.list.Len(), s.View())
	}
}

// final is an error that trying again cannot mend.
type final struct{}

func (final) Error() string { return "you may not" }
func (final) Final() bool   { return true }

// A refusal is not offered a retry; other errors are.
func TestFinalError(t *testing.T) {
	var loads int
	var fail error = fmt.Errorf("list: %w", final{})
	s := numbers(3, 10, &loads, &fail)
	s = drain(s, s.Init())
	if v := s.View(); !strings.Contains(v, "list: you may not") || strings.Contains(v, "retry") {
		t.Errorf("refusal:\n%s", v)
	}
}

func TestBusyStatusAndConfirm(t *testing.T) {
	var loads int
	var fail error
	s := numbers(1, 10, &loads, &fail)
	s = drain(s, s.Init())
	if !strings.Contains(s.View(), "1 number") {
		t.Errorf("count:\n%s", s.View())
	}
	m := &s.list
	m.Open(dialog.NewConfirm(tuitest.Styles(), "q", "Question", "Sure?"))
	if m.Confirmed(dialog.ConfirmedMsg{ID: "other", Yes: true}, "q") || m.Dialog() == nil {
		t.Error("another dialog's answer was taken")
	}
	if m.Confirmed(dialog.ConfirmedMsg{ID: "q"}, "q") || m.Dialog() != nil {
		t.Error("no did not close the dialog, or said yes")
	}
	m.Open(dialog.NewConfirm(tuitest.Styles(), "q", "Question", "Sure?"))
	if !m.Confirmed(dialog.ConfirmedMsg{ID: "q", Yes: true}, "q") || m.Dialog() != nil {
		t.Error("yes was not taken")
	}
	_ = m.Start("Working…", nil)
	if !m.Busy() || !strings.Contains(s.View(), "Working…") {
		t.Errorf("busy:\n%s", s.View())
	}
	m.Stop()
	m.SetStatus("Done.", true)
	if m.Busy() || !strings.Contains(s.View(), "Done.") {
		t.Errorf("status:\n%s", s.View())
	}
}

// marked makes a list of numbers markable (by the number, weighing 10
// bytes each) and filterable (by its decimal text).
func marked(s screen) screen {
	s.list.EnableMarks(func(n int) string { return fmt.Sprint(n) }, func(int) int64 { return 10 })
	s.list.EnableFilter(func(n int) string { return fmt.Sprint(n) })
	return s
}

func TestMarks(t *testing.T) {
	var loads int
	var fail error
	s := marked(numbers(25, 5, &loads, &fail))
	s.SetSize(40, 9)
	s = drain(s, s.Init())
	if got := s.list.Targets(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("targets without marks: %v", got)
	}
	s.list.SetStatus("Restored 3 entries.", true) // the last action's word gives way to the marks
	s = drain(s, s.list.Mark())                   // 0, then the cursor is on 1
	s.list.Navigate(tea.KeyMsg{Type: tea.KeyDown})
	s = drain(s, s.list.Mark()) // 2
	if got := s.list.Targets(); fmt.Sprint(got) != "[0 2]" || !strings.Contains(s.View(), "2 marked, 20 B") || !strings.Contains(s.View(), " *2") {
		t.Fatalf("targets %v\n%s", got, s.View())
	}
	s.list.Navigate(tea.KeyMsg{Type: tea.KeyUp})
	s = drain(s, s.list.Mark()) // 2 unmarked
	if got := s.list.Targets(); fmt.Sprint(got) != "[0]" {
		t.Fatalf("after unmarking: %v", got)
	}
	// Mark all marks the pages still to come, loading them.
	s = drain(s, s.list.MarkAll())
	if got := s.list.Targets(); len(got) != 25 || !s.list.Complete() {
		t.Fatalf("mark all: %d of %d loaded", len(got), s.list.Len())
	}
	s.list.Remove(func(n int) bool { return n%2 == 0 })
	if got := s.list.Targets(); len(got) != 12 || s.list.Len() != 12 {
		t.Errorf("after removing the evens: %v", got)
	}
	s.list.Unmark()
	if got := s.list.Targets(); len(got) != 1 || strings.Contains(s.View(), "marked") {
		t.Errorf("after unmark: %v\n%s", got, s.View())
	}
}

func TestFilter(t *testing.T) {
	var loads int
	var fail error
	s := marked(numbers(25, 5, &loads, &fail))
	s.SetSize(40, 9)
	s = drain(s, s.Init())
	s = drain(s, s.list.Mark()) // 0: hidden by the filter, so not a target
	s.list.StartFilter()
	for _, k := range []string{"1"} {
		s = drain(s, s.list.FilterKey(tuitest.Key(k)))
	}
	// The filter loads every page: 1, 10 to 19 and 21.
	if got := s.list.Shown(); got != 12 || !s.list.Complete() || !strings.Contains(s.View(), "12 of 25 numbers") {
		t.Fatalf("%d shown, complete %v\n%s", got, s.list.Complete(), s.View())
	}
	if !strings.Contains(s.View(), "/1") || !s.list.Filtering() {
		t.Errorf("the input is not shown:\n%s", s.View())
	}
	s = drain(s, s.list.FilterKey(tuitest.Key("enter")))
	if s.list.Filtering() || !strings.Contains(s.View(), "filter /1 (esc clears)") {
		t.Errorf("enter did not keep the filter:\n%s", s.View())
	}
	if got := s.list.Targets(); fmt.Sprint(got) != "[1]" {
		t.Errorf("targets %v: the hidden mark counts", got)
	}
	s = drain(s, s.list.MarkAll())
	if got := s.list.Targets(); len(got) != 12 {
		t.Errorf("mark all under a filter: %d", len(got))
	}
	s.list.StartFilter()
	s = drain(s, s.list.FilterKey(tuitest.Key("9")))
	if got := s.list.Shown(); got != 1 || !strings.Contains(s.View(), ">*19") {
		t.Errorf("/19: %d shown\n%s", got, s.View())
	}
	s = drain(s, s.list.FilterKey(tuitest.Key("esc")))
	if s.list.Shown() != 25 || s.list.Filter() != "" {
		t.Errorf("esc: %d shown", s.list.Shown())
	}
	if got := s.list.Targets(); len(got) != 13 {
		t.Errorf("all marks back: %d", len(got))
	}
	s.list.StartFilter()
	s = drain(s, s.list.FilterKey(tuitest.Key("x")))
	if !strings.Contains(s.View(), "Nothing matches the filter") || s.list.Targets() != nil {
		t.Errorf("no match:\n%s", s.View())
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		s     string
		w     int
		right bool
		want  string
	}{
		{"ab", 4, false, "ab  "},
		{"ab", 4, true, "  ab"},
		{"abcdef", 4, false, "abc…"},
	} {
		if got := pagedlist.Cell(tc.s, tc.w, tc.right); got != tc.want {
			t.Errorf("Cell(%q, %d, %v) = %q", tc.s, tc.w, tc.right, got)
		}
	}
}

// OnScreen is the rows drawn: it follows the selection and the filter.
func TestOnScreen(t *testing.T) {
	var loads int
	var fail error
	s := marked(numbers(25, 25, &loads, &fail))
	s.SetSize(40, 9) // 5 rows
	if got := s.list.OnScreen(); got != nil {
		t.Fatalf("before the first page: %v", got)
	}
	s = drain(s, s.Init())
	if got := fmt.Sprint(s.list.OnScreen()); got != "[0 1 2 3 4]" {
		t.Fatalf("first screen: %s", got)
	}
	for range 7 {
		s.list.Navigate(tea.KeyMsg{Type: tea.KeyDown})
		s = drain(s, s.list.Scroll())
	}
	if got := fmt.Sprint(s.list.OnScreen()); got != "[3 4 5 6 7]" {
		t.Errorf("at 7: %s\n%s", got, s.View())
	}
	s.list.StartFilter()
	s = drain(s, s.list.FilterKey(tuitest.Key("2")))
	if got := fmt.Sprint(s.list.OnScreen()); got != "[20 21 22 23 24]" {
		t.Errorf("filter /2: %s\n%s", got, s.View())
	}
}
