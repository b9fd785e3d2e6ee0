// Package trashview is the screen that lists the user's trash, newest
// first, and restores from it or deletes for good: the marked entries (or
// the one under the cursor), those the filter shows, or everything.
package trashview

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/complete"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// ClosedMsg says the user left the trash; Restored entries came back, so
// the parent reloads its listings when it is not 0.
type ClosedMsg struct{ Restored int }

// KeyMap is the trash screen's keys.
type KeyMap struct {
	pagedlist.Nav
	Restore   key.Binding
	RestoreTo key.Binding
	Purge     key.Binding
	Empty     key.Binding
	Mark      key.Binding
	MarkAll   key.Binding
	Unmark    key.Binding
	Filter    key.Binding
	Reload    key.Binding
	Back      key.Binding
}

// DefaultKeyMap returns the trash screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Nav:       pagedlist.DefaultNav(),
		Restore:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "restore")),
		RestoreTo: key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "restore to…")),
		Purge:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "delete for good")),
		Empty:     key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "empty the trash")),
		Mark:      key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		MarkAll:   key.NewBinding(key.WithKeys("ctrl+a"), key.WithHelp("ctrl+a", "mark all")),
		Unmark:    key.NewBinding(key.WithKeys("U"), key.WithHelp("U", "unmark all")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Reload:    key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:      key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap: the keys worded briefly, to fit in 80
// columns.
func (k KeyMap) ShortHelp() []key.Binding {
	brief := pagedlist.Brief
	return []key.Binding{k.Mark, k.Filter, k.Restore, k.RestoreTo, brief(k.Purge, "D", "delete"),
		brief(k.Empty, "E", "empty"), brief(k.Back, "q", "back")}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Mark, k.MarkAll, k.Unmark, k.Filter},
		{k.Restore, k.RestoreTo, k.Purge, k.Empty, k.Reload, k.Back},
	}
}

// Dialog IDs, for the dialogs this screen opens.
const (
	purgeDialog     = "trash.purge"
	restoreToDialog = "trash.restore-to"
	emptyDialog     = "trash.empty"
)

type msgKind int

const (
	listMsg msgKind = iota
	restoredMsg
	purgedMsg
	batchMsg // progress and end of an action on several entries
)

// Msg carries the screen's own asynchronous results (and its list's pages
// and spinner ticks); the parent passes every Msg to Update.
type Msg struct {
	kind msgKind
	list pagedlist.Msg[remote.TrashItem]

	item remote.TrashItem // restored or purged
	to   string           // where it was restored ("" = where it was)
	err  error

	batch background.Update[batchState]
}

// Model is the trash screen.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	keys KeyMap
	list pagedlist.Model[remote.TrashItem]

	dlgItem  remote.TrashItem   // what the open dialog is about
	dlgItems []remote.TrashItem // or the entries, when several
	restored int
}

// New builds the screen; Init loads it. ctx ends its requests.
func New(ctx context.Context, st *style.Styles, r remote.Remote) Model {
	keys := DefaultKeyMap()
	nav := keys.Nav
	load := func(cursor string) ([]remote.TrashItem, string, error) {
		pg, err := r.Trash(ctx, cursor)
		if err != nil {
			err = fmt.Errorf("list the trash: %w", err)
		}
		return pg.Items, pg.Cursor, err
	}
	wrap := func(msg pagedlist.Msg[remote.TrashItem]) tea.Msg { return Msg{kind: listMsg, list: msg} }
	list := pagedlist.New(st, nav, load, wrap)
	list.EnableMarks(func(it remote.TrashItem) string { return it.ID }, func(it remote.TrashItem) int64 { return it.Size })
	list.EnableFilter(func(it remote.TrashItem) string { return it.Path })
	return Model{ctx: ctx, st: st, r: r, keys: keys, list: list}
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Restored is how many entries were restored since the screen opened.
func (m Model) Restored() int { return m.restored }

// Init loads the first page.
func (m *Model) Init() tea.Cmd { return m.list.Init() }

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) { m.list.SetSize(w, h) }

