package transfer

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/style"
)

// refreshEvery paces the redraws while something moves (speeds and ETAs
// change with time); an idle view waits on Manager.Changed instead.
const refreshEvery = 200 * time.Millisecond

// KeyMap is the transfers view's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Cancel, CancelAll                     key.Binding
	Retry, RetryFailed                    key.Binding
	Clear                                 key.Binding
	// The answers to a pending conflict; the *All ones stand for every
	// conflict of the batch.
	Overwrite, Skip, Rename          key.Binding
	OverwriteAll, SkipAll, RenameAll key.Binding
}

// DefaultKeyMap returns the standard keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "first")),
		End:          key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "last")),
		Cancel:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel")),
		CancelAll:    key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "cancel all")),
		Retry:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		RetryFailed:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "retry failed")),
		Clear:        key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "clear finished")),
		Overwrite:    key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "overwrite")),
		Skip:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "skip")),
		Rename:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "rename")),
		OverwriteAll: key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "overwrite all")),
		SkipAll:      key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "skip all")),
		RenameAll:    key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "rename all")),
	}
}

// ShortHelp is the keys of the help line (help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Cancel, k.CancelAll, k.Retry, k.RetryFailed, k.Clear}
}

// FullHelp is every key, by group (help.KeyMap).
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Cancel, k.CancelAll, k.Retry, k.RetryFailed, k.Clear},
		{k.Overwrite, k.Skip, k.Rename, k.OverwriteAll, k.SkipAll, k.RenameAll},
	}
}

// ChangedMsg makes a Model read its Manager's snapshot again (Wait returns
// it; other Managers' messages are ignored).
type ChangedMsg struct{ m *Manager }

// Model is the transfers view: a header with the batch, one line per job
// (scrollable, with a cursor), the pending conflict's question or the
// selected job's detail, and a help line. It reads the Manager through
// SnapshotRange, so its cost does not grow with the number of jobs.
type Model struct {
	KeyMap KeyMap

	mgr            *Manager
	st             *style.Styles
	snap           Snapshot
	width, height  int
	cursor, offset int
	// asked is the conflict the cursor was last brought to, so that a new
	// question comes into view once and the user can scroll away from it.
	asked int
}

// NewModel returns the view of m's transfers, sized 80x24 until SetSize.
func NewModel(m *Manager, st *style.Styles) Model {
	mo := Model{KeyMap: DefaultKeyMap(), mgr: m, st: st, width: 80, height: 24}
	mo.refresh()
	return mo
}

// Init starts the refresh loop (Wait).
func (mo Model) Init() tea.Cmd { return mo.Wait() }

// Wait returns a command that waits for the Manager to change (or, while
// something runs, for the next redraw ~200 ms away) and then delivers a
// ChangedMsg. Update answers each ChangedMsg with the next Wait, so one call
// (Init) keeps the view fresh without polling an idle Manager; the command
// returns nil once the Manager is closed.
func (mo Model) Wait() tea.Cmd {
	mgr := mo.mgr
	s := mo.snap
	busy := s.Running > 0 || s.Walking > 0 || s.Offline || s.Retrying > 0
	return func() tea.Msg {
		if busy {
			t := time.NewTimer(refreshEvery)
			defer t.Stop()
			select {
			case <-t.C:
			case <-mgr.closed:
				return nil
			}
			return ChangedMsg{mgr}
		}
		select {
		case <-mgr.changed:
		case <-mgr.closed:
			return nil
		}
		return ChangedMsg{mgr}
	}
}

// SetSize sets the size the view fills.
func (mo *Model) SetSize(width, height int) {
	mo.width, mo.height = max(width, 20), max(height, 5)
	mo.refresh()
}

// Snapshot is the state the view last read (for the root model: Offline,
// Conflict, counts).
func (mo Model) Snapshot() Snapshot { return mo.snap }

// Selected returns the job under the cursor.
func (mo Model) Selected() (Job, bool) {
	i := mo.cursor - mo.snap.Offset
	if i < 0 || i >= len(mo.snap.Jobs) {
		return Job{}, false
	}
	return mo.snap.Jobs[i], true
}

