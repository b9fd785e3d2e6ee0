package versionsview

import (
	"context"
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

const file = "/home/tester/notes.txt"

func withVersions(n int) *remotetest.Fake {
	f := remotetest.New()
	for i := 1; i <= n; i++ {
		f.PutFile(file, []byte(strings.Repeat("v", i*100)+strconv.Itoa(i)))
	}
	return f
}

// paged pages the fake's versions (which come whole) by size.
type paged struct {
	*remotetest.Fake
	size int
}

func (p paged) Versions(ctx context.Context, path, cursor string) (remote.VersionPage, error) {
	all, err := p.Fake.Versions(ctx, path, "")
	if err != nil {
		return all, err
	}
	start, _ := strconv.Atoi(cursor)
	end := min(len(all.Versions), start+p.size)
	pg := remote.VersionPage{Versions: all.Versions[start:end]}
	if end < len(all.Versions) {
		pg.Cursor = strconv.Itoa(end)
	}
	return pg, nil
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

func start(t *testing.T, r remote.Remote, p string, w, h int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, harness{m: New(context.Background(), testStyles(), r, p)}, teatest.WithInitialTermSize(w, h))
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

func TestGoldenVersions(t *testing.T) {
	tm := start(t, withVersions(4), file, 80, 24)
	waitFor(t, tm, "4 versions")
	tm.Send(keyMsg("down"))
	waitFor(t, tm, "› ")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenConfirmRestore(t *testing.T) {
	tm := start(t, withVersions(4), file, 80, 24)
	waitFor(t, tm, "4 versions")
	tm.Send(keyMsg("end"))
	tm.Send(keyMsg("r"))
	waitFor(t, tm, "Restore version 1")
	h := finish(t, tm, true)
	checkFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenRestored(t *testing.T) {
	f := withVersions(4)
	tm := start(t, f, file, 80, 24)
	waitFor(t, tm, "4 versions")
	tm.Send(keyMsg("end"))
	tm.Send(keyMsg("r"))
	waitFor(t, tm, "Restore version 1")
	tm.Send(keyMsg("y"))
	waitFor(t, tm, "Restored version 1 as version 5.", "5 versions")
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 12}) // still usable smaller; Quit comes after it
	h := finish(t, tm, true)
	checkFits(t, h.View(), 60, 12)
	teatest.RequireEqualOutput(t, []byte(h.View()))
	if got, _ := f.Content(file); string(got) != strings.Repeat("v", 100)+"1" {
		t.Errorf("current content %q", got)
	}
}

func TestGoldenNotFound(t *testing.T) {
	tm := start(t, remotetest.New(), "/home/tester/gone.txt", 80, 24)
	waitFor(t, tm, "retry")
	tm.Send(keyMsg("q"))
	h := finish(t, tm, false)
	if h.closed == nil || h.closed.Restored {
		t.Errorf("closed %+v", h.closed)
	}
	teatest.RequireEqualOutput(t, []byte(h.View()))
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

func press(m Model, keys ...string) Model {
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = m.Update(keyMsg(k))
		m = drain(m, cmd)
	}
	return m
}

func load(r remote.Remote, w, h int) Model {
	m := New(context.Background(), testStyles(), r, file)
	m.SetSize(w, h)
	return drain(m, m.Init())
}

func TestRestoreFlow(t *testing.T) {
	f := withVersions(3)
	m := load(f, 80, 24)
	m = press(m, "r") // the current one
	if f.Calls["RestoreVersion"] != 0 || m.dlg != nil || !strings.Contains(m.View(), "Version 3 is already the current one.") {
		t.Fatalf("restoring the current version:\n%s", m.View())
	}
	m = press(m, "down", "r", "n")
	if f.Calls["RestoreVersion"] != 0 || m.dlg != nil {
		t.Fatal("restored on No")
	}
	m = press(m, "r", "enter") // Yes is the default: nothing is lost
	if f.Calls["RestoreVersion"] != 1 || !m.Restored() || len(m.versions) != 4 || !m.versions[0].Current {
		t.Fatalf("calls %v, %d versions", f.Calls, len(m.versions))
	}
	if m.sel != 0 {
		t.Errorf("selection %d after the reload", m.sel)
	}
	var cmd tea.Cmd
	m, cmd = m.Update(keyMsg("esc"))
	if cmd == nil || cmd() != (ClosedMsg{Restored: true}) {
		t.Error("esc did not close with Restored")
	}
}

func TestErrorInPlace(t *testing.T) {
	f := withVersions(2)
	m := load(f, 80, 24)
	f.SetDown(true)
	m = press(m, "down", "r", "y")
	if v := m.View(); !strings.Contains(v, "server unavailable") || m.Restored() {
		t.Errorf("error not shown:\n%s", v)
	}
	f.SetDown(false)
	m = press(m, "r", "y") // the screen still works
	if !m.Restored() {
		t.Error("no restore after the error")
	}
}

func TestPagedByCursor(t *testing.T) {
	f := withVersions(50)
	m := load(paged{Fake: f, size: 10}, 80, 14) // 10 rows
	if f.Calls["Versions"] != 2 || len(m.versions) != 20 || !strings.Contains(m.View(), "20+ versions") {
		t.Fatalf("%d calls, %d versions up front\n%s", f.Calls["Versions"], len(m.versions), m.View())
	}
	m = press(m, "end", "end", "end", "end")
	if len(m.versions) != 50 || m.versions[49].Version != 1 || m.sel != 49 {
		t.Errorf("%d versions, last %d, selection %d", len(m.versions), m.versions[len(m.versions)-1].Version, m.sel)
	}
	checkFits(t, m.View(), 80, 14)
}

func TestStalePageDropped(t *testing.T) {
	f := withVersions(2)
	m := New(context.Background(), testStyles(), f, file)
	first := m.Init()
	second := m.Init() // a reload before the first answer
	m = drain(m, first)
	if m.loaded {
		t.Fatal("the superseded page was taken")
	}
	m = drain(m, second)
	if len(m.versions) != 2 {
		t.Errorf("%d versions", len(m.versions))
	}
}
