package transfer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

// host is a root model holding the transfers view, as the TUI's does.
type host struct{ m Model }

func (h host) Init() tea.Cmd { return h.m.Init() }

func (h host) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width, msg.Height)
		return h, nil
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			return h, tea.Quit
		}
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h host) View() string { return h.m.View() }

// runView shows m at 80x24 until the output holds want, and returns the
// final view.
func runView(t *testing.T, m *Manager, want string) string {
	t.Helper()
	tm := teatest.NewTestModel(t, host{NewModel(m, tuitest.Styles())}, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(want)) },
		teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	view := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).View()
	checkSize(t, view, 80, 24)
	return view
}

func checkSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i+1, n, w, l)
		}
	}
}

// chdirTemp moves the test into a temporary folder and returns the
// package's.
func chdirTemp(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	return wd
}

// requireGolden compares a view with testdata/<test>.golden (go test
// -update rewrites it).
func requireGolden(t *testing.T, wd, view string) {
	t.Helper()
	if err := os.Chdir(wd); err != nil { // golden reads testdata/ from here
		t.Fatal(err)
	}
	golden.RequireEqual(t, []byte(view))
}

// stepper is a Remote whose uploads move only when the test says.
type stepper struct {
	*remotetest.Fake
	mu      sync.Mutex
	calls   map[string]*stepCall
	started chan struct{} // closed and replaced as each upload starts
}

type stepCall struct {
	steps chan step
}

type step struct {
	n      int64
	finish bool
	done   chan struct{}
}

func (s *stepper) Upload(ctx context.Context, local, p string, progress remote.Progress) (remote.Entry, error) {
	c := &stepCall{steps: make(chan step)}
	s.mu.Lock()
	s.calls[p] = c
	close(s.started)
	s.started = make(chan struct{})
	s.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return remote.Entry{}, ctx.Err()
		case st := <-c.steps:
			if st.finish {
				e, err := s.Fake.Upload(ctx, local, p, nil)
				close(st.done)
				return e, err
			}
			progress(st.n)
			close(st.done)
		}
	}
}

// call waits for the upload to p to start.
func (s *stepper) call(t *testing.T, p string) *stepCall {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		c, started := s.calls[p], s.started
		s.mu.Unlock()
		if c != nil {
			return c
		}
		select {
		case <-started:
		case <-timeout:
			t.Fatalf("no upload to %s", p)
			return nil
		}
	}
}

func (c *stepCall) send(n int64, finish bool) {
	done := make(chan struct{})
	c.steps <- step{n: n, finish: finish, done: done}
	<-done
}

// sparse makes a file of n bytes quickly.
func sparse(t *testing.T, name string, n int64) {
	t.Helper()
	writeFile(t, name, nil)
	if err := os.Truncate(name, n); err != nil {
		t.Fatal(err)
	}
}

const MiB = 1 << 20

func TestViewBatchInProgress(t *testing.T) {
	wd := chdirTemp(t) // relative local paths: the same on every run
	f := remotetest.New()
	f.MkdirAll("/home/ann")
	sizes := []struct {
		name string
		size int64
	}{
		{"a.jpg", 4 * MiB}, {"b.jpg", 8 * MiB}, {"c.jpg", 2 * MiB}, {"d.raw", 24 * MiB},
		{"holiday-2025-mountains-panorama-stitched-final-version.tif", 16 * MiB}, {"z.jpg", MiB},
	}
	for _, s := range sizes {
		sparse(t, filepath.Join("pics", s.name), s.size)
	}
	sr := &stepper{Fake: f, calls: map[string]*stepCall{}, started: make(chan struct{})}
	clk := newClock()
	m := newManager(t, sr, Options{Now: clk.Now})
	m.Upload("pics", "/home/ann")
	waitFor(t, m, "four uploads", func(s Snapshot) bool { return s.Files == 6 && s.Walking == 0 && s.Running == 4 })
	calls := map[string]*stepCall{}
	for _, s := range sizes[:4] {
		calls[s.name] = sr.call(t, "/home/ann/pics/"+s.name)
	}

	clk.Advance(4 * time.Second)
	calls["a.jpg"].send(4*MiB, false)
	calls["a.jpg"].send(0, true)
	sr.call(t, "/home/ann/pics/"+sizes[4].name)
	calls["b.jpg"].send(4*MiB, false)
	calls["c.jpg"].send(MiB/2, false)
	calls["d.raw"].send(6*MiB, false)
	waitFor(t, m, "the progress", func(s Snapshot) bool {
		return s.FilesDone == 1 && s.BytesDone == 14*MiB+MiB/2 && s.Running == 4
	})

	view := runView(t, m, "ETA")
	requireGolden(t, wd, view)
}