// Update handles ChangedMsg and keys. Every Manager call it makes returns
// at once.
func (mo Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case ChangedMsg:
		if msg.m != mo.mgr {
			return mo, nil
		}
		mo.refresh()
		return mo, mo.Wait()
	case tea.KeyMsg:
		k, mgr, rows := mo.KeyMap, mo.mgr, mo.rows()
		sel, ok := mo.Selected()
		conflict := mo.snap.Conflict
		switch {
		case key.Matches(msg, k.Up):
			mo.cursor--
		case key.Matches(msg, k.Down):
			mo.cursor++
		case key.Matches(msg, k.PageUp):
			mo.cursor -= rows
		case key.Matches(msg, k.PageDown):
			mo.cursor += rows
		case key.Matches(msg, k.Home):
			mo.cursor = 0
		case key.Matches(msg, k.End):
			mo.cursor = mo.snap.Total - 1
		case key.Matches(msg, k.Cancel):
			if ok {
				mgr.Cancel(sel.ID)
			}
		case key.Matches(msg, k.CancelAll):
			mgr.CancelAll()
		case key.Matches(msg, k.Retry):
			if ok {
				mgr.Retry(sel.ID)
			}
		case key.Matches(msg, k.RetryFailed):
			mgr.RetryFailed()
		case key.Matches(msg, k.Clear):
			mgr.ClearDone()
		case conflict != nil && key.Matches(msg, k.Overwrite, k.Skip, k.Rename, k.OverwriteAll, k.SkipAll, k.RenameAll):
			d := Decision{ForAll: key.Matches(msg, k.OverwriteAll, k.SkipAll, k.RenameAll)}
			switch {
			case key.Matches(msg, k.Overwrite, k.OverwriteAll):
				d.Action = Overwrite
			case key.Matches(msg, k.Skip, k.SkipAll):
				d.Action = Skip
			default:
				d.Action = Rename
			}
			mgr.Resolve(conflict.ID, d)
		default:
			return mo, nil
		}
		mo.refresh()
	}
	return mo, nil
}

// rows is the number of job lines: all but the header, status, detail and
// help lines.
func (mo Model) rows() int { return max(mo.height-4, 1) }

// refresh reads the window of jobs around the cursor.
func (mo *Model) refresh() {
	rows := mo.rows()
	s := mo.mgr.SnapshotRange(mo.offset, rows)
	mo.cursor = min(max(mo.cursor, 0), max(s.Total-1, 0))
	off := mo.offset
	if mo.cursor < off {
		off = mo.cursor
	}
	if mo.cursor >= off+rows {
		off = mo.cursor - rows + 1
	}
	off = min(off, max(s.Total-rows, 0))
	if off != mo.offset {
		mo.offset = off
		s = mo.mgr.SnapshotRange(off, rows)
	}
	mo.snap = s
	if c := s.Conflict; c != nil && c.ID != mo.asked {
		// A name exists at the destination: the question below is about
		// this job, so bring it under the cursor.
		mo.asked = c.ID
		mo.cursor = s.ConflictAt
		mo.refresh()
	}
}

// View draws the view in exactly width x height cells.
func (mo Model) View() string {
	st, w := mo.st, mo.width
	lines := make([]string, 0, mo.height)
	lines = append(lines, st.Header.Render(cutRight(mo.header(), w)))
	lines = append(lines, mo.status())
	now := mo.mgr.o.Now()
	for i, j := range mo.snap.Jobs {
		lines = append(lines, mo.row(j, mo.snap.Offset+i == mo.cursor, now))
	}
	for len(lines) < mo.rows()+2 {
		lines = append(lines, "")
	}
	lines = append(lines, mo.detail())
	lines = append(lines, mo.help())
	for i, l := range lines {
		lines[i] = pad(cutRight(l, w), w, false)
	}
	return strings.Join(lines, "\n")
}

