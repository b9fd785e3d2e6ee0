package filelist

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
)

func open(src Source, dir string, w, h int) (Model, []tea.Msg) {
	m := newList(src, dir)
	m.SetSize(w, h)
	return drive(m, m.Init())
}

func TestPagingRequestsOnlyWhatIsNeeded(t *testing.T) {
	src := newTestSource()
	src.big["/big"] = 20_000
	m, msgs := open(src, "/big", 60, 22) // 20 rows
	if n := src.callCount(); n != 1 || len(m.items) != PageSize {
		t.Fatalf("open: %d calls, %d items", n, len(m.items))
	}
	if len(msgs) != 1 || msgs[0] != (OpenedMsg{Source: "Test", Dir: "/big"}) {
		t.Errorf("open sent %v", msgs)
	}
	// Scrolling within what is loaded asks nothing until two screens
	// (40 rows) from its end.
	m, _ = press(m, "pgdown", "pgdown")
	m.cur = PageSize - 41
	m, _ = press(m, "pgup", "pgdown")
	if n := src.callCount(); n != 1 {
		t.Fatalf("%d calls before the end came near", n)
	}
	m, _ = press(m, "j")
	if c := src.callList(); len(c) != 2 || c[1].cursor != "500" || c[1].limit != PageSize {
		t.Fatalf("calls %v", c)
	}
	// A sort by size needs every entry: the rest comes in big pages.
	m, _ = press(m, "s")
	if !m.done || len(m.items) != 20_000 {
		t.Fatalf("sort: done %v with %d items", m.done, len(m.items))
	}
	calls := src.callList()
	if want := 2 + (20_000-2*PageSize)/BulkPageSize; len(calls) != want {
		t.Errorf("%d calls, want %d", len(calls), want)
	}
	for _, c := range calls[2:] {
		if c.limit != BulkPageSize {
			t.Fatalf("background page of %d", c.limit)
		}
	}
	// The largest is first, and sizes never go up.
	for i := 1; i < len(m.vis); i++ {
		if m.items[m.vis[i]].Size > m.items[m.vis[i-1]].Size {
			t.Fatal("not sorted by size")
		}
	}
	m, _ = press(m, "G", "g", "s", "s")
	if n := src.callCount(); n != len(calls) {
		t.Errorf("a loaded folder was read again (%d calls)", n)
	}
}

func TestStalePagesDropped(t *testing.T) {
	src := fixture()
	m := newList(src, "/home")
	m.SetSize(60, 10)
	stale := m.Init() // the first page of /home, not delivered yet
	nav := m.Navigate("/home/docs")
	m, _ = drive(m, stale)
	if len(m.items) != 0 || m.Dir() != "/home/docs" || !m.Loading() {
		t.Fatalf("a page of /home landed in /home/docs: %d items", len(m.items))
	}
	m, msgs := drive(m, nav)
	if got := names(m.items); !slices.Equal(got, []string{"a.txt", "b.txt"}) {
		t.Fatalf("items %v", got)
	}
	if len(msgs) != 1 || msgs[0].(OpenedMsg).Dir != "/home/docs" {
		t.Errorf("msgs %v", msgs)
	}

	// The other pane's pages are not ours either.
	other := newList(src, "/home")
	theirs := other.Init()
	before := len(m.items)
	m, _ = drive(m, theirs)
	if len(m.items) != before {
		t.Error("took another list's page")
	}

	// Navigating cancels the request that is dropped.
	m2 := newList(src, "/home")
	ctx := m2.ctx
	m2.Navigate("/home/docs")
	if ctx.Err() == nil {
		t.Error("the old request was not cancelled")
	}
}

func TestSelectedSemantics(t *testing.T) {
	m, _ := open(fixture(), "/home", 60, 20)
	cur, _ := m.Current()
	if got := m.Selected(); len(got) != 1 || got[0] != cur {
		t.Fatalf("no marks: %v", names(got))
	}
	m, _ = press(m, " ", " ") // ABOUT.md, then archive.tar.gz (space moves down)
	if got := names(m.Selected()); !slices.Equal(got, []string{"ABOUT.md", "archive.tar.gz"}) {
		t.Fatalf("marked %v", got)
	}
	if m.selN != 2 || m.selBytes != 1500+734003200 {
		t.Errorf("count %d bytes %d", m.selN, m.selBytes)
	}
	// Marks the filter hides do not count: operations act on what is seen.
	m, _ = press(m, "/", "a", "r", "enter")
	if got := names(m.Selected()); !slices.Equal(got, []string{"archive.tar.gz"}) {
		t.Fatalf("filtered: %v", got)
	}
	m, _ = press(m, "esc")
	if len(m.Selected()) != 2 {
		t.Fatal("the marks did not come back with the filter cleared")
	}
	// In size order, Selected follows the display.
	m, _ = press(m, "s")
	if got := names(m.Selected()); !slices.Equal(got, []string{"archive.tar.gz", "ABOUT.md"}) {
		t.Fatalf("by size: %v", got)
	}
	m.ClearSelection()
	if len(m.Selected()) != 1 || m.selN != 0 || m.selBytes != 0 {
		t.Fatal("ClearSelection")
	}
	// Empty folder: nothing.
	e, _ := open(fixture(), "/home/photos", 60, 20)
	if got := e.Selected(); got != nil {
		t.Errorf("empty folder: %v", got)
	}
}