func TestViewConflict(t *testing.T) {
	wd := chdirTemp(t)
	f := remotetest.New()
	f.PutFile("/home/ann/pics/photo.jpg", []byte("theirs"))
	f.PutFile("/home/ann/pics/zz-notes.txt", []byte("theirs"))
	writeFile(t, "pics/photo.jpg", []byte("mine, longer"))
	writeFile(t, "pics/zz-notes.txt", []byte("mine"))
	writeFile(t, "pics/new.jpg", []byte("new"))
	m := newManager(t, f, Options{Now: newClock().Now})
	m.Upload("pics", "/home/ann")
	waitFor(t, m, "the conflicts", func(s Snapshot) bool {
		return s.Conflicts == 2 && s.FilesDone == 1 && finished(s) == false && s.Running == 0
	})

	view := runView(t, m, "capital for all")
	requireGolden(t, wd, view)
}

func TestViewFailed(t *testing.T) {
	wd := chdirTemp(t)
	f := remotetest.New()
	f.MkdirAll("/home/ann")
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		if strings.HasSuffix(p, "secret.doc") {
			progress(3)
			progress(-3)
			return remote.Entry{}, fmt.Errorf("put %s: %w: no write access to /home/ann/pics", p, remote.ErrForbidden)
		}
		return next()
	}}
	writeFile(t, "pics/ok.jpg", content(1, 3000))
	writeFile(t, "pics/secret.doc", []byte("secret"))
	m := newManager(t, h, Options{Now: newClock().Now})
	m.Upload("pics", "/home/ann")
	waitFor(t, m, "the failure", func(s Snapshot) bool { return s.Failed == 1 && s.FilesDone == 1 && finished(s) })

	view := runView(t, m, "1 failed")
	requireGolden(t, wd, view)
}

// TestViewSkipped: what an upload skipped (localtree's rule) is counted in
// the status line, and each row says why.
func TestViewSkipped(t *testing.T) {
	wd := chdirTemp(t)
	f := remotetest.New()
	f.MkdirAll("/home/ann")
	writeFile(t, "pics/ok.jpg", content(1, 3000))
	if err := os.Symlink("gone.jpg", "pics/old.jpg"); err != nil {
		t.Skip("no symlinks:", err)
	}
	m := newManager(t, f, Options{Now: newClock().Now})
	m.Upload("pics", "/home/ann")
	waitFor(t, m, "the batch", func(s Snapshot) bool { return s.Skipped == 1 && s.FilesDone == 1 && finished(s) })

	view := runView(t, m, "1 skipped")
	if !strings.Contains(view, "skipped: broken symbolic link (to gone.jpg)") {
		t.Errorf("the row does not say why:\n%s", view)
	}
	requireGolden(t, wd, view)
}

// TestModelKeys drives the Manager through the view's keys.
func TestModelKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	f := remotetest.New()
	f.PutFile("/home/ann/pics/photo.jpg", []byte("theirs"))
	f.PutFile("/home/ann/pics/zz.jpg", []byte("theirs"))
	writeFile(t, "pics/photo.jpg", []byte("mine"))
	writeFile(t, "pics/zz.jpg", []byte("mine"))
	m := newManager(t, blockingUploadsExcept(f, "zz"), Options{Now: newClock().Now})
	m.Upload("pics", "/home/ann")
	waitFor(t, m, "the conflicts", func(s Snapshot) bool { return s.Conflicts == 2 && s.Walking == 0 })

	tm := teatest.NewTestModel(t, host{NewModel(m, tuitest.Styles())}, teatest.WithInitialTermSize(80, 24))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte("capital for all")) },
		teatest.WithDuration(30*time.Second))
	tm.Type("o") // photo.jpg: overwrite (its upload hangs)
	waitFor(t, m, "photo.jpg running", func(s Snapshot) bool { return s.Running == 1 && s.Conflicts == 1 })
	tm.Type("N") // zz.jpg: rename, for all
	s := waitFor(t, m, "zz renamed", func(s Snapshot) bool { return s.FilesDone == 1 && s.Conflicts == 0 })
	if got, _ := f.Content("/home/ann/pics/zz (1).jpg"); string(got) != "mine" {
		t.Fatalf("zz (1).jpg = %q\n%s", got, dump(s))
	}
	// The cursor followed the questions; g takes it to the running job
	// (first in the list): cancel it, then retry it.
	tm.Type("g")
	tm.Type("c")
	waitFor(t, m, "the cancel", func(s Snapshot) bool { return s.Running == 0 && s.Jobs[0].ID == 1 && s.Jobs[0].State == Canceled })
	tm.Type("r") // the canceled job is first among the finished ones
	waitFor(t, m, "the retry", func(s Snapshot) bool { return s.Running == 1 })
	tm.Type("C")
	waitFor(t, m, "cancel all", func(s Snapshot) bool { return s.Running == 0 && finished(s) })
	tm.Type("x")
	waitFor(t, m, "clear", func(s Snapshot) bool { return s.Total == 0 })
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
}

