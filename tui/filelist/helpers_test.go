package filelist

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/tuitest"
)

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testSource serves small fixed folders and big synthetic ones, records
// every call, and can fail chosen calls or hold each call until the test
// lets it through.
type testSource struct {
	mu    sync.Mutex
	dirs  map[string][]Item
	big   map[string]int
	gate  chan struct{} // if set, each call takes a token (close to open)
	fail  map[int]error // by call number, from 1
	calls []call
}

type call struct {
	dir, cursor string
	limit       int
}

func newTestSource() *testSource {
	return &testSource{dirs: map[string][]Item{}, big: map[string]int{}, fail: map[int]error{}}
}

func (s *testSource) add(dir string, items ...Item) {
	for i := range items {
		items[i].Path = s.Join(dir, items[i].Name)
	}
	s.dirs[dir] = append(s.dirs[dir], items...)
	sort.Slice(s.dirs[dir], func(i, j int) bool { return s.dirs[dir][i].Name < s.dirs[dir][j].Name })
}

// bigItem is entry i of a synthetic folder: names sort in i's order,
// every 5,000th is a folder.
func bigItem(dir string, i int) Item {
	it := Item{Name: fmt.Sprintf("e%06d.dat", i), Size: int64(i*7919) % 100000, ModTime: base.Add(time.Duration(i*37%1000) * time.Minute)}
	if i%5000 == 0 {
		it = Item{Name: fmt.Sprintf("e%06d", i), Dir: true, ModTime: base}
	}
	it.Path = dir + "/" + it.Name
	return it
}

func (s *testSource) Title() string { return "Test" }
func (s *testSource) Root() string  { return "/" }
func (s *testSource) Join(dir, name string) string {
	return strings.TrimSuffix(dir, "/") + "/" + name
}
func (s *testSource) Parent(dir string) string {
	i := strings.LastIndex(dir, "/")
	if i <= 0 {
		return "/"
	}
	return dir[:i]
}

func (s *testSource) Page(ctx context.Context, dir, cursor string, limit int) (PageResult, error) {
	s.mu.Lock()
	s.calls = append(s.calls, call{dir, cursor, limit})
	n := len(s.calls)
	err, gate := s.fail[n], s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return PageResult{}, ctx.Err()
		}
	}
	if err != nil {
		return PageResult{}, err
	}
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	var res PageResult
	total := 0
	if nbig, ok := s.big[dir]; ok {
		total = nbig
		for i := start; i < min(start+limit, total); i++ {
			res.Items = append(res.Items, bigItem(dir, i))
		}
	} else if items, ok := s.dirs[dir]; ok {
		total = len(items)
		res.Items = append(res.Items, items[start:min(start+limit, total)]...)
	} else {
		return PageResult{}, errors.New(dir + ": not found")
	}
	if start+limit < total {
		res.Cursor = strconv.Itoa(start + limit)
	}
	return res, nil
}

func (s *testSource) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *testSource) callList() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// fixture is a small home folder: files and folders of every kind the
// renderer has to care about.
func fixture() *testSource {
	s := newTestSource()
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	s.add("/home",
		Item{Name: "docs", Dir: true, ModTime: at(1)},
		Item{Name: "photos", Dir: true, ModTime: at(2)},
		Item{Name: ".config", Dir: true, ModTime: at(3)},
		Item{Name: ".profile", Size: 220, ModTime: at(4)},
		Item{Name: "ABOUT.md", Size: 1500, ModTime: at(5)},
		Item{Name: "archive.tar.gz", Size: 734003200, ModTime: at(6)},
		Item{Name: "notes.txt", Size: 42, ModTime: at(7)},
		Item{Name: "report-final-version-2-really-final.pdf", Size: 2621440, ModTime: at(8)},
		Item{Name: "todo.txt", Size: 0, ModTime: at(9)},
		Item{Name: "日本語のファイル名はとても長いです.txt", Size: 4096, ModTime: at(10)},
		Item{Name: "evil\x1b[31mred\n\u202etxt.exe", Size: 13, ModTime: at(11)},
	)
	s.add("/home/docs",
		Item{Name: "a.txt", Size: 10, ModTime: at(12)},
		Item{Name: "b.txt", Size: 20, ModTime: at(13)},
	)
	s.add("/home/photos")
	return s
}

// newList is a list with deterministic output: UTC times and a spinner
// of one frame.
func newList(src Source, dir string) Model {
	m := New(src, tuitest.Styles(), dir)
	m.loc = time.UTC
	m.spin.Spinner = spinner.Spinner{Frames: []string{"⠿"}, FPS: time.Second / 10}
	m.Focus(true)
	return m
}

// ---- a synchronous driver for unit tests ----

// drive runs cmd and everything it leads to, feeding the list its own
// messages; spinner ticks (timed) are dropped. It returns the messages
// meant for the parent.
func drive(m Model, cmd tea.Cmd) (Model, []tea.Msg) {
	var out []tea.Msg
	tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
		switch msg.(type) {
		case spinner.TickMsg:
		case pageMsg:
			var next tea.Cmd
			m, next = m.Update(msg)
			return next
		default:
			out = append(out, msg)
		}
		return nil
	})
	return m, out
}

