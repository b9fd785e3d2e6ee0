package filelist

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/strata-storage/strata/tui/style"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

func TestOpenFolder(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	// The frame's footer reaches the terminal once the page is in.
	teatest.WaitFor(t, tt.tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("items")) },
		teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
	s := tt.idle()
	if len(s.opened) != 1 || s.opened[0] != (OpenedMsg{Source: "Test", Dir: "/home"}) {
		t.Errorf("opened = %v", s.opened)
	}
	golden(t, "open /home", s.view)
}

func TestNavigateDownUp(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	first := tt.idle()
	tt.press("j", "j", "down")
	moved := tt.snap()
	if !strings.HasPrefix(moved.cur.Name, "evil") {
		t.Fatalf("cursor on %q", moved.cur.Name)
	}
	tt.press("k", "up", "up")
	if c := tt.snap().cur.Name; c != "ABOUT.md" {
		t.Fatalf("cursor on %q", c)
	}
	tt.press("j")
	tt.press("j", "enter")
	in := tt.waitFor("docs to open", func(s snap) bool { return len(s.opened) == 2 && !s.loading })
	tt.press("j")
	tt.press("h")
	back := tt.waitFor("back in /home", func(s snap) bool { return len(s.opened) == 3 && !s.loading })
	if back.cur.Name != "docs" {
		t.Errorf("back: cursor on %q, want docs", back.cur.Name)
	}
	tt.press("l") // the memo of /home/docs: cursor on b.txt again
	again := tt.waitFor("docs again", func(s snap) bool { return len(s.opened) == 4 && !s.loading })
	if again.cur.Name != "b.txt" {
		t.Errorf("docs again: cursor on %q, want b.txt", again.cur.Name)
	}
	tt.press("enter")
	act := tt.waitFor("activate", func(s snap) bool { return len(s.activated) == 1 })
	if a := act.activated[0]; a.Item.Path != "/home/docs/b.txt" || a.Source != "Test" {
		t.Errorf("activated %+v", a)
	}
	golden(t, "open", first.view, "j j down", moved.view, "into docs/", in.view, "h: back, cursor on docs/", back.view)
}

func TestFilterAsYouType(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	tt.idle()
	tt.press("/", "t", "x")
	typing := tt.idle()
	if !typing.filtering {
		t.Fatal("not filtering")
	}
	tt.press("t")
	narrowed := tt.idle()
	if !strings.HasPrefix(narrowed.cur.Name, "evil") {
		t.Errorf("the cursor should go to the first match, is on %q", narrowed.cur.Name)
	}
	tt.press("enter")
	applied := tt.idle()
	if applied.filtering {
		t.Fatal("still filtering after enter")
	}
	tt.press("/", "backspace", "backspace", "backspace", "A", "B")
	upper := tt.idle() // smart case: capitals match exactly
	tt.press("esc")
	cleared := tt.idle()
	golden(t, "/tx", typing.view, "/txt", narrowed.view, "enter", applied.view, "/AB (smart case)", upper.view, "esc", cleared.view)
}

func TestSortBySize(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	tt.idle()
	tt.press("s")
	size := tt.idle()
	if size.cur.Name != "ABOUT.md" {
		t.Errorf("the cursor should stay on its entry, is on %q", size.cur.Name)
	}
	tt.press("S")
	rev := tt.idle()
	tt.press("s")
	tm := tt.idle()
	golden(t, "s: by size", size.view, "S: reversed", rev.view, "s: by time (reversed)", tm.view)
}

func TestHiddenToggle(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	hidden := tt.idle()
	tt.press(".")
	shown := tt.idle()
	tt.press(".")
	again := tt.idle()
	if again.view != hidden.view {
		t.Error("toggling twice changed the view")
	}
	golden(t, "default: hidden", hidden.view, ". shows them", shown.view)
}

func TestSelectionCounts(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	tt.idle()
	tt.press(" ", " ") // mark ABOUT.md and archive.tar.gz
	two := tt.idle()
	if got := names(two.selected); !slices.Equal(got, []string{"ABOUT.md", "archive.tar.gz"}) {
		t.Errorf("selected %v", got)
	}
	tt.press("ctrl+a")
	all := tt.idle()
	if len(all.selected) != 9 {
		t.Errorf("ctrl+a marked %d, want the 9 shown", len(all.selected))
	}
	tt.press("U", "g", "j", " ", "*")
	inv := tt.idle()
	if len(inv.selected) != 8 || slices.Contains(names(inv.selected), "archive.tar.gz") {
		t.Errorf("inverted: %v", names(inv.selected))
	}
	tt.press("U")
	none := tt.idle()
	if got := names(none.selected); !slices.Equal(got, []string{none.cur.Name}) {
		t.Errorf("with no marks Selected is the current item, got %v", got)
	}
	golden(t, "two marked", two.view, "ctrl+a", all.view, "U, mark one, * inverts", inv.view, "U", none.view)
}

