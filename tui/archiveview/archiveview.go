// Package archiveview is the Archive screen: the files under a Strata
// folder whose content is in the archive tier — archived (class, since),
// being restored (tier, asked for, expected by) or restored (until) —
// found by walking the folder's listings a page at a time (the entries
// carry their state: nothing else is asked). While restores are in
// progress it looks at those files again every little while, so the
// screen follows them as they finish. From it the user asks for restores
// (the app's restore dialog) and goes to a file.
package archiveview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// ClosedMsg says the user left the screen; GoTo is the file to show in
// the Strata pane ("" for none).
type ClosedMsg struct{ GoTo string }

// RestoreMsg asks the app for the restore dialog of these files.
type RestoreMsg struct{ Entries []remote.Entry }

// KeyMap is the Archive screen's keys.
type KeyMap struct {
	pagedlist.Nav
	Mark, MarkAll, Unmark       key.Binding
	Restore, GoTo, Reload, Back key.Binding
}

// DefaultKeyMap returns the Archive screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Nav:     pagedlist.DefaultNav(),
		Mark:    key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		MarkAll: key.NewBinding(key.WithKeys("ctrl+a"), key.WithHelp("ctrl+a", "mark all")),
		Unmark:  key.NewBinding(key.WithKeys("U"), key.WithHelp("U", "unmark all")),
		Restore: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "restore (the marked files, or this one)")),
		GoTo:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to the file")),
		Reload:  key.NewBinding(key.WithKeys("ctrl+r", "R"), key.WithHelp("ctrl+r", "look again")),
		Back:    key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	brief := pagedlist.Brief
	return []key.Binding{k.Up, k.Down, k.Mark, brief(k.Restore, "w", "restore"), brief(k.GoTo, "enter", "go to"), k.Back}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Mark, k.MarkAll, k.Unmark, k.Restore, k.GoTo, k.Reload, k.Back},
	}
}

// DefaultPoll is how often files being restored are looked at again.
const DefaultPoll = 10 * time.Second

// pageSize is how many archived files a page holds (at least, unless the
// walk ends): the walk lists folders until it has found that many.
const pageSize = 100

// maxPolled bounds the files one look asks about.
const maxPolled = 50

type msgKind int

const (
	listMsg msgKind = iota
	tickMsg
	polledMsg
)

// Msg carries the screen's own asynchronous results; the parent passes
// every Msg to Update.
type Msg struct {
	kind msgKind
	list pagedlist.Msg[remote.Entry]
	gen  int // of the screen the tick or look belongs to
	got  []remote.Entry
	err  error
}

// Model is the Archive screen of a folder.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	root string
	keys KeyMap
	list pagedlist.Model[remote.Entry]
	poll time.Duration
	gen  int
	// polling: a look is under way (one at a time).
	polling bool
}

// New builds the screen for the files under root; Init loads it and starts
// following restores every poll (DefaultPoll if 0). gen tells this
// screen's ticks from an earlier one's.
func New(ctx context.Context, st *style.Styles, r remote.Remote, root string, poll time.Duration, gen int) Model {
	if poll <= 0 {
		poll = DefaultPoll
	}
	keys := DefaultKeyMap()
	nav := keys.Nav
	load := func(cursor string) ([]remote.Entry, string, error) { return walk(ctx, r, root, cursor) }
	wrap := func(msg pagedlist.Msg[remote.Entry]) tea.Msg { return Msg{kind: listMsg, list: msg} }
	m := Model{ctx: ctx, st: st, r: r, root: root, keys: keys, list: pagedlist.New(st, nav, load, wrap), poll: poll, gen: gen}
	m.list.EnableMarks(func(e remote.Entry) string { return e.Path }, func(e remote.Entry) int64 { return e.Size })
	return m
}

// frame is a folder the walk is in, and where in it.
type frame struct {
	Dir   string `json:"d"`
	After string `json:"a,omitempty"`
}