// Update handles keys (the open dialog's first), the dialogs' answers
// and the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg:
		return m.confirmed(msg)
	case dialog.InputMsg:
		return m.restoreTo(msg)
	case dialog.CompletedMsg:
		return m, m.list.DialogMsg(msg)
	case tea.KeyMsg:
		if cmd, ok := m.list.DialogKey(msg); ok {
			return m, cmd
		}
		if m.list.Filtering() {
			return m, m.list.FilterKey(msg)
		}
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case msg.Type == tea.KeyEsc && m.list.ClearFilter():
		return m, nil
	case key.Matches(msg, m.keys.Back):
		return m, func() tea.Msg { return ClosedMsg{Restored: m.restored} }
	case key.Matches(msg, m.keys.Reload):
		return m, m.list.Reload()
	case m.list.Navigate(msg):
	case key.Matches(msg, m.keys.Filter):
		m.list.StartFilter()
		return m, nil
	case m.list.Busy():
		// One change at a time: the list must not move under a request.
		return m, nil
	case key.Matches(msg, m.keys.Empty):
		return m, m.confirmEmpty()
	case m.list.Shown() == 0:
		return m, nil
	case key.Matches(msg, m.keys.Mark):
		return m, m.list.Mark()
	case key.Matches(msg, m.keys.MarkAll):
		return m, m.list.MarkAll()
	case key.Matches(msg, m.keys.Unmark):
		m.list.Unmark()
		return m, nil
	case key.Matches(msg, m.keys.Restore):
		items := m.list.Targets()
		if len(items) > 1 {
			return m, m.restoreMany(items, "")
		}
		it := items[0]
		return m, m.list.Start("Restoring "+dialog.Quote(it.Name)+"…", m.restoreCmd(it, ""))
	case key.Matches(msg, m.keys.RestoreTo):
		items := m.list.Targets()
		if len(items) > 1 {
			m.openRestoreManyTo(items)
			return m, nil
		}
		m.openRestoreTo(items[0], "")
		return m, nil
	case key.Matches(msg, m.keys.Purge):
		items := m.list.Targets()
		if len(items) > 1 {
			m.confirmPurgeMany(items)
			return m, nil
		}
		it := items[0]
		q := fmt.Sprintf("Delete %s for good?\n\nIt was %s (%s), deleted %s.\nThis cannot be undone.",
			dialog.Quote(it.Name), dialog.Sanitize(it.Path), sizeText(it), dialog.FormatTime(it.Deleted))
		d := dialog.NewConfirm(m.st, purgeDialog, "Delete for good", q)
		d.SetDefault(1)
		m.list.Open(d)
		m.dlgItem = it
		return m, nil
	}
	return m, m.list.Scroll()
}

func (m Model) restoreCmd(it remote.TrashItem, to string) tea.Cmd {
	ctx, r := m.ctx, m.r
	return func() tea.Msg {
		_, err := r.RestoreTrash(ctx, it.ID, to)
		if err != nil {
			where := to
			if where == "" {
				where = it.Path
			}
			err = fmt.Errorf("restore to %s: %w", where, err)
		}
		return Msg{kind: restoredMsg, item: it, to: to, err: err}
	}
}

func (m *Model) openRestoreTo(it remote.TrashItem, why string) {
	prompt := "Restore " + dialog.Quote(it.Name) + " to:"
	if why != "" {
		prompt = why + "\n\n" + prompt
	}
	m.list.Open(dialog.NewPathInput(m.st, restoreToDialog, "Restore to…", prompt, suggest(it.Path), validPath,
		complete.RemoteTree(m.r, "/").Cmd(m.ctx, restoreToDialog)))
	m.dlgItem = it
}

// suggest proposes a free-looking name next to where the entry was:
// "/a/report (restored).pdf".
func suggest(p string) string {
	dir, base := path.Split(p)
	ext := path.Ext(base)
	if ext == base { // ".profile"
		ext = ""
	}
	return dir + strings.TrimSuffix(base, ext) + " (restored)" + ext
}

// validPath accepts the absolute, clean paths the server takes.
func validPath(p string) error {
	switch {
	case p == "":
		return errors.New("a path is needed")
	case !strings.HasPrefix(p, "/"):
		return errors.New("the path must start with /")
	case p == "/":
		return errors.New("the root cannot be replaced")
	case path.Clean(p) != p:
		return fmt.Errorf("not a clean path (did you mean %s?)", path.Clean(p))
	}
	return nil
}

func (m Model) confirmed(msg dialog.ConfirmedMsg) (Model, tea.Cmd) {
	switch {
	case m.list.Confirmed(msg, purgeManyDialog), m.list.Confirmed(msg, emptyDialog):
		return m, m.purgeMany(m.dlgItems)
	case !m.list.Confirmed(msg, purgeDialog):
		return m, nil
	}
	it := m.dlgItem
	ctx, r := m.ctx, m.r
	return m, m.list.Start("Deleting "+dialog.Quote(it.Name)+" for good…", func() tea.Msg {
		err := r.PurgeTrash(ctx, it.ID)
		if err != nil {
			err = fmt.Errorf("delete %s for good: %w", it.Name, err)
		}
		return Msg{kind: purgedMsg, item: it, err: err}
	})
}

