package trashview

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
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
	var pg remote.TrashPage
	pg.Items, pg.Cursor = pagedlisttest.Page(all.Items, cursor, p.size)
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

type harness = pagedlisttest.Harness[ClosedMsg, Model, *Model]

func start(t *testing.T, r remote.Remote, w, h int) *teatest.TestModel {
	t.Helper()
	return pagedlisttest.Start[ClosedMsg](t, New(context.Background(), tuitest.Styles(), r), w, h)
}

func finish(t *testing.T, tm *teatest.TestModel, quit bool) harness {
	t.Helper()
	return pagedlisttest.Finish[ClosedMsg, Model](t, tm, quit)
}

func TestGoldenTrash(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	tm := start(t, f, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 items", "report.pdf")
	tm.Send(tuitest.Key("down"))
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 12}) // still usable smaller
	pagedlisttest.WaitFor(t, tm, "Was in")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 60, 12)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenEmpty(t *testing.T) {
	tm := start(t, remotetest.New(), 80, 24)
	pagedlisttest.WaitFor(t, tm, "The trash is empty.")
	tm.Send(tuitest.Key("q"))
	h := finish(t, tm, false)
	if h.Closed == nil || h.Closed.Restored != 0 {
		t.Errorf("closed: %+v", h.Closed)
	}
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenUnavailable(t *testing.T) {
	f := remotetest.New()
	f.SetDown(true)
	tm := start(t, f, 80, 24)
	pagedlisttest.WaitFor(t, tm, "retry")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenRestoreConflict(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("a new a.txt")) // in the way
	tm := start(t, relocating{f}, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 items")
	tm.Send(tuitest.Key("down")) // a.txt (newest first: evil, photos, a.txt, report)
	tm.Send(tuitest.Key("down"))
	tm.Send(tuitest.Key("r"))
	pagedlisttest.WaitFor(t, tm, "Restore to…", "(restored)")
	tm.Send(tuitest.Key("enter"))
	pagedlisttest.WaitFor(t, tm, "Restored “a.txt” to /home/tester/a (restored).txt.")
	tm.Send(tuitest.Key("esc"))
	h := finish(t, tm, false)
	if h.Closed == nil || h.Closed.Restored != 1 {
		t.Errorf("closed: %+v", h.Closed)
	}
	if got, ok := f.Content("/home/tester/a (restored).txt"); !ok || string(got) != "hello" {
		t.Errorf("restored content %q %v", got, ok)
	}
	if got, _ := f.Content("/home/tester/a.txt"); string(got) != "a new a.txt" {
		t.Errorf("the file in the way changed: %q", got)
	}
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

// TestGoldenRestoreConflictDialog keeps the screen with the restore-to
// dialog open.
func TestGoldenRestoreConflictDialog(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("a new a.txt"))
	tm := start(t, f, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 items")
	tm.Send(tuitest.Key("down"))
	tm.Send(tuitest.Key("down"))
	tm.Send(tuitest.Key("r"))
	pagedlisttest.WaitFor(t, tm, "Restore to…", "(restored)")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestGoldenPurge(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	tm := start(t, f, 80, 24)
	pagedlisttest.WaitFor(t, tm, "4 items")
	tm.Send(tuitest.Key("end")) // report.pdf
	tm.Send(tuitest.Key("D"))
	pagedlisttest.WaitFor(t, tm, "cannot be undone")
	h := finish(t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
	if f.Calls["PurgeTrash"] != 0 {
		t.Error("purged before the answer")
	}
}

// isTick reports a tick of the spinner, which drain and press drop.
func isTick(msg tea.Msg) bool {
	m, ok := msg.(Msg)
	return ok && m.list.IsTick()
}

func drain(m Model, cmd tea.Cmd) Model { return pagedlisttest.Drain(m, cmd, isTick) }

func press(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	return pagedlisttest.Press(m, isTick, keys...)
}

func load(t *testing.T, r remote.Remote, w, h int) Model {
	t.Helper()
	m := New(context.Background(), tuitest.Styles(), r)
	m.SetSize(w, h)
	return drain(m, m.Init())
}

func TestPurge(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 80, 24)
	m = press(t, m, "end", "D", "enter") // No is the default
	if f.Calls["PurgeTrash"] != 0 || m.list.Len() != 4 {
		t.Fatal("purged on the default answer")
	}
	m = press(t, m, "D", "y")
	if f.Calls["PurgeTrash"] != 1 || m.list.Len() != 3 || !strings.Contains(m.View(), "Deleted “report.pdf” for good.") {
		t.Fatalf("calls %v, %d items\n%s", f.Calls, m.list.Len(), m.View())
	}
	if tp, _ := f.Trash(context.Background(), ""); len(tp.Items) != 3 {
		t.Errorf("server trash: %d items", len(tp.Items))
	}
	if m.list.Index() != 2 {
		t.Errorf("selection %d after deleting the last row", m.list.Index())
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
	if m.Restored() != 1 || m.list.Len() != 3 || m.list.Dialog() != nil {
		t.Errorf("restored %d, %d items, dialog %v", m.Restored(), m.list.Len(), m.list.Dialog() != nil)
	}
	// An error other than a conflict is shown in place; the program goes on.
	f.SetDown(true)
	m = press(t, m, "r")
	if v := m.View(); !strings.Contains(v, "server unavailable") || m.list.Dialog() != nil {
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
	if m.list.Dialog() == nil {
		t.Fatalf("no restore-to dialog:\n%s", m.View())
	}
	// The suggested path is taken too: the error shows in the dialog,
	// which stays open for another try.
	m = press(t, m, "enter")
	if m.list.Dialog() == nil || !strings.Contains(m.View(), "already exists") {
		t.Fatalf("error not in the dialog:\n%s", m.View())
	}
	m = press(t, m, "esc")
	if m.list.Dialog() != nil || m.list.Len() != 4 {
		t.Errorf("cancel: dialog %v, %d items", m.list.Dialog() != nil, m.list.Len())
	}
	// R opens it directly; an invalid path cannot be submitted.
	m = press(t, m, "R")
	m, _ = m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	before := fmt.Sprint(f.Calls)
	m = press(t, m, "r", "e", "l", "enter")
	if m.list.Dialog() == nil || !strings.Contains(m.View(), "must start with /") || fmt.Sprint(f.Calls) != before {
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
	if f.Calls["Trash"] != 2 || m.list.Len() != 40 {
		t.Fatalf("%d pages, %d items loaded up front", f.Calls["Trash"], m.list.Len())
	}
	if !strings.Contains(m.View(), "40+ items") || !strings.Contains(m.View(), "f94") {
		t.Errorf("newest first, more to come:\n%s", m.View())
	}
	for range 30 {
		m = press(t, m, "down")
	}
	if f.Calls["Trash"] != 3 || m.list.Len() != 60 {
		t.Errorf("after scrolling: %d pages, %d items", f.Calls["Trash"], m.list.Len())
	}
	m = press(t, m, "end", "end", "end", "end")
	if m.list.Len() != 95 || !strings.Contains(m.View(), "95 items") || !strings.Contains(m.View(), "f00") {
		t.Errorf("end: %d items\n%s", m.list.Len(), m.View())
	}
	if m.list.Index() != 94 {
		t.Errorf("selection %d", m.list.Index())
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