func TestSelectAllFollowsPages(t *testing.T) {
	src := newTestSource()
	src.big["/big"] = 2500
	m, _ := open(src, "/big", 60, 20)
	m, _ = press(m, "ctrl+a")
	if !m.done || m.selN != 2500 {
		t.Fatalf("ctrl+a: done %v, %d marked", m.done, m.selN)
	}
	m, _ = press(m, " ") // unmarking one ends "all"
	if m.markAll || m.selN != 2499 {
		t.Fatalf("after unmark: %v %d", m.markAll, m.selN)
	}
}

func TestReloadKeepsCursorAndMarks(t *testing.T) {
	src := newTestSource()
	src.big["/big"] = 5000
	m, _ := open(src, "/big", 60, 20)
	m, _ = press(m, "pgdown", "pgdown", "pgdown", "j", " ", "k")
	marked := m.items[m.vis[m.cur]].Name
	want, _ := m.Current()
	row := m.cur - m.off
	m, _ = drive(m, m.Reload())
	got, _ := m.Current()
	if got.Path != want.Path || m.cur-m.off != row {
		t.Fatalf("reload: cursor on %s row %d, want %s row %d", got.Path, m.cur-m.off, want.Path, row)
	}
	if sel := names(m.Selected()); !slices.Equal(sel, []string{marked}) {
		t.Errorf("marks after reload: %v", sel)
	}

	// A name deep in the folder is followed through the pages.
	m, _ = press(m, "G")
	m.cur = 4321
	m.scrollTo(-1)
	want, _ = m.Current()
	m, _ = drive(m, m.Reload())
	if got, _ := m.Current(); got.Path != want.Path {
		t.Fatalf("deep reload: cursor on %s", got.Path)
	}

	// When the entry is gone the cursor keeps its index.
	small := fixture()
	m, _ = open(small, "/home", 60, 20)
	m, _ = press(m, "j") // archive.tar.gz
	small.dirs["/home"] = slices.DeleteFunc(small.dirs["/home"], func(it Item) bool { return it.Name == "archive.tar.gz" })
	m, _ = drive(m, m.Reload())
	if got, _ := m.Current(); m.cur != 1 || got.Name != "docs" {
		t.Fatalf("gone: cursor %d on %s", m.cur, got.Name)
	}
}

func TestErrorsNeverStick(t *testing.T) {
	src := fixture()
	src.fail[1] = errors.New("boom")
	m, _ := open(src, "/home", 40, 10)
	if m.Err() == nil || !strings.Contains(m.View(), "R to retry") {
		t.Fatalf("error not shown:\n%s", m.View())
	}
	m, _ = press(m, "j", "enter", "s", " ", "ctrl+a", "G") // nothing breaks on an empty, failed list
	m, _ = drive(m, m.Reload())
	if m.Err() != nil || len(m.items) == 0 {
		t.Fatalf("reload: %v", m.Err())
	}
}

// finalErr is a refusal: trying again will not change it.
type finalErr struct{}

func (finalErr) Error() string { return "forbidden: strata:ListFolder on /home: access denied" }
func (finalErr) Final() bool   { return true }

// A refusal offers no retry, only the way up.
func TestRefusalOffersNoRetry(t *testing.T) {
	src := fixture()
	src.fail[1] = fmt.Errorf("list /home: %w", finalErr{})
	m, _ := open(src, "/home", 60, 10)
	if v := m.View(); strings.Contains(v, "R to retry") || !strings.Contains(v, "Backspace goes up") {
		t.Fatalf("a refusal:\n%s", v)
	}
}

// checkBox checks that a view is exactly its size: every line as wide as
// the first, no raw control characters but SGR.
func checkBox(t *testing.T, view string) {
	t.Helper()
	lines := strings.Split(view, "\n")
	w := ansi.StringWidth(lines[0])
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Fatalf("line %d is %d wide, want %d:\n%s", i, got, w, view)
		}
		plain := ansi.Strip(l)
		if strings.ContainsFunc(plain, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u202e' }) {
			t.Fatalf("line %d has a raw control character: %q", i, plain)
		}
	}
}

