package filelist

import (
	"context"
	"path"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/style"
)

// Page sizes. The first page is small enough to show at once over a slow
// link and big enough to fill any screen; pages loaded in the background
// (a sort or filter needs the whole folder, G, looking for a name) use the
// largest page the server serves, to make fewer round trips.
const (
	PageSize     = 500
	BulkPageSize = 1000
)

// maxMemo bounds the per-folder cursor memory.
const maxMemo = 1024

// memo is where the cursor was in a folder the user left.
type memo struct {
	path string
	row  int // the cursor's row on screen
}

// Model is one pane: a folder of a Source, its loaded entries, the
// visible index over them (hidden files, filter and sort applied), the
// cursor and the marks.
type Model struct {
	src  Source
	st   *style.Styles
	keys KeyMap
	loc  *time.Location // times are shown in it (tests pin it)

	owner   *int // tags this list's page messages
	w, h    int
	focused bool
	dir     string

	// Loading. gen numbers the loads: a page of an older load is dropped.
	gen      int
	ctx      context.Context
	cancel   context.CancelFunc
	inflight bool
	opening  bool   // the load is a navigation: send OpenedMsg on its first page
	stale    bool   // items are the previous load's, shown until the reload's first page
	next     string // the source's cursor of the next page
	done     bool
	err      error
	errFirst bool // the failed page was a first page (nothing of this load is shown)

	items  []Item   // in source (name) order
	lower  []string // lower-cased names, for the smart-case filter
	marked []bool   // parallel to items

	vis []int // positions in items of the shown rows, in display order
	cur int   // cursor, an index into vis
	off int   // the first shown row, an index into vis

	sortBy    SortBy
	reverse   bool
	hidden    bool // show names starting with '.'
	filter    string
	filtering bool
	input     textinput.Model

	markAll  bool  // ctrl+a: marks pages as they arrive, until a mark is removed
	selN     int   // marked items among vis
	selBytes int64 // their size

	wantPath string          // put the cursor on this path once loaded
	wantRow  int             // on this screen row (-1: anywhere)
	wantCur  int             // or, if it is gone, at this index (-1: top)
	wantEnd  bool            // G while pages are still coming
	pending  map[string]bool // names marked before a reload
	linked   map[string]bool // IDs of entries with active share links (SetLinked)
	memo     map[string]memo // shared by the copies of the model, which is fine: only the latest is used

	spin     spinner.Model
	spinning bool // a tick is on its way: starting another would double the speed
}

// New makes a list of dir (the source's root if "") that loads its first
// page when Init's command runs.
func New(src Source, st *style.Styles, dir string) Model {
	if dir == "" {
		dir = src.Root()
	}
	in := textinput.New()
	in.Prompt = "/"
	in.PromptStyle = st.Accent
	in.TextStyle = st.R.NewStyle()
	in.PlaceholderStyle = st.Muted
	in.Cursor.Style = st.R.NewStyle()
	in.Cursor.TextStyle = st.R.NewStyle()
	// A blinking cursor needs ticks routed to it; a steady one does not,
	// and it keeps frames reproducible.
	in.Cursor.SetMode(cursor.CursorStatic)
	m := Model{
		src:   src,
		st:    st,
		keys:  DefaultKeyMap(),
		loc:   time.Local,
		owner: new(int),
		dir:   dir,
		input: in,
		memo:  map[string]memo{},
		spin:  spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent)),
	}
	m.wantRow, m.wantCur = -1, -1
	m.gen = 1
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.inflight, m.opening, m.spinning = true, true, true
	return m
}

// Init loads the first page.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.fetch("", PageSize, true), m.spin.Tick)
}

// SetSize sets the size of the whole pane, frame included.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(w, 0), max(h, 0)
	m.scrollTo(-1)
}

// Focus marks the pane as the one receiving keys (its frame and cursor
// row are highlighted).
func (m *Model) Focus(on bool) { m.focused = on }

// Focused reports whether the pane has the focus.
func (m Model) Focused() bool { return m.focused }

// Dir is the folder shown (or being opened).
func (m Model) Dir() string { return m.dir }

// Source is the source the list reads.
func (m Model) Source() Source { return m.src }

// KeyMap is the list's bindings, for the parent's help.
func (m Model) KeyMap() KeyMap { return m.keys }

// Loading reports a page request in flight.
func (m Model) Loading() bool { return m.inflight }

// Err is the last load error (shown in the pane), nil after a good page.
func (m Model) Err() error { return m.err }

// Filtering reports that the filter input has the focus: the parent must
// then send the list every key (q, d... are text), ctrl+c aside.
func (m Model) Filtering() bool { return m.filtering }

// Filter is the filter the listing is narrowed by ("" for none).
func (m Model) Filter() string { return m.filter }

// Current is the item under the cursor.
func (m Model) Current() (Item, bool) {
	if m.cur < 0 || m.cur >= len(m.vis) {
		return Item{}, false
	}
	return m.items[m.vis[m.cur]], true
}

