package info

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// showMsg asks the harness to show an item, as a cursor move would.
type showMsg struct{ item Item }

// harness stands for the parent: a pane of w-2 × h-2 inside a frame.
type harness struct{ m Model }

func (h harness) Init() tea.Cmd { return nil }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		h.m.SetSize(msg.Width-2, msg.Height-2)
		return h, nil
	case showMsg:
		return h, h.m.Show(msg.item)
	}
	var cmd tea.Cmd
	h.m, cmd = h.m.Update(msg)
	return h, cmd
}

func (h harness) View() string { return h.m.st.Pane.Render(h.m.View()) }

func waitFor(t *testing.T, tm *teatest.TestModel, s ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, x := range s {
			if !strings.Contains(string(b), x) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func stat(t *testing.T, f *remotetest.Fake, p string) Item {
	t.Helper()
	e, err := f.Stat(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return FromEntry(e)
}

// golden runs the panel at w×h on item until it shows all of want, and
// compares its last view.
func golden(t *testing.T, f *remotetest.Fake, item Item, w, h int, want ...string) harness {
	t.Helper()
	return goldenIn(t, "", f, item, w, h, want...)
}

// goldenIn is golden with the program run in the folder dir (local items
// with short relative paths).
func goldenIn(t *testing.T, dir string, f *remotetest.Fake, item Item, w, h int, want ...string) harness {
	t.Helper()
	wd := ""
	if dir != "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
	}
	m := New(context.Background(), tuitest.Styles(), f)
	tm := teatest.NewTestModel(t, harness{m: m}, teatest.WithInitialTermSize(w, h))
	tm.Send(showMsg{item})
	waitFor(t, tm, want...)
	_ = tm.Quit()
	hm := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(harness)
	checkFits(t, hm.m.View(), w-2, h-2)
	if wd != "" {
		// Back among the golden files; t.Chdir's cleanup restores it anyway.
		if err := os.Chdir(wd); err != nil {
			t.Fatal(err)
		}
	}
	teatest.RequireEqualOutput(t, []byte(hm.View()))
	return hm
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

const sample = "# Notes\r\n\tindented\twith tabs\nred: \x1b[31malert\x1b[0m and a bell\a\n" +
	"a line far too long for the panel, it goes on and on and on and on and on and on and on\n日本語のテキスト\n"

func TestGoldenRemoteText(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/notes.txt", []byte("first"))
	f.PutFile("/home/tester/notes.txt", []byte("second"))
	f.PutFile("/home/tester/notes.txt", []byte(sample))
	golden(t, f, stat(t, f, "/home/tester/notes.txt"), 44, 24, "3 kept", "日本語")
}

// A digest the uploader's client gave (clientDigest) says so under it,
// as `strata stat` does.
func TestGoldenClientDigest(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/big.bin", []byte("\x00\x01 not text"))
	f.MarkClientDigest("/home/tester/big.bin", "u1")
	golden(t, f, stat(t, f, "/home/tester/big.bin"), 44, 16, "uploader's client", "1 kept")
}

func TestGoldenBinary(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/img.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	golden(t, f, stat(t, f, "/home/tester/img.png"), 44, 24, "1 kept", "Binary file")
}

func TestGoldenFolder(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/photos/a.jpg", make([]byte, 1000))
	f.PutFile("/home/tester/photos/2025/b.jpg", make([]byte, 2000))
	f.PutFile("/home/tester/photos/2025/c.jpg", make([]byte, 3000))
	hm := golden(t, f, stat(t, f, "/home/tester/photos"), 44, 24, "3 files in 1 folder, 5.9 KiB")
	if hm.m.Loading() || f.Calls["Read"]+f.Calls["Versions"] > 0 {
		t.Errorf("a folder was read as a file: %v", f.Calls)
	}
}

func TestGoldenErrors(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/a.txt", []byte("a"))
	item := stat(t, f, "/home/tester/a.txt")
	f.SetDown(true)
	golden(t, f, item, 44, 16, "unavailable", "read /home/tester/a.txt")
}

func TestGoldenLocal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "readme.md")
	if err := os.WriteFile(p, []byte("Hello\n\tworld\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	mt := time.Date(2025, 12, 24, 18, 30, 0, 0, time.UTC)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	// A relative path keeps the temporary folder out of the golden file.
	goldenIn(t, dir, remotetest.New(), FromLocal("readme.md", fi), 44, 16, "world")
}

func TestLoadingView(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/a.txt", []byte("a"))
	m := New(context.Background(), tuitest.Styles(), f)
	m.SetSize(42, 14)
	if m.Show(stat(t, f, "/home/tester/a.txt")) == nil {
		t.Fatal("no fetch")
	}
	if !m.Loading() {
		t.Fatal("not loading")
	}
	teatest.RequireEqualOutput(t, []byte(m.View()))
	if f.Calls["Read"]+f.Calls["Versions"] > 0 {
		t.Errorf("fetched from Show itself: %v", f.Calls)
	}
}

// run executes cmd and what it batches, returning the Msgs (spinner ticks
// left out).
func run(cmd tea.Cmd) []Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	case Msg:
		if msg.kind == tickMsg {
			return nil
		}
		return []Msg{msg}
	}
	return nil
}

func deliver(m Model, msgs []Msg) (Model, []Msg) {
	var next []Msg
	for _, msg := range msgs {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		next = append(next, run(cmd)...)
	}
	return m, next
}

func TestStaleResultsDropped(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/a.txt", []byte("content of A"))
	f.PutFile("/home/tester/b.txt", []byte("content of B"))
	m := New(context.Background(), tuitest.Styles(), f)
	m.SetSize(40, 20)

	m, resultsA := deliver(m, run(m.Show(stat(t, f, "/home/tester/a.txt")))) // A fetched
	if len(resultsA) != 2 {
		t.Fatalf("A: %d results", len(resultsA))
	}
	fetchB := run(m.Show(stat(t, f, "/home/tester/b.txt"))) // the cursor moves to B
	m, _ = deliver(m, resultsA)                             // A's answers arrive late
	if v := m.View(); strings.Contains(v, "content of A") || !strings.Contains(v, "b.txt") || !m.Loading() {
		t.Fatalf("stale result shown:\n%s", v)
	}
	m, resultsB := deliver(m, fetchB)
	m, _ = deliver(m, resultsB)
	if v := m.View(); !strings.Contains(v, "content of B") || m.Loading() {
		t.Fatalf("B not shown:\n%s", v)
	}
}

func TestCursorMovingFastFetchesOnce(t *testing.T) {
	f := remotetest.New()
	var items []Item
	for i := range 5 {
		p := fmt.Sprintf("/home/tester/f%d", i)
		f.PutFile(p, []byte(p))
		items = append(items, stat(t, f, p))
	}
	m := New(context.Background(), tuitest.Styles(), f)
	var fetches []Msg
	for _, it := range items {
		fetches = append(fetches, run(m.Show(it))...)
	}
	m, results := deliver(m, fetches)
	m, _ = deliver(m, results)
	if f.Calls["Read"] != 1 || f.Calls["Versions"] != 1 {
		t.Errorf("calls %v: only the last item should be fetched", f.Calls)
	}
	if !strings.Contains(m.View(), "/home/tester/f4") {
		t.Errorf("last item not shown:\n%s", m.View())
	}
	if m.Show(items[4]) != nil {
		t.Error("showing the same item again fetched it again")
	}
}

func TestMovingOnCancelsFetch(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/a", []byte("a"))
	f.PutFile("/home/tester/b", []byte("b"))
	a, b := stat(t, f, "/home/tester/a"), stat(t, f, "/home/tester/b")
	f.Latency = 10 * time.Second
	m := New(context.Background(), tuitest.Styles(), f)
	fetch := run(m.Show(a))
	m, cmd := m.Update(fetch[0])
	got := make(chan []Msg, 1)
	go func() { got <- run(cmd) }() // blocked in the slow server
	m.Show(b)
	select {
	case msgs := <-got:
		for _, msg := range msgs {
			if !errors.Is(msg.err, context.Canceled) {
				t.Errorf("result %+v, want canceled", msg)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("moving on did not cancel the fetch")
	}
}

func TestSkippedPreviews(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/big", make([]byte, MaxPreviewSize+1))
	f.PutFile("/home/tester/cold", []byte("x"))
	m := New(context.Background(), tuitest.Styles(), f)
	m.SetSize(40, 20)
	m, res := deliver(m, run(m.Show(stat(t, f, "/home/tester/big"))))
	m, _ = deliver(m, res)
	if !strings.Contains(m.View(), "No preview: larger than 1.0 MiB.") || f.Calls["Read"] != 0 {
		t.Errorf("big file: calls %v\n%s", f.Calls, m.View())
	}
	cold := stat(t, f, "/home/tester/cold")
	cold.State = "archived"
	m, res = deliver(m, run(m.Show(cold)))
	m, _ = deliver(m, res)
	if !strings.Contains(m.View(), "No preview: the file is archived.") || f.Calls["Read"] != 0 {
		t.Errorf("archived file: calls %v\n%s", f.Calls, m.View())
	}
	m.Clear()
	if !strings.Contains(m.View(), "Nothing selected.") {
		t.Errorf("cleared:\n%s", m.View())
	}
}

func TestControlCharactersEscaped(t *testing.T) {
	var all []byte
	for c := byte(1); c < 0x20; c++ {
		all = append(all, 'x', c)
	}
	all = append(all, "\x7f \u009b31m \u202eevil\n"...)
	f := remotetest.New()
	f.PutFile("/home/tester/\x1b[2Jevil\x07name", all)
	m := New(context.Background(), tuitest.Styles(), f)
	m.SetSize(200, 30)
	m, res := deliver(m, run(m.Show(stat(t, f, "/home/tester/\x1b[2Jevil\x07name"))))
	m, _ = deliver(m, res)
	v := m.View()
	if !strings.Contains(v, "␛[2Jevil␇name") || !strings.Contains(v, "x␛") {
		t.Fatalf("not made visible:\n%s", v)
	}
	for _, r := range v {
		if r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f || r == 0x202e {
			t.Fatalf("raw control character %U drawn:\n%q", r, v)
		}
	}
}

func TestIsText(t *testing.T) {
	cut := []byte("héllo")[:2] // "h" and half of "é"
	for _, c := range []struct {
		data      string
		truncated bool
		want      bool
	}{
		{"plain text\n", false, true},
		{"", false, true},
		{"nul\x00inside", false, false},
		{"\xff\xfe latin-1", false, false},
		{string(cut), true, true},
		{string(cut), false, false},
		{"日本語", false, true},
		{"\x1b[31m escapes are text", false, true},
	} {
		if got := IsText([]byte(c.data), c.truncated); got != c.want {
			t.Errorf("IsText(%q, %v) = %v", c.data, c.truncated, got)
		}
	}
}

func TestPreviewLines(t *testing.T) {
	got := PreviewLines([]byte("a\tb\r\n\tc\n12345\tx\nesc\x1b[0m\n"), false)
	want := []string{"a   b", "    c", "12345   x", "esc␛[0m"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := PreviewLines([]byte("ab\xe6\x97"), true); len(got) != 1 || got[0] != "ab" {
		t.Errorf("partial rune kept: %q", got)
	}
}

func TestLongLinesCutAndScroll(t *testing.T) {
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %03d %s\n", i, strings.Repeat("x", 80))
	}
	f := remotetest.New()
	f.PutFile("/home/tester/long.txt", []byte(b.String()))
	m := New(context.Background(), tuitest.Styles(), f)
	m.SetSize(30, 20)
	m, res := deliver(m, run(m.Show(stat(t, f, "/home/tester/long.txt"))))
	m, _ = deliver(m, res)
	checkFits(t, m.View(), 30, 20)
	if !strings.Contains(m.View(), "line 000") {
		t.Fatalf("preview missing:\n%s", m.View())
	}
	for range 3 {
		m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("J")})
	}
	if v := m.View(); strings.Contains(v, "line 002") || !strings.Contains(v, "line 003") {
		t.Errorf("not scrolled:\n%s", v)
	}
	for range 500 {
		m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("J")})
	}
	if v := m.View(); !strings.Contains(v, "line 099") {
		t.Errorf("not at the end:\n%s", v)
	}
	m.SetSize(30, 60) // taller: the scroll follows
	if v := m.View(); !strings.Contains(v, "line 099") || m.scroll != 100-m.previewRoom() {
		t.Errorf("scroll %d after resize", m.scroll)
	}
	checkFits(t, m.View(), 30, 60)
}

func TestLocalRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	_, _, err := readLocal(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("folder read: %v", err)
	}
	if _, _, err := readLocal(context.Background(), dir+"/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	big := dir + "/big"
	if err := os.WriteFile(big, make([]byte, ReadLimit+10), 0o600); err != nil {
		t.Fatal(err)
	}
	data, truncated, err := readLocal(context.Background(), big)
	if err != nil || len(data) != ReadLimit || !truncated {
		t.Errorf("big: %d bytes, truncated %v, %v", len(data), truncated, err)
	}
}

// blockingList is a server whose listings wait until their context ends,
// and say that it did.
type blockingList struct {
	*remotetest.Fake
	listing chan struct{}
	ended   chan error
}

func (b blockingList) List(ctx context.Context, dir, cursor string, limit int) (remote.Page, error) {
	b.listing <- struct{}{}
	<-ctx.Done()
	b.ended <- ctx.Err()
	return remote.Page{}, ctx.Err()
}

// A folder's count stops when the cursor moves on, and what it still
// delivers is dropped.
func TestFolderCountCanceled(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/photos/a.jpg", []byte("x"))
	f.PutFile("/home/tester/notes.txt", []byte("y"))
	r := blockingList{Fake: f, listing: make(chan struct{}), ended: make(chan error, 1)}
	m := New(context.Background(), tuitest.Styles(), r)
	m.Show(stat(t, f, "/home/tester/photos"))
	m, cmd := m.Update(Msg{gen: m.gen, kind: fetchMsg}) // the cursor rested
	late := make(chan tea.Msg)
	go func() { late <- cmd() }()
	<-r.listing
	if !strings.Contains(m.View(), "counting…") {
		t.Errorf("no sign of the count:\n%s", m.View())
	}
	m.Show(stat(t, f, "/home/tester/notes.txt"))
	if err := <-r.ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("the count went on: %v", err)
	}
	m, _ = m.Update(<-late)
	if v := m.View(); strings.Contains(v, "Holds") || strings.Contains(v, "count") {
		t.Errorf("the abandoned count shows:\n%s", v)
	}
}

// A local folder is counted too, with progress while it runs.
func TestLocalFolderCount(t *testing.T) {
	dir := t.TempDir()
	for i := range 1500 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), []byte("12"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := New(context.Background(), tuitest.Styles(), nil)
	m.SetSize(60, 20)
	if m.Show(FromLocal(dir, fi)) == nil {
		t.Fatal("a local folder is not counted")
	}
	gen := m.gen
	m, cmd := m.Update(Msg{gen: gen, kind: fetchMsg})
	// A report on the way shows how far the count got.
	m, _ = m.Update(Msg{gen: gen, kind: countMsg, count: background.Update[treecount.Total]{Value: treecount.Total{Files: 1204, Bytes: 3435973837}}})
	if v := m.View(); !strings.Contains(v, "1,204 files, 3.2 GiB so far…") {
		t.Errorf("progress not shown:\n%s", v)
	}
	tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		return cmd
	})
	if v := m.View(); !strings.Contains(v, "1,500 files, 2.9 KiB") || m.Loading() {
		t.Errorf("count not shown:\n%s", v)
	}
}