func (mo Model) header() string {
	s := mo.snap
	if s.Total == 0 && s.Walking == 0 {
		return "Transfers — none"
	}
	files := fmt.Sprintf("%d of %d", s.FilesDone, s.Files)
	if s.Walking > 0 {
		files += "+"
	}
	parts := []string{files + " files", human.Short(s.BytesDone) + " of " + human.Short(s.Bytes)}
	if s.Running > 0 {
		if v := formatSpeed(s.Speed); v != "" {
			parts = append(parts, v)
		}
		if s.ETA > 0 {
			parts = append(parts, "ETA "+formatDuration(s.ETA))
		}
	}
	return "Transfers — " + strings.Join(parts, ", ")
}

// status is the line under the header: what needs attention, and where
// the window is in the list.
func (mo Model) status() string {
	st, s := mo.st, mo.snap
	var parts []string
	if s.Offline {
		parts = append(parts, st.StatusErr.Render("connection lost — waiting for the server"))
	}
	if s.Walking > 0 {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("listing %d %s", s.Walking, plural(s.Walking, "folder", "folders"))))
	}
	if s.Conflicts > 0 {
		parts = append(parts, st.Accent.Render(fmt.Sprintf("%d waiting for an answer", s.Conflicts)))
	}
	if s.Retrying > 0 {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("%d to retry", s.Retrying)))
	}
	if s.Failed > 0 {
		parts = append(parts, st.StatusErr.Render(fmt.Sprintf("%d failed", s.Failed)))
	}
	if s.Skipped > 0 {
		parts = append(parts, st.Muted.Render(fmt.Sprintf("%d skipped", s.Skipped)))
	}
	if s.SaveErr != nil {
		parts = append(parts, st.StatusErr.Render("not saved: "+clean(s.SaveErr.Error())))
	}
	pos := ""
	if s.Total > len(s.Jobs) && len(s.Jobs) > 0 {
		pos = fmt.Sprintf("%d–%d of %d", s.Offset+1, s.Offset+len(s.Jobs), s.Total)
	}
	left := cutRight(strings.Join(parts, st.Muted.Render(" · ")), mo.width-len(pos)-1)
	if pos == "" {
		return left
	}
	return pad(left, mo.width-lipgloss.Width(pos), false) + st.Muted.Render(pos)
}

// Column widths of a job line; the name takes what is left.
const (
	sizesW = 17 // "12.3 MiB/40.0 MiB"
	speedW = 10 // "85 MiB/s"
	tailW  = 8  // "ETA", "queued", "retry 3s"
)