// Selected is the marked items that are shown (in display order), or the
// current item if none is. Marks hidden by the filter or the hidden-files
// switch do not count, so an operation acts on exactly what the pane shows
// as marked (the footer counts the same).
// Marked returns the marked items (nil when none are: not the cursor's
// item, unlike Selected).
func (m Model) Marked() []Item {
	if m.selN == 0 {
		return nil
	}
	return m.Selected()
}

func (m Model) Selected() []Item {
	var out []Item
	if m.selN > 0 {
		out = make([]Item, 0, m.selN)
		for _, i := range m.vis {
			if m.marked[i] {
				out = append(out, m.items[i])
			}
		}
		return out
	}
	if it, ok := m.Current(); ok {
		return []Item{it}
	}
	return nil
}

// ClearSelection removes every mark (the parent calls it after an
// operation on the selection).
func (m *Model) ClearSelection() {
	clear(m.marked)
	m.selN, m.selBytes = 0, 0
	m.markAll = false
	m.pending = nil
}

// Navigate opens dir with a fresh load; the cursor goes back to where it
// was when the user last left dir. The current folder's cursor is
// remembered the same way.
func (m *Model) Navigate(dir string) tea.Cmd {
	return m.navigate(dir, "")
}

// Reveal opens the folder of the entry at p with the cursor on it (in the
// source's path syntax: "/"-separated, as remote paths are).
func (m *Model) Reveal(p string) tea.Cmd {
	return m.navigate(path.Dir(p), p)
}

// navigate opens dir with the cursor on want (a path), or on the
// remembered row.
func (m *Model) navigate(dir, want string) tea.Cmd {
	m.remember()
	mm, ok := m.memo[dir]
	row := -1
	if want == "" && ok {
		want, row = mm.path, mm.row
	} else if ok && mm.path == want {
		row = mm.row
	}
	m.dir = dir
	m.resetFolder()
	m.filter, m.filtering = "", false
	m.input.SetValue("")
	m.input.Blur()
	m.markAll, m.pending = false, nil
	m.wantPath, m.wantRow, m.wantCur = want, row, -1
	m.opening = true
	return m.startLoad()
}

// Reload re-reads the folder, keeping the cursor on the same name (and
// row) and the marks on the same names where they still exist. The old
// listing stays on screen until the first page arrives. After a failed
// page other than the first it resumes from that page instead, which is
// what "R to retry" means in a folder of 100,000 entries.
func (m *Model) Reload() tea.Cmd {
	if m.err != nil && !m.errFirst && len(m.items) > 0 {
		m.err = nil
		return m.maybeFetch()
	}
	m.wantPath, m.wantRow, m.wantCur = "", -1, m.cur
	if it, ok := m.Current(); ok {
		m.wantPath, m.wantRow = it.Path, m.cur-m.off
	}
	m.pending = nil
	for i, on := range m.marked {
		if on {
			if m.pending == nil {
				m.pending = map[string]bool{}
			}
			m.pending[m.items[i].Name] = true
		}
	}
	m.stale = len(m.items) > 0
	return m.startLoad()
}

// remember stores the cursor of the folder being left.
func (m *Model) remember() {
	it, ok := m.Current()
	if !ok || m.stale {
		return
	}
	if len(m.memo) >= maxMemo {
		for k := range m.memo {
			delete(m.memo, k)
			break
		}
	}
	m.memo[m.dir] = memo{path: it.Path, row: m.cur - m.off}
}

// resetFolder forgets the loaded entries.
func (m *Model) resetFolder() {
	m.items, m.lower, m.marked, m.vis = nil, nil, nil, nil
	m.cur, m.off = 0, 0
	m.selN, m.selBytes = 0, 0
	m.stale = false
	m.wantEnd = false
}