func TestViewIsAlwaysItsSize(t *testing.T) {
	m, _ := open(fixture(), "/home", 60, 20)
	m, _ = press(m, ".", "j", " ", "/", "e")
	for w := 1; w <= 130; w += 3 {
		for h := 1; h <= 16; h += 2 {
			m.SetSize(w, h)
			v := m.View()
			if got := strings.Count(v, "\n") + 1; got != h {
				t.Fatalf("%dx%d: %d lines", w, h, got)
			}
			checkBox(t, v)
			if got := ansi.StringWidth(strings.Split(v, "\n")[0]); got != w {
				t.Fatalf("%dx%d: %d wide", w, h, got)
			}
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt":           "plain.txt",
		"日本語.txt":             "日本語.txt",
		"a\x1b[31mb":          `a\x1b[31mb`,
		"new\nline\ttab\r":    `new\nline\ttab\r`,
		"bad\xffutf8":         `bad\xffutf8`,
		"rtl\u202efdp.exe":    `rtl\u202efdp.exe`,
		"c1\u009bcontrol":     `c1\u009bcontrol`,
		"👨\u200d👩\u200d👧.png": "👨\u200d👩\u200d👧.png",
		"del\x7f":             `del\x7f`,
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHumanAndFit(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		15 * 1024: "15 KiB", 1048575: "1.0 MiB", 734003200: "700 MiB", 1 << 40: "1.0 TiB"} {
		if got := human.Short(n); got != want || len(got) > sizeW {
			t.Errorf("human.Short(%d) = %q, want %q", n, got, want)
		}
	}
	if got := fit("日本語ファイル", 7); got != "日本語…" || ansi.StringWidth(got) != 7 {
		t.Errorf("fit wide = %q", got)
	}
	if got := fitLeft("/a/very/long/path", 8); got != "…ng/path" {
		t.Errorf("fitLeft = %q", got)
	}
}

// benchList is a loaded list of n entries with the cursor in the middle.
func benchList(n int) Model {
	src := newTestSource()
	m := newList(src, "/big")
	m.SetSize(120, 50)
	items := make([]Item, n)
	for i := range items {
		items[i] = bigItem("/big", i)
	}
	m.inflight, m.done = false, true
	m.appendItems(items)
	m.cur = n / 2
	m.scrollTo(-1)
	return m
}

func benchmarkView(b *testing.B, n int) {
	m := benchList(n)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

func BenchmarkView10k(b *testing.B)  { benchmarkView(b, 10_000) }
func BenchmarkView100k(b *testing.B) { benchmarkView(b, 100_000) }

// TestViewCostFlat is the benchmarks' claim as a test: a frame of a
// 100,000-entry folder allocates what one of 10,000 does (give or take
// the digits of the numbers shown), and takes about as long (best of
// several runs, to ride out a busy machine).
func TestViewCostFlat(t *testing.T) {
	small, big := benchList(10_000), benchList(100_000)
	as := testing.AllocsPerRun(20, func() { _ = small.View() })
	ab := testing.AllocsPerRun(20, func() { _ = big.View() })
	if ab > as+10 {
		t.Errorf("View allocates %v for 10k, %v for 100k", as, ab)
	}
	best := func(m Model) time.Duration {
		b := time.Duration(1 << 62)
		for range 5 {
			start := time.Now()
			for range 20 {
				_ = m.View()
			}
			b = min(b, time.Since(start))
		}
		return b
	}
	if ds, db := best(small), best(big); db > 4*ds {
		t.Errorf("20 frames: %v for 10k, %v for 100k", ds, db)
	}
}

// Names sort naturally, though the source pages in byte order: each page
// merges in, and once the folder is loaded the order is note1 … note1200.
func TestNaturalOrderAcrossPages(t *testing.T) {
	src := newTestSource()
	var items []Item
	for i := 1; i <= 1200; i++ {
		items = append(items, Item{Name: fmt.Sprintf("note%d", i)})
	}
	src.add("/notes", items...)
	m, _ := open(src, "/notes", 60, 22)
	if got := m.items[m.vis[1]].Name; got != "note2" { // byte order: note10
		t.Fatalf("second entry is %s", got)
	}
	m, _ = press(m, "G")
	if !m.done || len(m.vis) != 1200 {
		t.Fatalf("G: done %v, %d shown", m.done, len(m.vis))
	}
	for i, v := range m.vis {
		if want := fmt.Sprintf("note%d", i+1); m.items[v].Name != want {
			t.Fatalf("entry %d is %s, want %s", i, m.items[v].Name, want)
		}
	}
	if c, _ := m.Current(); c.Name != "note1200" {
		t.Errorf("G left the cursor on %s", c.Name)
	}
}

// TestArchiveStateTags: remote files in the archive tier carry their state
// after the name; hot ones carry nothing.
func TestArchiveStateTags(t *testing.T) {
	src := newTestSource()
	src.add("/a",
		Item{Name: "cold.bin", Size: 10, ModTime: base, State: "archived"},
		Item{Name: "coming.bin", Size: 10, ModTime: base, State: "restoring"},
		Item{Name: "back.bin", Size: 10, ModTime: base, State: "restored"},
		Item{Name: "hot.bin", Size: 10, ModTime: base, State: "hot"},
	)
	m, _ := open(src, "/a", 70, 10)
	v := ansi.Strip(m.View())
	for _, want := range []string{"cold.bin [archived]", "coming.bin [restoring]", "back.bin [restored]"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "hot.bin [") {
		t.Errorf("a hot file is tagged:\n%s", v)
	}
}
