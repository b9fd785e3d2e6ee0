package dialog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/treecount"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
}

// press sends keys to m and returns the message its last command produced
// (nil if none).
func press(t *testing.T, m Model, keys ...string) (Model, tea.Msg) {
	t.Helper()
	var out tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(tuitest.Key(k))
		out = nil
		if cmd != nil {
			out = cmd()
		}
	}
	return m, out
}

// harness runs a dialog as a program over a fixed background, the way
// the parent overlays it, and quits on its answer.
type harness struct {
	m    Model
	init tea.Cmd
	w, h int
	got  []tea.Msg
}

func (h harness) Init() tea.Cmd { return h.init }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.w, h.h = msg.Width, msg.Height
		h.m.SetSize(msg.Width, msg.Height)
		return h, nil
	case ConfirmedMsg, InputMsg, ChoiceMsg:
		h.got = append(h.got, msg)
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h harness) View() string {
	var bg []string
	for i := range h.h {
		bg = append(bg, fmt.Sprintf(" background row %02d %s", i, strings.Repeat("·", max(0, h.w-20))))
	}
	return Overlay(strings.Join(bg, "\n"), h.m.View(), h.w, h.h)
}

func run(t *testing.T, h harness, w, ht int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, h, teatest.WithInitialTermSize(w, ht))
}

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), s) },
		teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// final quits the program if it still runs and returns its last model.
func final(t *testing.T, tm *teatest.TestModel) harness {
	t.Helper()
	_ = tm.Quit()
	return tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
}

// answered waits for the harness to quit on the dialog's answer.
func answered(t *testing.T, tm *teatest.TestModel) harness {
	t.Helper()
	return tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
}