func TestBigFolder(t *testing.T) {
	src := newTestSource()
	src.big["/big"] = 100_000
	src.gate = make(chan struct{}, 1)
	src.gate <- struct{}{} // the first page only
	tt := start(t, newList(src, "/big"), 72, 14)
	first := tt.idle()
	if n := src.callCount(); n != 1 || first.loaded != PageSize {
		t.Fatalf("first screen: %d calls, %d loaded", n, first.loaded)
	}
	tt.press("G")
	loading := tt.snap()
	if !loading.loading {
		t.Fatal("G did not load")
	}
	close(src.gate)
	end := tt.waitFor("the end", func(s snap) bool { return s.done && !s.loading })
	if end.loaded != 100_000 || end.cur.Name != "e099999.dat" {
		t.Fatalf("end: %d loaded, cursor on %q", end.loaded, end.cur.Name)
	}
	if n, want := src.callCount(), 1+(100_000-PageSize+BulkPageSize-1)/BulkPageSize; n != want {
		t.Errorf("%d calls, want %d", n, want)
	}
	tt.press("g")
	top := tt.snap()
	golden(t, "first page", first.view, "G: loading", loading.view, "G: the end", end.view, "g", top.view)
}

func TestNarrowAndResize(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 80, 24)
	full := tt.idle()
	tt.press("j", " ", "j")
	tt.tm.Send(tea.WindowSizeMsg{Width: 40, Height: 22})
	half := tt.snap()
	tt.tm.Send(tea.WindowSizeMsg{Width: 26, Height: 8})
	small := tt.snap()
	tt.tm.Send(tea.WindowSizeMsg{Width: 120, Height: 10})
	wide := tt.snap()
	for _, s := range []snap{full, half, small, wide} {
		checkBox(t, s.view)
	}
	golden(t, "80x24", full.view, "40x22 (a pane of 80x24)", half.view, "26x8", small.view, "120x10", wide.view)
}

func TestPageError(t *testing.T) {
	src := fixture()
	src.fail[1] = errors.New("/home: server unavailable")
	tt := start(t, newList(src, "/home"), 60, 10)
	failed := tt.idle()
	if failed.err == nil {
		t.Fatal("no error")
	}
	tt.press("R")
	ok := tt.idle()
	if ok.err != nil || ok.loaded == 0 {
		t.Fatalf("retry: %v", ok.err)
	}

	big := newTestSource()
	big.big["/big"] = 3000
	big.fail[2] = errors.New("connection reset")
	tt2 := start(t, newList(big, "/big"), 60, 10)
	tt2.idle()
	tt2.press("G")
	mid := tt2.idle()
	if mid.err == nil || mid.loaded != PageSize {
		t.Fatalf("mid: err %v, %d loaded", mid.err, mid.loaded)
	}
	tt2.press("R")
	resumed := tt2.waitFor("the rest", func(s snap) bool { return s.done && !s.loading })
	if resumed.err != nil || resumed.loaded != 3000 {
		t.Fatalf("resumed: err %v, %d loaded", resumed.err, resumed.loaded)
	}
	if c := big.callList(); c[2].cursor != "500" {
		t.Errorf("retry re-read from %q, want the failed page", c[2].cursor)
	}
	golden(t, "first page fails", failed.view, "R", ok.view, "a later page fails", mid.view)
}

func TestMouse(t *testing.T) {
	tt := start(t, newList(fixture(), "/home"), 72, 14)
	tt.idle()
	tt.tm.Send(tea.MouseMsg{X: 10, Y: 5, Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	if c := tt.snap().cur.Name; !strings.HasPrefix(c, "evil") {
		t.Errorf("wheel: cursor on %q", c)
	}
	tt.tm.Send(tea.MouseMsg{X: 10, Y: RowsTop + 1, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	clicked := tt.snap()
	if clicked.cur.Name != "archive.tar.gz" {
		t.Errorf("click: cursor on %q", clicked.cur.Name)
	}
	tt.tm.Send(tea.MouseMsg{X: 10, Y: 12, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft}) // below the rows
	tt.tm.Send(tea.MouseMsg{X: 10, Y: RowsTop + 1, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	s := tt.waitFor("activate", func(s snap) bool { return len(s.activated) == 1 })
	if s.activated[0].Item.Name != "archive.tar.gz" {
		t.Errorf("activated %q", s.activated[0].Item.Name)
	}
	golden(t, "wheel down, click the second row", clicked.view)
}

// TestColour checks the styled frame (256 colours, dark background): the
// cursor bar, folder and mark colours, the focused frame.
func TestColour(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	r.SetHasDarkBackground(true)
	m := New(fixture(), style.New(r), "/home")
	m.loc = time.UTC
	m.Focus(true)
	m.SetSize(60, 8)
	m, _ = drive(m, m.Init())
	m, _ = press(m, "j", " ")
	focused := m.View()
	m.Focus(false)
	golden(t, "focused", focused, "not focused", m.View())
}
