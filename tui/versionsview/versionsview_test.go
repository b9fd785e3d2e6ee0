package versionsview

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
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
	var pg remote.VersionPage
	pg.Versions, pg.Cursor = pagedlisttest.Page(all.Versions, cursor, p.size)
	return pg, nil
}

type harness = pagedlisttest.Harness[ClosedMsg, Model, *Model]

func start(t *testing.T, r remote.Remote, p string, w, h int) *teatest.TestModel {
	t.Helper()
	m := New(context.Background(), tuitest.Styles(), r, p)
	m.SetDownloadDir(t.TempDir()) // as on a laptop: the local pane's folder
	return pagedlisttest.Start[ClosedMsg](t, m, w, h)
}

func finish(t *testing.T, tm *teatest.TestModel, quit bool) harness {
	t.Helper()
	return pagedlisttest.Finish[ClosedMsg, Model](t, tm, quit)
}

func TestGoldenVersions(t *testing.T) {
	tm := start(t, withVersions(4), file, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 versions")
	tm.Send(tuitest.Key("down"))
	pagedlisttest.WaitFor(t, tm, "› ")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenConfirmRestore(t *testing.T) {
	tm := start(t, withVersions(4), file, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 versions")
	tm.Send(tuitest.Key("end"))
	tm.Send(tuitest.Key("r"))
	pagedlisttest.WaitFor(t, tm, "Restore version 1")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenRestored(t *testing.T) {
	f := withVersions(4)
	tm := start(t, f, file, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 versions")
	tm.Send(tuitest.Key("end"))
	tm.Send(tuitest.Key("r"))
	pagedlisttest.WaitFor(t, tm, "Restore version 1")
	tm.Send(tuitest.Key("y"))
	pagedlisttest.WaitFor(t, tm, "Restored version 1 as version 5.", "5 versions")
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 12}) // still usable smaller; Quit comes after it
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 60, 12)
	teatest.RequireEqualOutput(t, []byte(h.View()))
	if got, _ := f.Content(file); string(got) != strings.Repeat("v", 100)+"1" {
		t.Errorf("current content %q", got)
	}
}

func TestGoldenNotFound(t *testing.T) {
	tm := start(t, remotetest.New(), "/home/tester/gone.txt", 80, 24)
	pagedlisttest.WaitFor(t, tm, "retry")
	tm.Send(tuitest.Key("q"))
	h := finish(t, tm, false)
	if h.Closed == nil || h.Closed.Restored {
		t.Errorf("closed %+v", h.Closed)
	}
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

// isTick reports a tick of the spinner, which drain and press drop.
func isTick(msg tea.Msg) bool {
	m, ok := msg.(Msg)
	return ok && m.list.IsTick()
}

func drain(m Model, cmd tea.Cmd) Model { return pagedlisttest.Drain(m, cmd, isTick) }

func press(m Model, keys ...string) Model { return pagedlisttest.Press(m, isTick, keys...) }

func load(r remote.Remote, w, h int) Model {
	m := New(context.Background(), tuitest.Styles(), r, file)
	m.SetSize(w, h)
	return drain(m, m.Init())
}

func TestRestoreFlow(t *testing.T) {
	f := withVersions(3)
	m := load(f, 80, 24)
	m = press(m, "r") // the current one
	if f.Calls["RestoreVersion"] != 0 || m.list.Dialog() != nil || !strings.Contains(m.View(), "Version 3 is already the current one.") {
		t.Fatalf("restoring the current version:\n%s", m.View())
	}
	m = press(m, "down", "r", "n")
	if f.Calls["RestoreVersion"] != 0 || m.list.Dialog() != nil {
		t.Fatal("restored on No")
	}
	m = press(m, "r", "enter") // Yes is the default: nothing is lost
	if f.Calls["RestoreVersion"] != 1 || !m.Restored() || m.list.Len() != 4 || !m.list.Items()[0].Current {
		t.Fatalf("calls %v, %d versions", f.Calls, m.list.Len())
	}
	if m.list.Index() != 0 {
		t.Errorf("selection %d after the reload", m.list.Index())
	}
	var cmd tea.Cmd
	m, cmd = m.Update(tuitest.Key("esc"))
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
	if f.Calls["Versions"] != 2 || m.list.Len() != 20 || !strings.Contains(m.View(), "20+ versions") {
		t.Fatalf("%d calls, %d versions up front\n%s", f.Calls["Versions"], m.list.Len(), m.View())
	}
	m = press(m, "end", "end", "end", "end")
	if m.list.Len() != 50 || m.list.Items()[49].Version != 1 || m.list.Index() != 49 {
		t.Errorf("%d versions, last %d, selection %d", m.list.Len(), m.list.Items()[m.list.Len()-1].Version, m.list.Index())
	}
	pagedlisttest.CheckFits(t, m.View(), 80, 14)
}

func TestStalePageDropped(t *testing.T) {
	f := withVersions(2)
	m := New(context.Background(), tuitest.Styles(), f, file)
	first := m.Init()
	second := m.Init() // a reload before the first answer
	m = drain(m, first)
	if m.list.Loaded() {
		t.Fatal("the superseded page was taken")
	}
	m = drain(m, second)
	if m.list.Len() != 2 {
		t.Errorf("%d versions", m.list.Len())
	}
}