func TestGoldenConfirm(t *testing.T) {
	st := tuitest.Styles()
	m := NewConfirm(st, "purge", "Delete for good", "Delete "+Quote("report.pdf")+" for good?\nThis cannot be undone.")
	m.SetDefault(1)
	tm := run(t, harness{m: m}, 80, 24)
	waitFor(t, tm, "cannot be undone")
	tm.Send(tuitest.Key("left")) // onto Yes
	waitFor(t, tm, "[Yes]")
	h := final(t, tm)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenTrashConfirm(t *testing.T) {
	st := tuitest.Styles()
	t.Run("counting", func(t *testing.T) {
		tm := run(t, harness{m: NewTrashConfirm(st, "del", 3, 2)}, 80, 24)
		waitFor(t, tm, "Counting")
		h := final(t, tm)
		teatest.RequireEqualOutput(t, []byte(h.View()))
	})
	t.Run("counted", func(t *testing.T) {
		f := remotetest.New()
		for i := range 3 {
			for j := range 4 {
				f.PutFile(fmt.Sprintf("/home/tester/d%d/f%d", i, j), make([]byte, 1000))
			}
		}
		f.PutFile("/home/tester/a.txt", []byte("hello"))
		f.PutFile("/home/tester/b.txt", []byte("world!"))
		paths := []string{"/home/tester/d0", "/home/tester/d1", "/home/tester/d2", "/home/tester/a.txt", "/home/tester/b.txt"}
		h := harness{m: NewTrashConfirm(st, "del", 3, 2), init: CountTreeCmd(context.Background(), f, "del", paths)}
		tm := run(t, h, 80, 24)
		waitFor(t, tm, "(14 files")
		tm.Send(tuitest.Key("y"))
		h = answered(t, tm)
		teatest.RequireEqualOutput(t, []byte(h.View()))
		if len(h.got) != 1 || h.got[0] != (ConfirmedMsg{ID: "del", Yes: true}) {
			t.Fatalf("answer %v", h.got)
		}
	})
}

func validName(s string) error {
	switch {
	case s == "":
		return errors.New("a name is needed")
	case strings.Contains(s, "/"):
		return errors.New("a name cannot contain /")
	}
	return nil
}

func TestGoldenInput(t *testing.T) {
	st := tuitest.Styles()
	m := NewInput(st, "rename", "Rename", "New name for "+Quote("notes.txt")+":", "notes.txt", validName)
	tm := run(t, harness{m: m}, 80, 24)
	waitFor(t, tm, "New name")
	tm.Type("/x")
	waitFor(t, tm, "cannot contain")
	tm.Send(tuitest.Key("enter")) // invalid: ignored
	h := final(t, tm)
	teatest.RequireEqualOutput(t, []byte(h.View()))
	if len(h.got) != 0 {
		t.Fatalf("an invalid value was submitted: %v", h.got)
	}
}

func TestGoldenChoice(t *testing.T) {
	st := tuitest.Styles()
	opts := []Option{{"Overwrite", "o"}, {"Skip", "s"}, {"Rename", "r"}, {"All", "a"}}
	m := NewChoice(st, "conflict", "Already there", Quote("a.txt")+" exists in /home/tester.", opts)
	tm := run(t, harness{m: m}, 80, 24)
	waitFor(t, tm, "exists in")
	tm.Send(tuitest.Key("tab"))
	waitFor(t, tm, "[s Skip]")
	h := final(t, tm)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenSmallScreen(t *testing.T) {
	st := tuitest.Styles()
	long := strings.Repeat("A question that goes on and on. ", 20)
	tm := run(t, harness{m: NewConfirm(st, "q", "Long", long)}, 80, 24)
	waitFor(t, tm, "on and on")
	tm.Send(tea.WindowSizeMsg{Width: 36, Height: 10})
	waitFor(t, tm, "…")
	h := final(t, tm)
	out := h.View()
	for i, l := range strings.Split(out, "\n") {
		if w := lipgloss.Width(l); w > 36 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	if n := strings.Count(out, "\n") + 1; n > 10 {
		t.Errorf("%d lines on a 10-line screen", n)
	}
	teatest.RequireEqualOutput(t, []byte(out))
}

func TestConfirmKeys(t *testing.T) {
	st := tuitest.Styles()
	for _, c := range []struct {
		keys []string
		yes  bool
	}{
		{[]string{"y"}, true},
		{[]string{"Y"}, true},
		{[]string{"n"}, false},
		{[]string{"esc"}, false},
		{[]string{"enter"}, true},
		{[]string{"tab", "enter"}, false},
		{[]string{"right", "left", "enter"}, true},
	} {
		_, msg := press(t, NewConfirm(st, "id", "", "Sure?"), c.keys...)
		if msg != (ConfirmedMsg{ID: "id", Yes: c.yes}) {
			t.Errorf("%v: got %#v", c.keys, msg)
		}
	}
	m := NewConfirm(st, "id", "", "Sure?")
	m.SetDefault(1)
	if _, msg := press(t, m, "enter"); msg != (ConfirmedMsg{ID: "id", Yes: false}) {
		t.Errorf("default No: got %#v", msg)
	}
	// Answered: a repeated key must not answer twice.
	m, _ = press(t, NewConfirm(st, "id", "", "Sure?"), "y")
	if _, msg := press(t, m, "y"); msg != nil {
		t.Errorf("second answer %#v", msg)
	}
	m.SetError(errors.New("boom"))
	if !strings.Contains(m.View(), "boom") {
		t.Errorf("error not shown:\n%s", m.View())
	}
	if _, msg := press(t, m, "y"); msg == nil {
		t.Error("no answer after SetError")
	}
}

func TestInputValidation(t *testing.T) {
	st := tuitest.Styles()
	m := NewInput(st, "mk", "New folder", "Name:", "", validName)
	if !strings.Contains(m.View(), "a name is needed") {
		t.Errorf("initial value not validated:\n%s", m.View())
	}
	m, msg := press(t, m, "enter")
	if msg != nil {
		t.Fatalf("empty value submitted: %#v", msg)
	}
	m, _ = press(t, m, "a", "/")
	if !strings.Contains(m.View(), "cannot contain /") {
		t.Errorf("live error missing:\n%s", m.View())
	}
	m, msg = press(t, m, "backspace", "b", "enter")
	if msg != (InputMsg{ID: "mk", Value: "ab"}) {
		t.Fatalf("got %#v", msg)
	}
	if _, msg := press(t, m, "enter"); msg != nil {
		t.Errorf("submitted twice: %#v", msg)
	}
	m.SetError(fmt.Errorf("mkdir: %w", remote.ErrExists))
	if !strings.Contains(m.View(), "already exists") {
		t.Errorf("server error not shown:\n%s", m.View())
	}
	m, _ = press(t, m, "c")
	if strings.Contains(m.View(), "already exists") {
		t.Errorf("stale server error kept after an edit:\n%s", m.View())
	}
	if _, msg := press(t, m, "esc"); msg != (InputMsg{ID: "mk", Canceled: true}) {
		t.Errorf("esc: %#v", msg)
	}
	// No validator: anything goes; control characters never reach the field.
	m = NewInput(st, "p", "", "Path:", "/a\x1b[31mb", nil)
	if strings.ContainsRune(m.View(), '\x1b') {
		t.Errorf("raw ESC drawn: %q", m.View())
	}
	if _, msg := press(t, m, "enter"); msg == nil {
		t.Error("nil validator refused")
	}
}

func TestChoiceKeys(t *testing.T) {
	st := tuitest.Styles()
	opts := []Option{{"Overwrite", "o"}, {"Skip", "s"}, {"Rename", "r"}, {"All", "a"}}
	c := func() Model { return NewChoice(st, "c", "", "Exists.", opts) }
	if _, msg := press(t, c(), "r"); msg != (ChoiceMsg{ID: "c", Index: 2}) {
		t.Errorf("hotkey: %#v", msg)
	}
	if _, msg := press(t, c(), "left", "enter"); msg != (ChoiceMsg{ID: "c", Index: 3}) {
		t.Errorf("wrap-around: %#v", msg)
	}
	if _, msg := press(t, c(), "esc"); msg != (ChoiceMsg{ID: "c", Index: -1, Canceled: true}) {
		t.Errorf("esc: %#v", msg)
	}
}

func TestTrashConfirmWaitsForCount(t *testing.T) {
	st := tuitest.Styles()
	m := NewTrashConfirm(st, "del", 0, 1)
	if m2, msg := press(t, m, "y"); msg != nil || !m2.Busy() {
		t.Fatalf("yes accepted while counting: %#v", msg)
	}
	m, _ = m.Update(Counted("other", treecount.Total{Files: 9}, nil))
	if !m.Busy() {
		t.Fatal("another dialog's count was taken")
	}
	m, _ = m.Update(CountedMsg{ID: "del", Update: background.Update[treecount.Total]{Value: treecount.Total{Files: 1}}})
	if !m.Busy() || !strings.Contains(m.View(), "Counting… 1 file, 0 B so far") {
		t.Fatalf("progress not shown, or yes possible before the end:\n%s", m.View())
	}
	m, _ = m.Update(Counted("del", treecount.Total{Files: 1, Bytes: 2048}, nil))
	if m.Busy() || !strings.Contains(m.View(), "Move 1 file (2.0 KiB) to the trash?") {
		t.Fatalf("count not shown:\n%s", m.View())
	}
	if _, msg := press(t, m, "enter"); msg != (ConfirmedMsg{ID: "del", Yes: true}) {
		t.Errorf("got %#v", msg)
	}
	// Counting can be refused before it ends.
	if _, msg := press(t, NewTrashConfirm(st, "del", 1, 0), "esc"); msg != (ConfirmedMsg{ID: "del"}) {
		t.Errorf("esc while counting: %#v", msg)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTrashQuestion(t *testing.T) {
	for _, c := range []struct {
		folders, files int
		count          *CountedMsg
		want           string
	}{
		{3, 2, ptr(Counted("", treecount.Total{Files: 1204, Folders: 7, Bytes: 3435973837}, nil)), "Move 3 folders and 2 files (1,204 files in all, 3.2 GiB) to the trash?"},
		{1, 0, ptr(Counted("", treecount.Total{}, nil)), "Move 1 folder (empty) to the trash?"},
		{2, 0, ptr(Counted("", treecount.Total{Files: 7, Bytes: 1024}, nil)), "Move 2 folders (7 files in all, 1.0 KiB) to the trash?"},
		{0, 3, ptr(Counted("", treecount.Total{Files: 3, Bytes: 110}, nil)), "Move 3 files (110 B) to the trash?"},
		{0, 2, nil, "Move 2 files to the trash?\n\nCounting…"},
		{1, 1, ptr(Counted("", treecount.Total{Files: 3}, remote.ErrUnavailable)), "Move 1 folder and 1 file to the trash?\n\nCould not count them: server unavailable"},
	} {
		if got := TrashQuestion(c.folders, c.files, c.count); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain name.txt":     "plain name.txt",
		"日本語 ok":             "日本語 ok",
		"a\x1b[2Jb":          "a␛[2Jb",
		"nul\x00 bell\x07":   "nul␀ bell␇",
		"line\nbreak\ttab\r": "line␊break␉tab␍",
		"del\x7f":            "del␡",
		"c1\u009b31m":        `c1\u009b31m`,
		"evil\u202etxt.exe":  `evil\u202etxt.exe`,
		"bad\xffutf8":        "bad\uFFFDutf8",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Quote("a\x1bb"); got != "“a␛b”" {
		t.Errorf("Quote: %q", got)
	}
}

func TestFormat(t *testing.T) {
	if got := FormatTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2026-01-02 03:04" {
		t.Errorf("FormatTime: %q", got)
	}
	if got := FormatTime(time.Time{}); got != "—" {
		t.Errorf("FormatTime(zero): %q", got)
	}
}

func TestOverlay(t *testing.T) {
	bg := "0123456789\nabcdefghij\nABCDEFGHIJ"
	got := Overlay(bg, "xx\nyy", 10, 3)
	want := "0123xx6789\nabcdyyghij\nABCDEFGHIJ"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A path prompt's suggestion is replaced by typing, cleared by backspace,
// and kept for editing once an arrow moves into it.
func TestPathInputSuggestion(t *testing.T) {
	st := tuitest.Styles()
	open := func() Model { return NewPathInput(st, "go", "Go to", "Folder:", "/home/alice", nil, nil) }
	if _, msg := press(t, open(), "p", "x", "enter"); msg != (InputMsg{ID: "go", Value: "px"}) {
		t.Errorf("typing over the suggestion: %#v", msg)
	}
	if _, msg := press(t, open(), "backspace", "enter"); msg != (InputMsg{ID: "go", Value: ""}) {
		t.Errorf("backspace on the suggestion: %#v", msg)
	}
	if _, msg := press(t, open(), "end", "/", "x", "enter"); msg != (InputMsg{ID: "go", Value: "/home/alice/x"}) {
		t.Errorf("editing the suggestion: %#v", msg)
	}
	if _, msg := press(t, open(), "enter"); msg != (InputMsg{ID: "go", Value: "/home/alice"}) {
		t.Errorf("taking the suggestion: %#v", msg)
	}
}

// Tab asks for a completion of what is typed, and its answer is taken
// only while the field still holds that.
func TestPathInputCompletion(t *testing.T) {
	st := tuitest.Styles()
	var asked []string
	m := NewPathInput(st, "go", "Go to", "Folder:", "", nil, func(v string) tea.Cmd {
		asked = append(asked, v)
		return nil
	})
	m, _ = press(t, m, "p", "h", "tab")
	if len(asked) != 1 || asked[0] != "ph" {
		t.Fatalf("completion asked for %q", asked)
	}
	m, _ = press(t, m, "tab") // one at a time
	if len(asked) != 1 {
		t.Fatalf("completion asked twice: %q", asked)
	}
	m, _ = m.Update(CompletedMsg{ID: "go", For: "ph", Value: "photos-202", Candidates: []string{"photos-2025", "photos-2026"}})
	if v := m.View(); !strings.Contains(v, "photos-2025") || !strings.Contains(v, "photos-2026") || m.Value() != "photos-202" {
		t.Fatalf("completion not shown: %q\n%s", m.Value(), v)
	}
	m, _ = press(t, m, "5")
	if strings.Contains(m.View(), "photos-2026") {
		t.Errorf("stale candidates kept after typing:\n%s", m.View())
	}
	m, _ = press(t, m, "tab")
	m, _ = press(t, m, "x")                                                            // typed on meanwhile
	m, _ = m.Update(CompletedMsg{ID: "go", For: "photos-2025", Value: "photos-2025/"}) // stale
	if m.Value() != "photos-2025x" {
		t.Errorf("a stale completion replaced the field: %q", m.Value())
	}
	m, _ = press(t, m, "backspace", "tab")
	m, _ = m.Update(CompletedMsg{ID: "go", For: "photos-2025", Err: fmt.Errorf("list: %w", remote.ErrUnavailable)})
	if !strings.Contains(m.View(), "list:") {
		t.Errorf("completion error not shown:\n%s", m.View())
	}
}