func blockingUploadsExcept(f *remotetest.Fake, except string) *hooked {
	h := blockingUploads(f)
	block := h.upload
	h.upload = func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		if strings.Contains(p, except) {
			return next()
		}
		return block(ctx, local, p, progress, next)
	}
	return h
}

// TestViewScrolls checks the window follows the cursor through a long list
// and every frame fits its size.
func TestViewScrolls(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, blockingUploads(f), Options{Parallel: 1, Now: newClock().Now})
	src := t.TempDir()
	for i := range 50 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("file-%02d", i)), content(i, 100))
	}
	m.Upload(src, "/home/tester")
	waitFor(t, m, "the queue", func(s Snapshot) bool { return s.Files == 50 && s.Running == 1 })
	mo := NewModel(m, tuitest.Styles())
	for _, size := range [][2]int{{80, 24}, {120, 40}, {40, 10}} {
		mo.SetSize(size[0], size[1])
		checkSize(t, mo.View(), size[0], size[1])
	}
	mo.SetSize(80, 24)
	for range 30 {
		mo, _ = mo.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	j, ok := mo.Selected()
	if !ok || j.ID != 31 {
		t.Fatalf("selected %+v", j)
	}
	v := mo.View()
	if !strings.Contains(v, "file-30") || strings.Contains(v, "file-00 ") || !strings.Contains(v, "of 50") {
		t.Fatalf("view after scrolling:\n%s", v)
	}
	checkSize(t, v, 80, 24)
	mo, _ = mo.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	if j, _ := mo.Selected(); j.ID != 50 {
		t.Fatalf("G selected %+v", j)
	}
}

// TestViewConflictInView: a question about a name that exists is asked
// about a job far down the list (behind the queue): the view brings that
// job under the cursor, once, so the user sees what is asked about.
func TestViewConflictInView(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/src/a-exists", []byte("theirs"))
	m := newManager(t, blockingUploadsExcept(f, "a-exists"), Options{Parallel: 2, Now: newClock().Now})
	src := filepath.Join(t.TempDir(), "src")
	writeFile(t, filepath.Join(src, "a-exists"), []byte("mine"))
	for i := range 50 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("file-%02d", i)), content(i, 100))
	}
	m.Upload(src, "/home/tester")
	waitFor(t, m, "the conflict", func(s Snapshot) bool { return s.Conflicts == 1 && s.Walking == 0 && s.Queued > 30 })
	mo := NewModel(m, tuitest.Styles())
	mo.SetSize(80, 24)
	j, ok := mo.Selected()
	if !ok || j.State != Conflict || !strings.Contains(mo.View(), "a-exists") {
		t.Fatalf("the cursor is on %+v, not the conflict:\n%s", j, mo.View())
	}
	// The user may scroll away; the view does not pull them back.
	mo, _ = mo.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")})
	mo, _ = mo.Update(ChangedMsg{m})
	if j, _ := mo.Selected(); j.State == Conflict {
		t.Fatalf("the cursor went back to the conflict")
	}
}

// TestWaitIdle checks that an idle view waits for a change rather than
// polling, and that Close releases it.
func TestWaitIdle(t *testing.T) {
	f := remotetest.New()
	m, err := New(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mo := NewModel(m, tuitest.Styles())
	got := make(chan tea.Msg, 1)
	go func() { got <- mo.Wait()() }()
	select {
	case msg := <-got:
		t.Fatalf("idle Wait returned %#v", msg)
	case <-time.After(300 * time.Millisecond):
	}
	m.Upload(filepath.Join(t.TempDir(), "missing"), "/home/tester")
	select {
	case msg := <-got:
		if _, ok := msg.(ChangedMsg); !ok {
			t.Fatalf("Wait returned %#v", msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait missed the change")
	}
	waitFor(t, m, "the failure", func(s Snapshot) bool { return s.Failed == 1 && s.Walking == 0 })
	mo, _ = mo.Update(ChangedMsg{m})
	select { // a change already seen
	case <-m.Changed():
	default:
	}
	// Whether Close comes before Wait blocks or after, Wait meets the
	// closed Manager in the one select that waits.
	go func() { got <- mo.Wait()() }()
	m.Close()
	select {
	case msg := <-got:
		if msg != nil {
			t.Fatalf("Wait after Close returned %#v", msg)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not release Wait")
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{27 * time.Second: "27s", 245 * time.Second: "4m05s", 130 * time.Minute: "2h10m"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := cutLeft("/home/ann/pics/photo.jpg", 12); got != "…s/photo.jpg" {
		t.Errorf("cutLeft = %q", got)
	}
	if got := clean("a\x1b[2Jb\n"); got != "a?[2Jb?" {
		t.Errorf("clean = %q", got)
	}
}
