package trashview

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/style"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
}

func testStyles() *style.Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return style.New(r)
}

// pagedTrash pages the fake's trash (which returns it whole) by size.
type pagedTrash struct {
	*remotetest.Fake
	size int
}

func (p pagedTrash) Trash(ctx context.Context, cursor string) (remote.TrashPage, error) {
	all, err := p.Fake.Trash(ctx, "")
	if err != nil {
		return all, err
	}
	start, _ := strconv.Atoi(cursor)
	end := min(len(all.Items), start+p.size)
	pg := remote.TrashPage{Items: all.Items[start:end]}
	if end < len(all.Items) {
		pg.Cursor = strconv.Itoa(end)
	}
	return pg, nil
}

// relocating fills a gap of the fake, whose RestoreTrash ignores to: it
// restores elsewhere as the server does (refusing a taken target).
type relocating struct{ *remotetest.Fake }

func (r relocating) RestoreTrash(ctx context.Context, id, to string) (remote.Entry, error) {
	if to == "" {
		return r.Fake.RestoreTrash(ctx, id, "")
	}
	if _, err := r.Fake.Stat(ctx, to); err == nil {
		return remote.Entry{}, fmt.Errorf("%s: %w", to, remote.ErrExists)
	}
	tp, err := r.Fake.Trash(ctx, "")
	if err != nil {
		return remote.Entry{}, err
	}
	for _, it := range tp.Items {
		if it.ID != id {
			continue
		}
		const aside = "/.aside"
		_, blocked := r.Fake.Stat(ctx, it.Path)
		if blocked == nil {
			if _, err := r.Fake.Move(ctx, it.Path, aside, false); err != nil {
				return remote.Entry{}, err
			}
		}
		if _, err := r.Fake.RestoreTrash(ctx, id, ""); err != nil {
			return remote.Entry{}, err
		}
		e, err := r.Fake.Move(ctx, it.Path, to, false)
		if blocked == nil {
			_, _ = r.Fake.Move(ctx, aside, it.Path, false)
		}
		return e, err
	}
	return remote.Entry{}, fmt.Errorf("trash %s: %w", id, remote.ErrNotFound)
}

func trashed(t *testing.T, f *remotetest.Fake) {
	t.Helper()
	f.PutFile("/home/tester/docs/report.pdf", make([]byte, 3*1024*1024+200))
	f.PutFile("/home/tester/a.txt", []byte("hello"))
	f.PutFile("/home/tester/photos/2025/beach.jpg", make([]byte, 2048))
	f.PutFile("/home/tester/evil\x1b[2J.txt", []byte("x"))
	for _, p := range []string{"/home/tester/docs/report.pdf", "/home/tester/a.txt", "/home/tester/photos", "/home/tester/evil\x1b[2J.txt"} {
		if _, err := f.Delete(context.Background(), p, true); err != nil {
			t.Fatal(err)
		}
	}
}

type startMsg struct{}

type harness struct {
	m      Model
	closed *ClosedMsg
}

func (h harness) Init() tea.Cmd { return func() tea.Msg { return startMsg{} } }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width, msg.Height)
		return h, nil
	case startMsg:
		return h, h.m.Init()
	case ClosedMsg:
		h.closed = &msg
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h harness) View() string { return h.m.View() }

func start(t *testing.T, r remote.Remote, w, h int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, harness{m: New(context.Background(), testStyles(), r)}, teatest.WithInitialTermSize(w, h))
}

