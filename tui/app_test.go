package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"golang.org/x/sys/unix"

	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/transfer"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
}

var fixed = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is the app on a fake server and a local folder with a fixed
// path (it shows in the pane title, so it must not vary between runs). A
// test holds that folder alone while its harness lives (lockLocal): one
// harness at a time per test, or it waits for itself.
type harness struct {
	t     *testing.T
	fake  *remotetest.Fake
	local string
	tm    *teatest.TestModel
	mgr   *transfer.Manager
	seen  bytes.Buffer // everything drawn so far
	// bookmarks is the app's bookmarks file.
	bookmarks string
	screen    *screen
	ended     bool // final stopped the app
}

// lockLocal gives the test the folder dir alone: it waits for an exclusive
// lock on dir+".lock" while another test holds it, in this process or in
// another (two go test runs at once, from two checkouts, would otherwise
// remove each other's files), and releases it when the test is done (its
// cleanup is the first registered, so it runs last). The lock file stays:
// removing it would let a waiter lock a file no newcomer sees.
func lockLocal(t *testing.T, dir string) {
	t.Helper()
	f, err := os.OpenFile(dir+".lock", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	locked := make(chan error, 1)
	go func() {
		for {
			err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
			if !errors.Is(err, unix.EINTR) {
				locked <- err
				return
			}
		}
	}()
	select {
	case err = <-locked:
	case <-time.After(2 * time.Minute): // a bound for a stuck holder, not a wait
		t.Fatalf("lock %s: another go test of ./tui/ has held it for 2 minutes (stopped or hung?)", f.Name())
	}
	if err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", f.Name(), err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

// shownApp is the app as the program runs it, keeping what it last drew
// and where it stands: a key whose effect comes by a command's message (a
// page or a dialog opens or closes, a list loads) is followed by a wait
// for the state that shows it (waitShown, waitGone, waitView,
// waitOpened), so that the next key finds the state it is meant for. The
// output stream cannot tell: it holds every frame so far, and only the
// lines that changed.
type shownApp struct {
	App
	screen *screen
}

// screen is the app's state as last drawn, shared between the program's
// goroutine and the test's.
type screen struct {
	mu   sync.Mutex
	view string
	page view // the screen on (App.view)
	// opened is the last folder whose navigation finished loading, by
	// source (the filelist.OpenedMsg the app handled: ' ' goes back by them).
	opened map[string]string
}

func (s shownApp) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.App.Update(msg)
	s.App = m.(App)
	if o, ok := msg.(filelist.OpenedMsg); ok {
		s.screen.mu.Lock()
		s.screen.opened[o.Source] = o.Dir
		s.screen.mu.Unlock()
	}
	return s, cmd
}

// View is called by the program after every message, and its result drawn.
func (s shownApp) View() string {
	v := s.App.View()
	s.screen.mu.Lock()
	s.screen.view, s.screen.page = v, s.App.view
	s.screen.mu.Unlock()
	return v
}

// waitView waits until the app is on screen v (a screen closes by a
// message: until then it takes the keys, though with its dialog answered
// it may look like the file manager).
func (h *harness) waitView(v view) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("the app is on view %d", v), func() bool {
		h.screen.mu.Lock()
		defer h.screen.mu.Unlock()
		return h.screen.page == v
	})
}

// waitOpened waits until the pane of source ("Local", "Strata") has
// finished opening dir: the app then knows it as the pane's folder.
func (h *harness) waitOpened(source, dir string) {
	h.t.Helper()
	h.eventually(source+" opened "+dir, func() bool {
		h.screen.mu.Lock()
		defer h.screen.mu.Unlock()
		return h.screen.opened[source] == dir
	})
}

// shown is the screen the app last drew.
func (h *harness) shown() string {
	h.screen.mu.Lock()
	defer h.screen.mu.Unlock()
	return h.screen.view
}

// waitShown waits until the screen shows s.
func (h *harness) waitShown(s string) {
	h.t.Helper()
	h.eventually("the screen shows "+s, func() bool { return strings.Contains(h.shown(), s) })
}