// Update handles keys, mouse events (with coordinates relative to the
// pane's top-left corner, see RowAt), the list's own page and spinner
// messages, and ignores the rest, including other lists' messages, so the
// parent may forward every message to both panes.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.owner != m.owner || msg.gen != m.gen {
			return m, nil
		}
		return m.gotPage(msg)
	case spinner.TickMsg:
		if msg.ID != m.spin.ID() {
			return m, nil
		}
		if !m.inflight {
			m.spinning = false // the ticks stop while idle
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyMsg:
		if m.filtering {
			return m.filterKey(msg)
		}
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	k := m.keys
	rows := max(m.listRows(), 1)
	switch {
	case key.Matches(msg, k.Up):
		m.move(-1)
	case key.Matches(msg, k.Down):
		m.move(1)
	case key.Matches(msg, k.PageUp):
		m.page(-rows)
	case key.Matches(msg, k.PageDown):
		m.page(rows)
	case key.Matches(msg, k.Top):
		m.move(-len(m.vis))
	case key.Matches(msg, k.Bottom):
		m.move(len(m.vis))
		// G means the folder's real end: follow the pages until it.
		m.wantEnd = !m.done && m.err == nil
	case key.Matches(msg, k.Open):
		return m.open()
	case key.Matches(msg, k.Back):
		parent := m.src.Parent(m.dir)
		if parent == m.dir {
			return m, nil
		}
		return m, m.navigate(parent, m.dir)
	case key.Matches(msg, k.Select):
		m.toggle()
		m.move(1)
	case key.Matches(msg, k.SelectAll):
		m.selectAll()
	case key.Matches(msg, k.SelectNone):
		m.ClearSelection()
	case key.Matches(msg, k.Invert):
		m.invert()
	case key.Matches(msg, k.Filter):
		m.filtering = true
		m.input.SetValue(m.filter)
		m.input.CursorEnd()
		m.input.Focus()
	case key.Matches(msg, k.ClearFilter):
		if m.filter == "" {
			return m, nil
		}
		m.setFilter("")
	case key.Matches(msg, k.Sort):
		m.sortBy = (m.sortBy + 1) % 3
		m.rebuild()
	case key.Matches(msg, k.Reverse):
		m.reverse = !m.reverse
		m.rebuild()
	case key.Matches(msg, k.Hidden):
		m.hidden = !m.hidden
		m.rebuild()
	default:
		return m, nil
	}
	return m, m.maybeFetch()
}

// filterKey edits the filter; the listing follows every keystroke.
func (m Model) filterKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch msg.String() {
	case "esc":
		m.filtering = false
		m.input.Blur()
		m.setFilter("")
		return m, nil
	case "enter":
		m.filtering = false
		m.input.Blur()
		return m, nil
	case "up":
		m.move(-1)
	case "down":
		m.move(1)
	case "pgup":
		m.page(-max(m.listRows(), 1))
	case "pgdown":
		m.page(max(m.listRows(), 1))
	case "backspace":
		if m.input.Value() == "" {
			m.filtering = false
			m.input.Blur()
			return m, nil
		}
		fallthrough
	default:
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		if v := m.input.Value(); v != m.filter {
			m.setFilter(v)
		}
		return m, tea.Batch(cmd, m.maybeFetch())
	}
	return m, m.maybeFetch()
}

// open enters the folder under the cursor or activates the file.
func (m Model) open() (Model, tea.Cmd) {
	it, ok := m.Current()
	if !ok {
		return m, nil
	}
	if it.Dir {
		return m, m.Navigate(it.Path)
	}
	title := m.src.Title()
	return m, func() tea.Msg { return ActivateMsg{Item: it, Source: title} }
}

// mouse: the wheel moves the cursor three rows; a left click puts it on
// the row, and a click on the row already under the cursor opens it (as
// in ranger: no double-click timing to get wrong over SSH).
func (m Model) mouse(msg tea.MouseMsg) (Model, tea.Cmd) {
	if msg.Action != tea.MouseActionPress {
		return m, nil
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.move(-3)
	case tea.MouseButtonWheelDown:
		m.move(3)
	case tea.MouseButtonLeft:
		row, ok := m.RowAt(msg.Y)
		if !ok || msg.X <= 0 || msg.X >= m.w-1 {
			return m, nil
		}
		if row == m.cur {
			return m.open()
		}
		m.move(row - m.cur)
	default:
		return m, nil
	}
	return m, m.maybeFetch()
}

// move moves the cursor by d rows; the user taking over cancels any
// pending placement.
func (m *Model) move(d int) {
	m.wantEnd, m.wantPath = false, ""
	if len(m.vis) == 0 {
		return
	}
	m.cur = min(max(m.cur+d, 0), len(m.vis)-1)
	m.scrollTo(-1)
}

// page moves the cursor and the view by d rows, as less does.
func (m *Model) page(d int) {
	m.wantEnd, m.wantPath = false, ""
	if len(m.vis) == 0 {
		return
	}
	row := m.cur - m.off
	m.cur = min(max(m.cur+d, 0), len(m.vis)-1)
	m.scrollTo(row)
}

// scrollTo sets the offset so that the cursor is shown, on screen row
// row if row >= 0, and no rows are wasted below the end.
func (m *Model) scrollTo(row int) {
	rows := m.listRows()
	if rows <= 0 {
		m.off = m.cur
		return
	}
	if row >= 0 {
		m.off = m.cur - min(row, rows-1)
	}
	if m.cur < m.off {
		m.off = m.cur
	}
	if m.cur >= m.off+rows {
		m.off = m.cur - rows + 1
	}
	m.off = min(m.off, max(len(m.vis)-rows, 0))
	m.off = max(m.off, 0)
}

// SetLinked marks the entries whose IDs are in ids (those with active
// share links) with a glyph after their names; nil marks none.
func (m *Model) SetLinked(ids map[string]bool) { m.linked = ids }