// row draws one job: kind arrow, destination (cut from the left), bar,
// done/size, speed, ETA or state; a failed job shows its error instead.
func (mo Model) row(j Job, cursor bool, now time.Time) string {
	st, w := mo.st, mo.width
	barW := 12
	if w > 100 {
		barW = min(12+(w-100)/2, 40)
	}
	spW := speedW
	nameW := w - 3 - (1 + barW) - (1 + sizesW) - (1 + spW) - (1 + tailW)
	if nameW < 12 {
		spW, barW = 0, 0
		nameW = w - 3 - (1 + sizesW) - (1 + tailW)
	}
	type seg struct {
		text string
		sty  lipgloss.Style
	}
	var segs []seg
	add := func(text string, sty lipgloss.Style) { segs = append(segs, seg{text, sty}) }

	arrow := "↑"
	if j.Kind == Download {
		arrow = "↓"
	}
	name := clean(j.Dst)
	if j.Kind == Download {
		name = filepath.ToSlash(name)
	}
	if j.Dir {
		name = strings.TrimSuffix(name, "/") + "/"
	}
	// A mark besides the highlight: without colours (NO_COLOR) it is all
	// that shows the cursor.
	mark := " "
	if cursor {
		mark = "▸"
	}
	add(mark+arrow+" ", st.Accent)
	nameSty := st.File
	if j.Dir {
		nameSty = st.Dir
	}
	add(pad(cutLeft(name, nameW), nameW, false), nameSty)
	rest := w - 3 - nameW - 1

	switch {
	case j.State == Failed:
		add(" "+cutRight("✗ "+errText(j), rest), st.StatusErr)
	case j.State == Conflict:
		add(" "+cutRight("exists — answer below", rest), st.Accent)
	case j.State == Skipped && j.Err != nil:
		add(" "+cutRight("skipped: "+errText(j), rest), st.Muted)
	default:
		if barW > 0 {
			full := 0
			if j.Size > 0 {
				full = int(float64(barW) * float64(min(j.Done, j.Size)) / float64(j.Size))
			} else if j.State == Done {
				full = barW
			}
			add(" ", st.Row)
			add(strings.Repeat("█", full), st.BarFull)
			add(strings.Repeat("░", barW-full), st.BarEmpty)
		}
		sizes := human.Short(j.Done) + "/" + human.Short(j.Size)
		if j.State == Done {
			sizes = human.Short(j.Size)
		}
		add(" "+pad(sizes, sizesW, true), st.Row)
		if spW > 0 {
			add(" "+pad(formatSpeed(j.Speed), spW, true), st.Row)
		}
		tail, tailSty := "", st.Row
		switch j.State {
		case Running:
			if j.ETA > 0 {
				tail = formatDuration(j.ETA)
			}
		case Queued:
			tail, tailSty = "queued", st.Muted
			if !j.RetryAt.IsZero() {
				tail = "retry " + formatDuration(max(j.RetryAt.Sub(now), 0))
			}
		case Done:
			tail, tailSty = "done", st.StatusOK
		case Canceled, Skipped:
			tail, tailSty = j.State.String(), st.Muted
		}
		add(" "+pad(cutRight(tail, tailW), tailW, true), tailSty)
	}

	var b strings.Builder
	if cursor {
		for _, s := range segs {
			b.WriteString(s.text)
		}
		return st.RowCursor.Render(pad(b.String(), w, false))
	}
	for _, s := range segs {
		b.WriteString(s.sty.Render(s.text))
	}
	return b.String()
}

func errText(j Job) string {
	if j.Err == nil {
		return j.State.String()
	}
	return clean(j.Err.Error())
}

// detail is the line above the help: the pending conflict's question, or
// what the selected job is.
func (mo Model) detail() string {
	st, w := mo.st, mo.width
	if c := mo.snap.Conflict; c != nil {
		dir, base := path.Dir(c.Dst), path.Base(c.Dst)
		if c.Kind == Download {
			dir, base = filepath.Dir(c.Dst), filepath.Base(c.Dst)
		}
		const exists, q = " exists in ", ": [o]verwrite [s]kip re[n]ame — capital for all"
		name, dir := clean(base), clean(dir)
		// Too long for the line: cut the folder (from the left) before
		// the name, which keeps at least half the room.
		if room := w - len([]rune(exists+q)); lipgloss.Width(name+dir) > room {
			name = cutRight(name, max(room-lipgloss.Width(dir), room/2, 1))
			dir = cutLeft(dir, max(room-lipgloss.Width(name), 1))
		}
		return st.DialogTitle.Render(cutRight(name+exists+dir+q, w))
	}
	j, ok := mo.Selected()
	if !ok {
		return ""
	}
	text := clean(j.Src) + " → " + clean(j.Dst)
	switch {
	case j.Err != nil && j.State == Failed:
		text = "failed: " + clean(j.Err.Error())
		if j.Attempts > 0 {
			text = fmt.Sprintf("failed after %d %s: %s", j.Attempts, plural(j.Attempts, "try", "tries"), clean(j.Err.Error()))
		}
		return st.StatusErr.Render(cutRight(text, w))
	case j.Err != nil && j.State == Queued:
		text = "will retry: " + clean(j.Err.Error())
	}
	return st.Muted.Render(cutRight(text, w))
}

// help is the key line.
func (mo Model) help() string {
	st := mo.st
	keys := []key.Binding{mo.KeyMap.Cancel, mo.KeyMap.CancelAll, mo.KeyMap.Retry, mo.KeyMap.RetryFailed, mo.KeyMap.Clear}
	var parts []string
	for _, k := range keys {
		h := k.Help()
		parts = append(parts, st.Key.Render(h.Key)+" "+st.KeyDesc.Render(h.Desc))
	}
	return cutRight(strings.Join(parts, "  "), mo.width)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