// waitLine waits until one line of the screen holds each of parts (a
// row of a list in a given state).
func (h *harness) waitLine(parts ...string) {
	h.t.Helper()
	h.eventually("a line of the screen shows "+strings.Join(parts, " … "), func() bool {
		for _, l := range strings.Split(h.shown(), "\n") {
			if containsAll(l, parts) {
				return true
			}
		}
		return false
	})
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// waitGone waits until the screen no longer shows s (a dialog or a page
// closed).
func (h *harness) waitGone(s string) {
	h.t.Helper()
	h.eventually("the screen no longer shows "+s, func() bool { return !strings.Contains(h.shown(), s) })
}

// newHarness starts the app; opts change its options.
func newHarness(t *testing.T, opts ...func(*Options)) *harness {
	t.Helper()
	local := filepath.Join(os.TempDir(), "strata-tui-app-test")
	lockLocal(t, local)
	os.RemoveAll(local)
	if err := os.MkdirAll(filepath.Join(local, "photos"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(local) })
	for name, data := range map[string]string{"report.txt": "quarterly numbers\n", "photos/a.jpg": "\xff\xd8jpeg"} {
		p := filepath.Join(local, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(p, fixed, fixed)
	}
	_ = os.Chtimes(filepath.Join(local, "photos"), fixed, fixed)

	fake := remotetest.New()
	fake.PutFile("/home/tester/notes.md", []byte("# notes\nhello\n"))
	fake.PutFile("/home/tester/notes.md", []byte("# notes\nhello again\n"))
	fake.MkdirAll("/home/tester/projects")

	mgr, err := transfer.New(fake, transfer.Options{Backoff: 10 * time.Millisecond, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	marks := filepath.Join(t.TempDir(), "strata", "bookmarks.json")
	o := Options{Remote: fake, Where: "fake://strata", LocalDir: local, Transfers: mgr, Styles: tuitest.Styles(),
		Ctx: context.Background(), Bookmarks: marks}
	for _, opt := range opts {
		opt(&o)
	}
	scr := &screen{opened: map[string]string{}}
	tm := teatest.NewTestModel(t, shownApp{App: New(o), screen: scr}, teatest.WithInitialTermSize(80, 24))
	h := &harness{t: t, fake: fake, local: local, tm: tm, mgr: mgr, bookmarks: marks, screen: scr}
	t.Cleanup(func() {
		// A test that did not end with final (or failed before it) stops
		// the app here, before its folder goes to the next test.
		if !h.ended {
			_ = tm.Quit()
			tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
		}
	})
	h.waitFor("notes.md")
	h.waitFor("report.txt")
	return h
}

// newStrataHarness is newHarness with the focus on the Strata pane.
func newStrataHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.press("tab")
	return h
}

// waitFor waits until s has been drawn (at any time since the start: the
// output is a stream, read once, so it is kept whole here).
func (h *harness) waitFor(s string) {
	h.t.Helper()
	h.waitForSince(0, s)
}

// drawn is how much has been drawn so far, for waitForSince.
func (h *harness) drawn() int { return h.seen.Len() }

// waitForSince waits until s is drawn after the first off bytes of the
// output (see drawn): for what shows again after an action.
func (h *harness) waitForSince(off int, s string) {
	h.t.Helper()
	h.until(func() bool { return bytes.Contains(h.seen.Bytes()[off:], []byte(s)) })
}

// eventually waits until cond holds, drawing on (the app works in
// commands and programs that finish on their own), or fails after 30 s.
// It is for what the app does without a message or a frame to follow
// (a command that removes a file and returns nothing).
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	h.t.Logf("waiting until %s", what)
	h.until(cond)
}

// until reads the output into h.seen until cond holds (teatest checks
// each time output arrives and every few milliseconds), or fails after 30 s
// (a bound for a loaded CI machine, not a wait: it returns when cond holds).
func (h *harness) until(cond func() bool) {
	h.t.Helper()
	if cond() {
		return
	}
	teatest.WaitFor(h.t, io.TeeReader(h.tm.Output(), &h.seen), func([]byte) bool { return cond() },
		teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// mark forgets what was drawn so far: waitFor then sees only what is
// drawn from now on (lines that do not change are not drawn again).
func (h *harness) mark() {
	h.t.Helper()
	buf := make([]byte, 64<<10)
	for {
		n, _ := h.tm.Output().Read(buf)
		if n == 0 {
			break
		}
	}
	h.seen.Reset()
}

// press sends keys. The program handles them in turn, each after the one
// before: what a key does at once the next key finds done. What it does
// by a command's message (a page loads, a dialog's answer closes it) may
// come after the next key, which a test then waits for (waitShown,
// waitGone, waitView, waitOpened, waitFor).
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		if k == "space" {
			k = " "
		}
		h.tm.Send(tuitest.Key(k))
	}
}

// final quits and returns the last screen.
func (h *harness) final() string {
	h.t.Helper()
	h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	h.ended = true
	m := h.tm.FinalModel(h.t, teatest.WithFinalTimeout(30*time.Second))
	return m.(shownApp).App.View()
}

func TestAppOpens(t *testing.T) {
	h := newHarness(t)
	golden.RequireEqual(t, []byte(h.final()))
}

func TestAppUpload(t *testing.T) {
	h := newHarness(t)
	h.press("j", "space", "u") // focus starts on the local pane: mark report.txt, upload
	h.waitFor("1/1 done")
	// The panes reload once a file is done (in the update that shows it):
	// a mark made before the reload's listing comes would be lost to it.
	h.waitGone("reloading…")
	got, ok := h.fake.Content("/home/tester/report.txt")
	if !ok || string(got) != "quarterly numbers\n" {
		t.Fatalf("uploaded %q, %v", got, ok)
	}
	// A folder goes up whole.
	h.press("k", "space", "u")
	h.waitFor("2/2 done")
	if _, ok := h.fake.Content("/home/tester/photos/a.jpg"); !ok {
		t.Fatal("photos/a.jpg not uploaded")
	}
	view := h.final()
	if !strings.Contains(view, "report.txt") || !strings.Contains(view, "photos/") {
		t.Fatalf("the Strata pane does not show the uploads:\n%s", view)
	}
}

func TestAppDownloadConflict(t *testing.T) {
	h := newStrataHarness(t)
	h.press("d") // the cursor is on notes.md, the first name
	h.waitFor("1/1 done")
	h.press("d") // again: it exists now
	h.waitFor("exists")
	h.press("n") // rename
	h.waitFor("notes (1).md")
	for _, name := range []string{"notes.md", "notes (1).md"} {
		b, err := os.ReadFile(filepath.Join(h.local, name))
		if err != nil || string(b) != "# notes\nhello again\n" {
			t.Fatalf("%s: %q %v", name, b, err)
		}
	}
	h.final()
}

func TestAppDeleteAndRestore(t *testing.T) {
	h := newStrataHarness(t)
	h.press("x") // the cursor is on notes.md
	h.waitFor("to the trash?")
	h.waitShown("(20 B) to the trash?") // counted: yes is taken
	h.press("y")
	h.waitFor("Moved")
	if _, ok := h.fake.Content("/home/tester/notes.md"); ok {
		t.Fatal("not deleted")
	}
	h.press("T")
	h.waitFor("Trash")
	h.waitShown("› notes.md") // loaded: r finds it
	h.press("r")
	h.waitFor("The trash is empty")
	h.press("esc")
	if _, ok := h.fake.Content("/home/tester/notes.md"); !ok {
		t.Fatal("not restored")
	}
	h.final()
}

func TestAppVersionsAndHelp(t *testing.T) {
	h := newStrataHarness(t)
	h.press("v")
	h.waitFor("Versions of /home/tester/notes.md")
	h.press("esc")
	h.waitGone("Versions of") // closed: ? is the app's
	h.press("?")
	h.waitFor("Select and find")
	golden.RequireEqual(t, []byte(h.final()))
}

func TestAppConnectionLost(t *testing.T) {
	// The test is the clock: the app says on waiting when it starts to
	// wait before a ping, and a send on pings is PingEvery gone by.
	waiting, pings := make(chan struct{}), make(chan struct{})
	h := newHarness(t, func(o *Options) {
		o.PingWait = func(ctx context.Context) error {
			for _, ch := range []chan struct{}{waiting, pings} {
				select {
				case ch <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}
	})
	step := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatal(what)
		}
	}
	h.press("tab")
	h.fake.SetDown(true)
	h.press("R")
	h.waitFor("Connection to the server lost")
	step(waiting, "the app does not wait to ping the server")
	step(pings, "the app does not ping the server")
	// The ping failed (the server is still down): the app waits again.
	step(waiting, "the app does not wait again after a failed ping")
	h.waitFor("Connection to the server lost")
	h.fake.SetDown(false)
	step(pings, "the app does not ping the server again")
	h.waitFor("Connection to the server is back")
	h.final()
}

func TestAppFileOperations(t *testing.T) {
	h := newStrataHarness(t)
	h.press("n")
	h.waitFor("New folder")
	h.press("d", "r", "a", "f", "t", "s", "enter")
	h.waitFor("Created /home/tester/drafts")
	h.waitShown("drafts/") // reloaded: drafts is the first entry
	h.press("g", "r")      // rename the first entry: drafts
	h.waitFor("Rename")
	for range len("drafts") {
		h.tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	h.press("w", "i", "p", "enter")
	h.waitFor("Renamed to wip")
	if _, err := h.fake.Stat(context.Background(), "/home/tester/wip"); err != nil {
		t.Fatal(err)
	}
	h.final()
}

// Go to: typing replaces the suggested folder, a relative path is read
// as cd reads it, and the suggestion edited with the arrows is kept.
func TestAppJump(t *testing.T) {
	h := newStrataHarness(t)
	h.press(":")
	h.waitFor("Go to")
	h.tm.Type("projects") // not /home/testerprojects
	h.press("enter")
	h.waitFor("Strata /home/tester/projects")
	h.press(":")
	h.waitFor("Go to")
	h.press("end")
	h.tm.Type("/../..")
	h.press("enter")
	h.waitFor("Strata /home ")
	h.final()
}

// A folder a policy lets the user list but not read (strata:ListFolder
// without strata:GetFile, as "/" for most users) can be gone to.
func TestAppJumpListOnly(t *testing.T) {
	h := newStrataHarness(t)
	h.fake.MkdirAll("/projects/acme")
	h.fake.DenyStat("/projects")
	h.press(":")
	h.waitFor("Go to")
	h.tm.Type("/projects")
	h.press("enter")
	h.waitFor("Strata /projects ")
	h.waitFor("acme")
	h.final()
}

// Going to a folder that is not there says so, in the dialog, and leaves
// the pane where it was; nothing is created.
func TestAppJumpMissingFolder(t *testing.T) {
	h := newStrataHarness(t)
	h.press(":")
	h.waitFor("Go to")
	h.tm.Type("/home/testerr")
	h.mark()
	h.press("enter")
	h.waitFor("there is no folder /home/testerr")
	h.press("esc")
	h.waitGone("Go to")
	view := h.final()
	if !strings.Contains(view, "Strata /home/tester ") || strings.Contains(view, "Go to") {
		t.Fatalf("the pane moved or the dialog stayed:\n%s", view)
	}
	if _, err := h.fake.Stat(context.Background(), "/home/testerr"); err == nil {
		t.Fatal("/home/testerr was created")
	}
}

// Tab completes folder names on the Strata pane.
func TestAppJumpCompletes(t *testing.T) {
	h := newStrataHarness(t)
	h.fake.MkdirAll("/home/tester/photos-2025")
	h.fake.MkdirAll("/home/tester/photos-2026")
	h.fake.PutFile("/home/tester/photos-notes.txt", []byte("x"))
	h.press(":")
	h.waitFor("Go to")
	h.tm.Type("pro")
	h.press("tab")
	h.waitFor("projects/")
	h.waitShown("│ > projects/") // completed in the dialog, not the pane's line
	h.press("ctrl+u")
	h.tm.Type("/home/tester/ph")
	h.press("tab")
	h.waitFor("photos-2026") // both listed, the file not
	h.tm.Type("5")
	h.mark()
	h.press("tab", "enter")
	h.waitFor("Strata /home/tester/photos-2025")
	if v := h.final(); strings.Contains(v, "photos-notes") {
		t.Fatalf("a file was offered as a folder:\n%s", v)
	}
}

// The screens' own dialogs get their answers through the app (the app
// once kept every dialog answer for itself, so these waited for ever).
func TestAppVersionsRestoreDialog(t *testing.T) {
	for _, answer := range []string{"enter", "y"} {
		t.Run(answer, func(t *testing.T) {
			h := newStrataHarness(t)
			h.press("v")
			h.waitFor("Versions of /home/tester/notes.md")
			h.waitShown("2 versions") // loaded: j moves to version 1
			h.press("j", "r")
			h.waitFor("Restore a version")
			h.press(answer)
			h.waitFor("Restored version 1 as version 3")
			if got, _ := h.fake.Content("/home/tester/notes.md"); string(got) != "# notes\nhello\n" {
				t.Fatalf("current content %q, want version 1's", got)
			}
			h.final()
		})
	}
	for _, answer := range []string{"esc", "n"} {
		t.Run(answer, func(t *testing.T) {
			h := newStrataHarness(t)
			h.press("v")
			h.waitFor("Versions of /home/tester/notes.md")
			h.waitShown("2 versions") // loaded: j moves to version 1
			h.press("j", "r")
			h.waitFor("Restore a version")
			h.press(answer)
			h.waitGone("Restore a version") // the dialog closes, then the screen
			h.press("esc")
			h.waitGone("Versions of")
			h.waitFor("report.txt")
			if got, _ := h.fake.Content("/home/tester/notes.md"); string(got) != "# notes\nhello again\n" {
				t.Fatalf("content %q changed though the restore was refused", got)
			}
			if v := h.final(); strings.Contains(v, "Versions of") {
				t.Fatalf("still on the versions screen:\n%s", v)
			}
		})
	}
}

func TestAppTrashDialogs(t *testing.T) {
	trashNotes := func(h *harness) {
		h.press("x")
		h.waitFor("to the trash?")
		h.waitShown("(20 B) to the trash?")
		h.press("y")
		h.waitFor("Moved")
		h.press("T")
		h.waitFor("notes.md")
		h.waitShown("› notes.md") // loaded: the keys find it
	}
	t.Run("purge", func(t *testing.T) {
		h := newStrataHarness(t)
		trashNotes(h)
		h.press("D")
		h.waitFor("Delete for good")
		h.press("y")
		h.waitFor("for good.")
		if items := h.fake.TrashItems(); len(items) != 0 {
			t.Fatalf("trash still holds %v", items)
		}
		h.final()
	})
	t.Run("restore to", func(t *testing.T) {
		h := newStrataHarness(t)
		trashNotes(h)
		h.press("R")
		h.waitFor("Restore to")
		h.tm.Send(tea.KeyMsg{Type: tea.KeyCtrlU}) // clear the suggestion
		h.tm.Type("/home/tester/projects/notes.md")
		h.press("enter")
		h.waitFor("Restored")
		if _, ok := h.fake.Content("/home/tester/projects/notes.md"); !ok {
			t.Fatal("not restored to /home/tester/projects")
		}
		h.final()
	})
	t.Run("esc keeps it", func(t *testing.T) {
		h := newStrataHarness(t)
		trashNotes(h)
		h.press("D")
		h.waitFor("Delete for good")
		h.press("esc")
		h.waitGone("Delete for good")
		h.press("esc")
		h.waitGone("Trash")
		h.waitFor("report.txt")
		if items := h.fake.TrashItems(); len(items) != 1 {
			t.Fatalf("trash holds %d items, want 1", len(items))
		}
		h.final()
	})
}

// A status message goes away after a while, unless a newer one replaced
// it (which gets its own while).
func TestStatusExpires(t *testing.T) {
	fake := remotetest.New()
	mgr, err := transfer.New(fake, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	var m tea.Model = New(Options{Remote: fake, LocalDir: t.TempDir(), Transfers: mgr, Styles: tuitest.Styles()})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
	m, cmd := m.Update(opDoneMsg{what: "Uploaded a.txt", pane: paneLocal})
	if cmd == nil {
		t.Fatal("no expiry scheduled")
	}
	first := m.(App).statusSeq
	m, _ = m.Update(opDoneMsg{what: "Moved b.txt", pane: paneLocal})
	m, _ = m.Update(statusExpiredMsg{seq: first})
	if !strings.Contains(m.View(), "Moved b.txt") {
		t.Fatalf("the newer message went with the older one's expiry:\n%s", m.View())
	}
	m, _ = m.Update(statusExpiredMsg{seq: m.(App).statusSeq})
	if strings.Contains(m.View(), "Moved b.txt") {
		t.Fatalf("the message stayed after its time:\n%s", m.View())
	}
}