func waitFor(t *testing.T, tm *teatest.TestModel, s ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, x := range s {
			if !strings.Contains(string(b), x) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(3*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func finish(t *testing.T, tm *teatest.TestModel, quit bool) harness {
	t.Helper()
	if quit {
		_ = tm.Quit()
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).(harness)
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

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestGoldenTrash(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	tm := start(t, f, 80, 24)
	waitFor(t, tm, "4 items", "report.pdf")
	tm.Send(keyMsg("down"))
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 12}) // still usable smaller
	waitFor(t, tm, "Was in")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 60, 12)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenEmpty(t *testing.T) {
	tm := start(t, remotetest.New(), 80, 24)
	waitFor(t, tm, "The trash is empty.")
	tm.Send(keyMsg("q"))
	h := finish(t, tm, false)
	if h.closed == nil || h.closed.Restored != 0 {
		t.Errorf("closed: %+v", h.closed)
	}
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenUnavailable(t *testing.T) {
	f := remotetest.New()
	f.SetDown(true)
	tm := start(t, f, 80, 24)
	waitFor(t, tm, "retry")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenRestoreConflict(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("a new a.txt")) // in the way
	tm := start(t, relocating{f}, 80, 24)
	waitFor(t, tm, "4 items")
	tm.Send(keyMsg("down")) // a.txt (newest first: evil, photos, a.txt, report)
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("r"))
	waitFor(t, tm, "Restore to…", "(restored)")
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "Restored “a.txt” to /home/tester/a (restored).txt.")
	tm.Send(keyMsg("esc"))
	h := finish(t, tm, false)
	if h.closed == nil || h.closed.Restored != 1 {
		t.Errorf("closed: %+v", h.closed)
	}
	if got, ok := f.Content("/home/tester/a (restored).txt"); !ok || string(got) != "hello" {
		t.Errorf("restored content %q %v", got, ok)
	}
	if got, _ := f.Content("/home/tester/a.txt"); string(got) != "a new a.txt" {
		t.Errorf("the file in the way changed: %q", got)
	}
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

// TestGoldenRestoreConflictDialog keeps the screen with the restore-to
// dialog open.
func TestGoldenRestoreConflictDialog(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("a new a.txt"))
	tm := start(t, f, 80, 24)
	waitFor(t, tm, "4 items")
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("down"))
	tm.Send(keyMsg("r"))
	waitFor(t, tm, "Restore to…", "(restored)")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenPurge(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	tm := start(t, f, 80, 24)
	waitFor(t, tm, "4 items")
	tm.Send(keyMsg("end")) // report.pdf
	tm.Send(keyMsg("D"))
	waitFor(t, tm, "cannot be undone")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
	if f.Calls["PurgeTrash"] != 0 {
		t.Error("purged before the answer")
	}
}

// press sends keys and runs the commands they produce until none is left,
// feeding the results back (spinner ticks are dropped).
func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		m = drain(m, cmd)
	}
	return m
}

func drain(m Model, cmd tea.Cmd) Model {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case Msg:
			if msg.kind == tickMsg {
				continue
			}
			var next tea.Cmd
			m, next = m.Update(msg)
			queue = append(queue, next)
		case nil:
		default:
			var next tea.Cmd
			m, next = m.Update(msg)
			queue = append(queue, next)
		}
	}
	return m
}

func load(t *testing.T, r remote.Remote, w, h int) Model {
	t.Helper()
	m := New(context.Background(), testStyles(), r)
	m.SetSize(w, h)
	return drain(m, m.Init())
}

func TestPurge(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 80, 24)
	m = press(t, m, "end", "D", "enter") // No is the default
	if f.Calls["PurgeTrash"] != 0 || len(m.items) != 4 {
		t.Fatal("purged on the default answer")
	}
	m = press(t, m, "D", "y")
	if f.Calls["PurgeTrash"] != 1 || len(m.items) != 3 || !strings.Contains(m.View(), "Deleted “report.pdf” for good.") {
		t.Fatalf("calls %v, %d items\n%s", f.Calls, len(m.items), m.View())
	}
	if tp, _ := f.Trash(context.Background(), ""); len(tp.Items) != 3 {
		t.Errorf("server trash: %d items", len(tp.Items))
	}
	if m.sel != 2 {
		t.Errorf("selection %d after deleting the last row", m.sel)
	}
}

func TestRestore(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 80, 24)
	m = press(t, m, "down", "r") // photos/
	if _, ok := f.Content("/home/tester/photos/2025/beach.jpg"); !ok {
		t.Fatal("not restored")
	}
	if m.Restored() != 1 || len(m.items) != 3 || m.dlg != nil {
		t.Errorf("restored %d, %d items, dialog %v", m.Restored(), len(m.items), m.dlg != nil)
	}
	// An error other than a conflict is shown in place; the program goes on.
	f.SetDown(true)
	m = press(t, m, "r")
	if v := m.View(); !strings.Contains(v, "server unavailable") || m.dlg != nil {
		t.Errorf("error not shown in place:\n%s", v)
	}
	f.SetDown(false)
	m = press(t, m, "esc")
}