// walk lists folders under root depth first, from where cursor says (""
// for the start), until it has found a page of files in the archive tier
// or the tree ends. The cursor is the stack of folders still to list,
// never more than the tree's depth plus the folders of one listed page.
func walk(ctx context.Context, r remote.Remote, root, cursor string) ([]remote.Entry, string, error) {
	stack := []frame{{Dir: root}}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &stack); err != nil {
			return nil, "", fmt.Errorf("archive walk: %w", err)
		}
	}
	var found []remote.Entry
	for len(stack) > 0 && len(found) < pageSize {
		top := stack[len(stack)-1]
		pg, err := r.List(ctx, top.Dir, top.After, 1000)
		if err != nil {
			if top.Dir != root && (errors.Is(err, remote.ErrNotFound) || errors.Is(err, remote.ErrForbidden)) {
				stack = stack[:len(stack)-1] // gone or not ours to read: go on
				continue
			}
			return nil, "", fmt.Errorf("list %s: %w", top.Dir, err)
		}
		if pg.Cursor == "" {
			stack = stack[:len(stack)-1]
		} else {
			stack[len(stack)-1].After = pg.Cursor
		}
		for _, e := range pg.Entries {
			if e.Path == "" {
				e.Path = path.Join(top.Dir, e.Name)
			}
			switch {
			case e.IsDir():
				stack = append(stack, frame{Dir: e.Path})
			case e.State != "" && e.State != remote.StateHot:
				found = append(found, e)
			}
		}
	}
	if len(stack) == 0 {
		return found, "", nil
	}
	next, err := json.Marshal(stack)
	return found, string(next), err
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Root is the folder the screen walks.
func (m Model) Root() string { return m.root }

// Items are the files listed so far.
func (m Model) Items() []remote.Entry { return m.list.Items() }

// Init loads (or reloads) the first page and starts following restores.
func (m *Model) Init() tea.Cmd { return tea.Batch(m.list.Init(), m.tick()) }

// Refresh loads the list again (after a change made from the screen),
// keeping the status line and the ticks that follow restores.
func (m *Model) Refresh() tea.Cmd { return m.list.Init() }

// SetStatus shows s in the screen's status line, as a success when ok.
func (m *Model) SetStatus(s string, ok bool) { m.list.SetStatus(s, ok) }

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) { m.list.SetSize(w, h) }

func (m Model) tick() tea.Cmd {
	gen := m.gen
	return tea.Tick(m.poll, func(time.Time) tea.Msg { return Msg{kind: tickMsg, gen: gen} })
}

// Update handles keys and the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Back):
		return m, func() tea.Msg { return ClosedMsg{} }
	case key.Matches(msg, m.keys.Reload):
		return m, m.list.Reload()
	case m.list.Navigate(msg):
	case m.list.Shown() == 0:
		return m, nil
	case key.Matches(msg, m.keys.Mark):
		return m, m.list.Mark()
	case key.Matches(msg, m.keys.MarkAll):
		return m, m.list.MarkAll()
	case key.Matches(msg, m.keys.Unmark):
		m.list.Unmark()
		return m, nil
	case key.Matches(msg, m.keys.GoTo):
		p := m.list.Selected().Path
		return m, func() tea.Msg { return ClosedMsg{GoTo: p} }
	case key.Matches(msg, m.keys.Restore):
		es := m.list.Targets()
		return m, func() tea.Msg { return RestoreMsg{Entries: es} }
	}
	return m, m.list.Scroll()
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case listMsg:
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg.list)
		return m, cmd
	case tickMsg:
		if msg.gen != m.gen {
			return m, nil // an earlier screen's: its chain ends here
		}
		return m, tea.Batch(m.look(), m.tick())
	case polledMsg:
		m.polling = false
		if msg.err != nil {
			m.list.SetStatus("Could not look at the restores: "+msg.err.Error(), false)
			return m, nil
		}
		m.gotLook(msg.got)
	}
	return m, nil
}