func (m Model) restoreTo(msg dialog.InputMsg) (Model, tea.Cmd) {
	if msg.ID == restoreManyToDialog && m.list.Dialog() != nil {
		if msg.Canceled {
			m.list.Close()
			return m, nil
		}
		return m, m.restoreMany(m.dlgItems, msg.Value)
	}
	if msg.ID != restoreToDialog || m.list.Dialog() == nil {
		return m, nil
	}
	if msg.Canceled {
		m.list.Close()
		return m, nil
	}
	// The dialog stays open until the server answers, to show its error
	// in place.
	it := m.dlgItem
	return m, m.list.Start("Restoring "+dialog.Quote(it.Name)+"…", m.restoreCmd(it, msg.Value))
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case listMsg:
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg.list)
		counted := m.emptyCounted()
		return m, tea.Batch(cmd, counted)
	case batchMsg:
		return m.batchDone(msg)
	case restoredMsg:
		m.list.Stop()
		if msg.err != nil {
			return m.restoreFailed(msg)
		}
		m.list.Close()
		m.remove(msg.item.ID)
		m.restored++
		where := msg.to
		if where == "" {
			where = msg.item.Path
		}
		m.list.SetStatus("Restored "+dialog.Quote(msg.item.Name)+" to "+dialog.Sanitize(where)+".", true)
		return m, m.list.More()
	case purgedMsg:
		m.list.Stop()
		if msg.err != nil {
			m.list.SetStatus(msg.err.Error(), false)
			return m, nil
		}
		m.remove(msg.item.ID)
		m.list.SetStatus("Deleted "+dialog.Quote(msg.item.Name)+" for good.", true)
		return m, m.list.More()
	}
	return m, nil
}

func (m Model) restoreFailed(msg Msg) (Model, tea.Cmd) {
	switch {
	case m.list.Dialog() != nil:
		m.list.Dialog().SetError(msg.err) // restore to…: the dialog shows why
	case errors.Is(msg.err, remote.ErrExists):
		m.list.SetStatus(msg.err.Error(), false)
		m.openRestoreTo(msg.item, "Something is already at "+dialog.Sanitize(msg.item.Path)+".")
	default:
		m.list.SetStatus(msg.err.Error(), false)
	}
	return m, nil
}

func (m *Model) remove(id string) {
	m.list.Remove(func(it remote.TrashItem) bool { return it.ID == id })
}

// Column widths beside the name and the folder, which share the rest.
const (
	sizeW = 9
	timeW = 16
	gapW  = 2
)

// View draws the screen, with an open dialog over it.
func (m Model) View() string {
	nameW, dirW := m.columns()
	return m.list.View(pagedlist.Screen[remote.TrashItem]{
		Title:   m.list.Title(m.st.Header.Render("Trash"), m.list.Count("item", "items")),
		Header:  m.st.Muted.Render(m.row("Name", "Was in", "Size", "Deleted", nameW, dirW)),
		Loading: "Loading the trash…",
		Empty:   m.st.Muted.Render(m.center("The trash is empty.")),
		Row: func(it remote.TrashItem, selected, marked bool) string {
			name := dialog.Sanitize(it.Name)
			if it.Kind == "dir" {
				name += "/"
			}
			line := m.row(name, dialog.Sanitize(path.Dir(it.Path)), sizeText(it), dialog.FormatTime(it.Deleted), nameW, dirW)
			// The cursor and the mark show without colour too.
			if marked {
				line = line[:1] + "*" + line[2:]
			}
			switch {
			case selected:
				line = m.st.RowCursor.Render("›" + line[1:])
			case marked:
				line = m.st.RowSelected.Render(line)
			case it.Kind == "dir":
				line = m.st.Dir.Render(line)
			}
			return line
		},
		Keys: m.keys,
	})
}

func (m Model) columns() (nameW, dirW int) {
	rest := m.list.Width() - 2 - sizeW - timeW - 3*gapW
	nameW = max(4, rest*2/5)
	return nameW, max(4, rest-nameW)
}

// row lays out one line: a two-cell margin, name, folder, size, time.
func (m Model) row(name, dir, size, when string, nameW, dirW int) string {
	cell := pagedlist.Cell
	// The end of a folder path says more than its start.
	if ansi.StringWidth(dir) > dirW {
		dir = "…" + ansi.TruncateLeft(dir, ansi.StringWidth(dir)-dirW+1, "")
	}
	g := strings.Repeat(" ", gapW)
	line := "  " + cell(name, nameW, false) + g + cell(dir, dirW, false) + g + cell(size, sizeW, true) + g + cell(when, timeW, false)
	return ansi.Truncate(line, m.list.Width(), "")
}

func (m Model) center(s string) string {
	return strings.Repeat(" ", max(0, (m.list.Width()-lipgloss.Width(s))/2)) + s
}

func sizeText(it remote.TrashItem) string {
	if it.Kind == "dir" && it.Size == 0 {
		return "—"
	}
	return human.Bytes(it.Size)
}