func TestRestoreToErrorStaysInDialog(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("in the way"))
	f.PutFile("/home/tester/a (restored).txt", []byte("also in the way"))
	m := load(t, relocating{f}, 80, 24)
	m = press(t, m, "down", "down", "r")
	if m.dlg == nil {
		t.Fatalf("no restore-to dialog:\n%s", m.View())
	}
	// The suggested path is taken too: the error shows in the dialog,
	// which stays open for another try.
	m = press(t, m, "enter")
	if m.dlg == nil || !strings.Contains(m.View(), "already exists") {
		t.Fatalf("error not in the dialog:\n%s", m.View())
	}
	m = press(t, m, "esc")
	if m.dlg != nil || len(m.items) != 4 {
		t.Errorf("cancel: dialog %v, %d items", m.dlg != nil, len(m.items))
	}
	// R opens it directly; an invalid path cannot be submitted.
	m = press(t, m, "R")
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	before := fmt.Sprint(f.Calls)
	m = press(t, m, "r", "e", "l", "enter")
	if m.dlg == nil || !strings.Contains(m.View(), "must start with /") || fmt.Sprint(f.Calls) != before {
		t.Errorf("invalid path: calls %v\n%s", f.Calls, m.View())
	}
}

func TestPagedByCursor(t *testing.T) {
	f := remotetest.New()
	for i := range 95 {
		p := fmt.Sprintf("/home/tester/f%02d", i)
		f.PutFile(p, []byte(p))
		if _, err := f.Delete(context.Background(), p, false); err != nil {
			t.Fatal(err)
		}
	}
	r := pagedTrash{Fake: f, size: 20}
	m := load(t, r, 80, 24) // 20 rows on screen
	if f.Calls["Trash"] != 2 || len(m.items) != 40 {
		t.Fatalf("%d pages, %d items loaded up front", f.Calls["Trash"], len(m.items))
	}
	if !strings.Contains(m.View(), "40+ items") || !strings.Contains(m.View(), "f94") {
		t.Errorf("newest first, more to come:\n%s", m.View())
	}
	for range 30 {
		m = press(t, m, "down")
	}
	if f.Calls["Trash"] != 3 || len(m.items) != 60 {
		t.Errorf("after scrolling: %d pages, %d items", f.Calls["Trash"], len(m.items))
	}
	m = press(t, m, "end", "end", "end", "end")
	if len(m.items) != 95 || !strings.Contains(m.View(), "95 items") || !strings.Contains(m.View(), "f00") {
		t.Errorf("end: %d items\n%s", len(m.items), m.View())
	}
	if m.sel != 94 {
		t.Errorf("selection %d", m.sel)
	}
}

func TestValidPathAndSuggest(t *testing.T) {
	for p, ok := range map[string]bool{"/a/b": true, "": false, "a/b": false, "/": false, "/a/../b": false, "/a/": false} {
		if err := validPath(p); (err == nil) != ok {
			t.Errorf("validPath(%q) = %v", p, err)
		}
	}
	for in, want := range map[string]string{
		"/a/report.pdf": "/a/report (restored).pdf",
		"/a/photos":     "/a/photos (restored)",
		"/a/.profile":   "/a/.profile (restored)",
	} {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q", in, got)
		}
	}
}

func TestNamesEscaped(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 100, 24)
	v := m.View()
	if !strings.Contains(v, "evil␛[2J.txt") || strings.ContainsRune(v, '\x1b') {
		t.Errorf("name not escaped:\n%q", v)
	}
	m = press(t, m, "D")
	if v := m.View(); !strings.Contains(v, dialog.Quote("evil\x1b[2J.txt")) || strings.ContainsRune(v, '\x1b') {
		t.Errorf("dialog name not escaped:\n%q", v)
	}
}