// look asks again about the files being restored (and those restored
// whose copy may have expired), off the UI; one look at a time.
func (m *Model) look() tea.Cmd {
	if m.polling {
		return nil
	}
	var paths []string
	now := time.Now()
	for _, e := range m.list.Items() {
		due := e.State == remote.StateRestoring ||
			(e.State == remote.StateRestored && e.Archive != nil && !e.Archive.Until.After(now))
		if due && len(paths) < maxPolled {
			paths = append(paths, e.Path)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	m.polling = true
	ctx, r, gen := m.ctx, m.r, m.gen
	return func() tea.Msg {
		var got []remote.Entry
		for _, p := range paths {
			e, err := r.Stat(ctx, p)
			if errors.Is(err, remote.ErrNotFound) {
				continue // moved or deleted: the next look at the list drops it
			}
			if err != nil {
				return Msg{kind: polledMsg, gen: gen, err: err}
			}
			got = append(got, e)
		}
		return Msg{kind: polledMsg, gen: gen, got: got}
	}
}

// gotLook puts what a look found in place, and says which restores ended.
func (m *Model) gotLook(got []remote.Entry) {
	by := map[string]remote.Entry{}
	for _, e := range got {
		by[e.Path] = e
	}
	var done []string
	m.list.Replace(func(old remote.Entry) (remote.Entry, bool) {
		e, ok := by[old.Path]
		if !ok {
			return old, false
		}
		if old.State == remote.StateRestoring && e.State == remote.StateRestored {
			done = append(done, path.Base(e.Path))
		}
		return e, true
	})
	if len(done) > 0 {
		m.list.SetStatus(fmt.Sprintf("Restored: %s (readable now; d or F5 on the Strata pane downloads)", strings.Join(done, ", ")), true)
	}
}

// Column widths beside the path's, which takes the rest.
const (
	stateW = 9
	classW = 12
	whenW  = 36
)

// View draws the screen.
func (m Model) View() string {
	return m.list.View(pagedlist.Screen[remote.Entry]{
		Title:   m.list.Title(m.st.Header.Render("Archive")+"  "+m.st.Muted.Render("under "+dialog.Sanitize(m.root)), m.list.Count("file", "files")),
		Header:  m.st.Muted.Render(m.row("  ", "File", "State", "Class", "Since · tier asked → by · until")),
		Loading: "Looking for archived files…",
		Empty:   m.st.Muted.Render("No archived files under " + dialog.Sanitize(m.root) + "."),
		Row: func(e remote.Entry, selected, marked bool) string {
			lead := " "
			if selected {
				lead = "›"
			}
			if marked {
				lead += "*"
			} else {
				lead += " "
			}
			class := ""
			if e.Archive != nil {
				class = e.Archive.Class
			}
			line := m.row(lead, dialog.Sanitize(strings.TrimPrefix(strings.TrimPrefix(e.Path, m.root), "/")), e.State, class, When(e))
			switch {
			case selected:
				return m.st.RowCursor.Render(line)
			case marked:
				return m.st.RowSelected.Render(line)
			}
			return line
		},
		Keys: m.keys,
	})
}

func (m Model) row(lead, file, state, class, when string) string {
	w := m.list.Width()
	fileW := max(8, w-2-stateW-classW-whenW-3)
	return lead + pagedlist.Cell(file, fileW, false) + " " + pagedlist.Cell(state, stateW, false) + " " +
		pagedlist.Cell(class, classW, false) + " " + pagedlist.Cell(when, whenW, false)
}

// When says where a file's archive state stands in time: since when it is
// archived, when its restore was asked for and is expected, or until when
// its restored copy is kept.
func When(e remote.Entry) string {
	a := e.Archive
	if a == nil {
		return ""
	}
	switch e.State {
	case remote.StateRestoring:
		return fmt.Sprintf("%s %s → %s", a.Tier, short(a.Requested), short(a.Expected))
	case remote.StateRestored:
		return "until " + short(a.Until)
	}
	return "since " + short(a.Since)
}

func short(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("Jan 2 15:04")
}