// press sends keys and drives what they start.
func press(m Model, keys ...string) (Model, []tea.Msg) {
	var out []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		var msgs []tea.Msg
		m, cmd = m.Update(tuitest.Key(k))
		m, msgs = drive(m, cmd)
		out = append(out, msgs...)
	}
	return m, out
}

// ---- a teatest harness: the list as the parent would host it ----

type snapReq struct{ ch chan snap }

// waitReq asks the harness to send a snapshot on ch once cond holds: it is
// checked now and after every message, so no state goes unseen.
type waitReq struct {
	cond func(snap) bool
	ch   chan snap
}

type snap struct {
	view      string
	loading   bool
	done      bool
	loaded    int
	err       error
	selected  []Item
	cur       Item
	filtering bool
	opened    []OpenedMsg
	activated []ActivateMsg
}

type harness struct {
	l         Model
	opened    []OpenedMsg
	activated []ActivateMsg
	waits     *[]waitReq // pending waitFor calls
}

// snapshot is the list's state, without its view unless asked for (the
// view is drawn only for snapshots that are handed out).
func (h harness) snapshot(view bool) snap {
	cur, _ := h.l.Current()
	v := ""
	if view {
		v = h.l.View()
	}
	return snap{view: v, loading: h.l.Loading(), done: h.l.done, loaded: len(h.l.items),
		err: h.l.Err(), selected: h.l.Selected(), cur: cur, filtering: h.l.Filtering(),
		opened: append([]OpenedMsg(nil), h.opened...), activated: append([]ActivateMsg(nil), h.activated...)}
}

func (h harness) Init() tea.Cmd { return h.l.Init() }

func (h harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if w, ok := msg.(waitReq); ok {
		*h.waits = append(*h.waits, w)
	}
	m, cmd := h.update(msg)
	h = m.(harness)
	if _, tick := msg.(spinner.TickMsg); len(*h.waits) > 0 && !tick {
		s := h.snapshot(false)
		left := (*h.waits)[:0]
		for _, w := range *h.waits {
			if w.cond(s) {
				w.ch <- h.snapshot(true)
			} else {
				left = append(left, w)
			}
		}
		*h.waits = left
	}
	return h, cmd
}

func (h harness) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case waitReq:
		return h, nil
	case tea.WindowSizeMsg:
		h.l.SetSize(msg.Width, msg.Height)
		return h, nil
	case snapReq:
		msg.ch <- h.snapshot(true)
		return h, nil
	case OpenedMsg:
		h.opened = append(h.opened, msg)
		return h, nil
	case ActivateMsg:
		h.activated = append(h.activated, msg)
		return h, nil
	case tea.KeyMsg:
		if !h.l.Filtering() && msg.String() == "R" {
			return h, h.l.Reload() // the parent's binding
		}
	}
	var cmd tea.Cmd
	h.l, cmd = h.l.Update(msg)
	return h, cmd
}

func (h harness) View() string { return h.l.View() }

type tester struct {
	t  *testing.T
	tm *teatest.TestModel
}

func start(t *testing.T, l Model, w, h int) *tester {
	t.Helper()
	tm := teatest.NewTestModel(t, harness{l: l, waits: new([]waitReq)}, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() {
		_ = tm.Quit()
		tm.WaitFinished(t, teatest.WithFinalTimeout(30*time.Second))
	})
	return &tester{t: t, tm: tm}
}

func (tt *tester) press(keys ...string) {
	for _, k := range keys {
		tt.tm.Send(tuitest.Key(k))
	}
}

func (tt *tester) snap() snap {
	tt.t.Helper()
	ch := make(chan snap, 1)
	tt.tm.Send(snapReq{ch})
	select {
	case s := <-ch:
		return s
	case <-time.After(30 * time.Second):
		tt.t.Fatal("no snapshot")
		return snap{}
	}
}

// waitFor waits until cond holds for the list (checked after every
// message the list gets).
func (tt *tester) waitFor(what string, cond func(snap) bool) snap {
	tt.t.Helper()
	ch := make(chan snap, 1)
	tt.tm.Send(waitReq{cond, ch})
	select {
	case s := <-ch:
		return s
	case <-time.After(60 * time.Second):
		tt.t.Fatalf("waiting for %s; last view:\n%s", what, tt.snap().view)
		return snap{}
	}
}

func (tt *tester) idle() snap {
	tt.t.Helper()
	return tt.waitFor("loading to stop", func(s snap) bool { return !s.loading })
}

// golden compares the titled frames with testdata/<test>.golden.
func golden(t *testing.T, frames ...string) {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(frames); i += 2 {
		fmt.Fprintf(&b, "== %s ==\n%s\n", frames[i], frames[i+1])
	}
	teatest.RequireEqualOutput(t, []byte(b.String()))
}

func names(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}
