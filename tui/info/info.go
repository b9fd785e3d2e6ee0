// Package info is the panel that describes the entry under the cursor:
// its metadata, the versions the server keeps of it, and a preview of
// the start of a small text file. Everything it fetches is fetched off
// the UI, after the cursor rests, and dropped if the cursor has moved on.
package info

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/treecount"
)

// Limits of the preview.
const (
	// ReadLimit is how much of a file is read for its preview: more than
	// any panel shows, little enough to fetch on every cursor move.
	ReadLimit = 64 << 10
	// MaxPreviewSize is the largest file previewed: bigger files are
	// rarely text worth a glance, and their start alone says little.
	MaxPreviewSize = 1 << 20
)

// Delay is how long the cursor must rest on an entry before its versions
// and preview are fetched, so that scrolling through a folder does not
// send a request per row passed.
const Delay = 150 * time.Millisecond

// loadTimeout bounds one item's fetches, so a hung request ends in an
// error rather than a spinner that never stops.
const loadTimeout = 30 * time.Second

// Item is what the panel describes; the parent converts its entries
// (FromEntry, FromLocal).
type Item struct {
	Remote  bool
	Path    string // the remote path, or the local file's path
	Name    string
	Dir     bool
	Size    int64
	ModTime time.Time
	Created time.Time // remote only
	SHA256  string    // remote only
	// ClientDigest: SHA256 is the word of the uploader's client, not the
	// server's computation (remote only; api.Entry.ClientDigest).
	ClientDigest bool
	Version      int64       // remote only: the current version
	State        string      // remote only: "hot", or an archive state
	Mode         fs.FileMode // local only
}

// FromEntry describes a remote entry.
func FromEntry(e remote.Entry) Item {
	return Item{Remote: true, Path: e.Path, Name: e.Name, Dir: e.IsDir(), Size: e.Size, ModTime: e.ModTime,
		Created: e.Created, SHA256: e.SHA256, ClientDigest: e.ClientDigest, Version: e.Version, State: e.State}
}

// FromLocal describes a local file from its Lstat (or Stat) result.
func FromLocal(path string, fi fs.FileInfo) Item {
	return Item{Path: path, Name: fi.Name(), Dir: fi.IsDir(), Size: fi.Size(), ModTime: fi.ModTime(), Mode: fi.Mode()}
}

// KeyMap is the panel's keys, for when the parent forwards keys to it.
type KeyMap struct {
	ScrollUp   key.Binding
	ScrollDown key.Binding
}

// DefaultKeyMap returns the panel's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		ScrollUp:   key.NewBinding(key.WithKeys("K", "shift+up"), key.WithHelp("K", "scroll preview up")),
		ScrollDown: key.NewBinding(key.WithKeys("J", "shift+down"), key.WithHelp("J", "scroll preview down")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.ScrollUp, k.ScrollDown} }

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

type msgKind int

const (
	fetchMsg msgKind = iota // the cursor rested: start fetching
	versionsMsg
	previewMsg
	countMsg
	tickMsg
)

// Msg carries the panel's own asynchronous results (and its spinner's
// ticks). The parent passes every Msg to Update; results for an entry the
// cursor has left are dropped there.
type Msg struct {
	gen  uint64
	kind msgKind
	tick spinner.TickMsg

	versions  int
	more      bool // more versions than one page holds
	data      []byte
	truncated bool
	err       error
	count     background.Update[treecount.Total]
}

type previewState int

const (
	previewNone    previewState = iota // folders
	previewLoading                     // waiting for the data
	previewText
	previewBinary
	previewSkipped // too big or archived: see skipReason
	previewFailed
)

// Model is the info panel.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	keys KeyMap
	w, h int

	item   Item
	has    bool
	gen    uint64             // bumped by Show: results of older ones are stale
	cancel context.CancelFunc // ends the current item's fetches

	spin    spinner.Model
	ticking bool

	verLoading bool
	versions   int
	verMore    bool
	verErr     error

	// A folder's count: running from the fetch until done.
	counting bool
	count    treecount.Total
	counted  bool // some of it arrived (a report or the end)
	countErr error

	preview    previewState
	skipReason string
	lines      []string // the preview, sanitized, tabs expanded, not yet cut to width
	truncated  bool     // the file is longer than what was read
	prevErr    error
	scroll     int
}

// New builds an empty panel. ctx ends every fetch (the program's life);
// r may be nil when only local items are shown.
func New(ctx context.Context, st *style.Styles, r remote.Remote) Model {
	return Model{ctx: ctx, st: st, r: r, keys: DefaultKeyMap(), w: 40, h: 20,
		spin: spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent))}
}

// KeyMap returns the panel's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Item returns the item shown, and whether there is one.
func (m Model) Item() (Item, bool) { return m.item, m.has }

// Loading reports whether a fetch (or a folder's count) for the current
// item is under way.
func (m Model) Loading() bool { return m.verLoading || m.preview == previewLoading || m.counting }

// SetSize sets the panel's size; View fills exactly w×h, without a frame
// (the parent draws the pane around it).
func (m *Model) SetSize(w, h int) {
	m.w, m.h = max(1, w), max(1, h)
	m.clampScroll()
}

// Clear empties the panel (an empty folder) and abandons its fetches.
func (m *Model) Clear() {
	m.stop()
	m.gen++
	m.has = false
	m.item = Item{}
	m.reset()
}

func (m *Model) stop() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

func (m *Model) reset() {
	m.verLoading, m.versions, m.verMore, m.verErr = false, 0, false, nil
	m.counting, m.count, m.counted, m.countErr = false, treecount.Total{}, false, nil
	m.preview, m.skipReason, m.lines, m.truncated, m.prevErr, m.scroll = previewNone, "", nil, false, nil, 0
}

// Show describes item; the command fetches its versions and preview, or
// counts what a folder holds, once the cursor has rested for Delay.
// Showing the item already shown fetches nothing; showing another cancels
// what the last one started.
func (m *Model) Show(item Item) tea.Cmd {
	if m.has && item == m.item {
		return nil
	}
	m.stop()
	m.gen++
	m.item, m.has = item, true
	m.reset()
	switch {
	case item.Dir && item.Remote && m.r == nil:
	case item.Dir:
		m.counting = true
	default:
		m.verLoading = item.Remote && m.r != nil
		m.preview = m.previewFor(item)
	}
	if !m.Loading() {
		return nil
	}
	gen := m.gen
	fetch := tea.Tick(Delay, func(time.Time) tea.Msg { return Msg{gen: gen, kind: fetchMsg} })
	return tea.Batch(fetch, m.startSpinner())
}

// previewFor decides whether a file gets a preview (previewLoading) or
// why not.
func (m *Model) previewFor(item Item) previewState {
	switch {
	case item.Size > MaxPreviewSize:
		m.skipReason = "larger than " + human.Bytes(MaxPreviewSize)
	case item.Remote && item.State != "" && item.State != "hot":
		m.skipReason = "the file is " + item.State
	case item.Remote && m.r == nil:
		m.skipReason = "not connected"
	case !item.Remote && !item.Mode.IsRegular() && item.Mode&fs.ModeSymlink == 0:
		m.skipReason = "not a regular file"
	default:
		return previewLoading
	}
	return previewSkipped
}

func (m *Model) startSpinner() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	return wrapTick(m.spin.Tick)
}

// wrapTick makes the spinner's ticks Msgs, so the parent routes one type.
func wrapTick(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		t, _ := cmd().(spinner.TickMsg)
		return Msg{kind: tickMsg, tick: t}
	}
}

// Update takes the panel's Msgs and, when the parent forwards them,
// its keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.ScrollUp):
			m.scroll--
		case key.Matches(msg, m.keys.ScrollDown):
			m.scroll++
		}
		m.clampScroll()
		return m, nil
	case Msg:
		return m.handle(msg)
	}
	return m, nil
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	if msg.kind == tickMsg {
		if !m.Loading() {
			m.ticking = false // let the tick chain end
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg.tick)
		return m, wrapTick(cmd)
	}
	if msg.gen != m.gen {
		return m, nil // the cursor moved on
	}
	switch msg.kind {
	case fetchMsg:
		if m.counting {
			// A big tree takes long, and shows that it moves: no timeout,
			// only the cursor moving on ends it.
			ctx, cancel := context.WithCancel(m.ctx)
			m.cancel = cancel
			return m, countTree(ctx, m.r, m.gen, m.item)
		}
		ctx, cancel := context.WithTimeout(m.ctx, loadTimeout)
		m.cancel = cancel
		var cmds []tea.Cmd
		if m.verLoading {
			cmds = append(cmds, fetchVersions(ctx, m.r, m.gen, m.item.Path))
		}
		if m.preview == previewLoading {
			if m.item.Remote {
				cmds = append(cmds, fetchRemote(ctx, m.r, m.gen, m.item))
			} else {
				cmds = append(cmds, fetchLocal(ctx, m.gen, m.item.Path))
			}
		}
		return m, tea.Batch(cmds...)
	case versionsMsg:
		m.verLoading = false
		m.versions, m.verMore, m.verErr = msg.versions, msg.more, msg.err
	case previewMsg:
		m.setPreview(msg)
	case countMsg:
		m.count, m.counted = msg.count.Value, true
		if !msg.count.Done {
			return m, msg.count.Next()
		}
		m.counting, m.countErr = false, msg.count.Err
	}
	if !m.Loading() {
		m.stop()
	}
	return m, nil
}

// countTree counts what the folder item holds, reporting as it goes.
func countTree(ctx context.Context, r remote.Remote, gen uint64, item Item) tea.Cmd {
	count := func(ctx context.Context, report func(treecount.Total)) (treecount.Total, error) {
		if item.Remote {
			return treecount.Remote(ctx, r, []string{item.Path}, report)
		}
		return treecount.Local(ctx, []string{item.Path}, report)
	}
	return background.Start(ctx, count, func(u background.Update[treecount.Total]) tea.Msg {
		return Msg{gen: gen, kind: countMsg, count: u}
	})
}

func fetchVersions(ctx context.Context, r remote.Remote, gen uint64, path string) tea.Cmd {
	return func() tea.Msg {
		vp, err := r.Versions(ctx, path, "")
		if err != nil {
			err = fmt.Errorf("versions of %s: %w", path, err)
		}
		return Msg{gen: gen, kind: versionsMsg, versions: len(vp.Versions), more: vp.Cursor != "", err: err}
	}
}

func fetchRemote(ctx context.Context, r remote.Remote, gen uint64, item Item) tea.Cmd {
	return func() tea.Msg {
		data, err := r.Read(ctx, item.Path, ReadLimit)
		if err != nil {
			return Msg{gen: gen, kind: previewMsg, err: fmt.Errorf("read %s: %w", item.Path, err)}
		}
		return Msg{gen: gen, kind: previewMsg, data: data, truncated: item.Size > int64(len(data))}
	}
}

func fetchLocal(ctx context.Context, gen uint64, path string) tea.Cmd {
	return func() tea.Msg {
		data, truncated, err := readLocal(ctx, path)
		return Msg{gen: gen, kind: previewMsg, data: data, truncated: truncated, err: err}
	}
}

// readLocal reads the start of a local file, refusing anything but a
// regular file (opening a FIFO would block forever).
func readLocal(ctx context.Context, path string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("preview: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("preview %s: not a regular file", filepath.Base(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("preview: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ReadLimit+1))
	if err != nil {
		return nil, false, fmt.Errorf("preview %s: %w", path, err)
	}
	if len(data) > ReadLimit {
		return data[:ReadLimit], true, nil
	}
	return data, false, nil
}

func (m *Model) setPreview(msg Msg) {
	switch {
	case msg.err != nil:
		m.preview, m.prevErr = previewFailed, msg.err
	case !IsText(msg.data, msg.truncated):
		m.preview = previewBinary
	default:
		m.preview, m.truncated = previewText, msg.truncated
		m.lines = PreviewLines(msg.data, msg.truncated)
	}
	m.clampScroll()
}

// View draws the panel: exactly h lines of at most w cells.
func (m Model) View() string {
	if !m.has {
		return m.fill([]string{m.st.Muted.Render("Nothing selected.")})
	}
	out := m.headerLines()
	room := m.h - len(out) - 2 // a blank line and the rule
	if m.item.Dir || room < 1 {
		return m.fill(out)
	}
	out = append(out, "", m.rule("Preview"))
	return m.fill(append(out, m.previewView(room)...))
}

// headerLines are the metadata, above the preview.
func (m Model) headerLines() []string {
	it := m.item
	out := []string{m.st.PaneTitle.Render(ansi.Truncate(dialog.Sanitize(it.Name), m.w, "…"))}
	kind := "file"
	switch {
	case it.Dir:
		kind = "folder"
	case !it.Remote && it.Mode&fs.ModeSymlink != 0:
		kind = "symbolic link"
	case !it.Remote && !it.Mode.IsRegular():
		kind = "special file"
	}
	out = append(out, m.field("Kind", kind)...)
	if it.Dir {
		out = append(out, m.holds()...)
	} else {
		out = append(out, m.field("Size", sizeText(it.Size))...)
	}
	out = append(out, m.field("Modified", dialog.FormatTime(it.ModTime))...)
	if it.Remote {
		out = append(out, m.field("Created", dialog.FormatTime(it.Created))...)
		if it.SHA256 != "" {
			out = append(out, m.wrapped("SHA-256", it.SHA256)...)
			if it.ClientDigest {
				out = append(out, m.wrapped("", "(from the uploader's client)")...)
			}
		}
		if !it.Dir {
			out = append(out, m.field("Versions", m.versionsText())...)
		}
		if it.State != "" {
			out = append(out, m.field("State", it.State)...)
		}
	} else {
		out = append(out, m.field("Mode", it.Mode.String())...)
	}
	return append(out, m.wrapped("Path", it.Path)...)
}

const labelWidth = 10

// holds says what a folder holds, as far as it is counted.
func (m Model) holds() []string {
	var v, spin string
	style := m.st.R.NewStyle()
	switch {
	case m.counting && !m.counted:
		spin, v = m.spin.View()+" ", "counting…"
	case m.counting:
		spin, v = m.spin.View()+" ", human.Plural(m.count.Files, "file", "files")+", "+human.Bytes(m.count.Bytes)+" so far…"
	case m.countErr != nil:
		v, style = "could not count: "+dialog.Sanitize(m.countErr.Error()), m.st.StatusErr
	case m.counted:
		v = m.count.String()
	default:
		return nil
	}
	vw := max(1, m.w-labelWidth-lipgloss.Width(spin))
	lines := dialog.Wrap(v, vw)
	out := make([]string, len(lines))
	for i, l := range lines {
		lab, lead := "", strings.Repeat(" ", lipgloss.Width(spin))
		if i == 0 {
			lab, lead = "Holds", spin
		}
		out[i] = m.st.Muted.Render(pad(lab, labelWidth)) + lead + style.Render(l)
	}
	return out
}

// sizeText gives a size in human units and exact bytes ("3.2 MiB
// (3,355,443 bytes)"), or only in bytes when those are the same.
func sizeText(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%s (%s bytes)", human.Bytes(n), human.Count(n))
}

func (m Model) field(label, value string) []string {
	v := ansi.Truncate(dialog.Sanitize(value), max(1, m.w-labelWidth), "…")
	return []string{m.st.Muted.Render(pad(label, labelWidth)) + v}
}

// wrapped shows a value that must be read whole (a digest, a path) over
// as many lines as it needs.
func (m Model) wrapped(label, value string) []string {
	vw := max(1, m.w-labelWidth)
	lines := strings.Split(ansi.Hardwrap(dialog.Sanitize(value), vw, true), "\n")
	out := make([]string, len(lines))
	for i, l := range lines {
		lab := ""
		if i == 0 {
			lab = label
		}
		out[i] = m.st.Muted.Render(pad(lab, labelWidth)) + l
	}
	return out
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-lipgloss.Width(s)))
}

func (m Model) versionsText() string {
	cur := ""
	if m.item.Version > 0 {
		cur = fmt.Sprintf("current %d", m.item.Version)
	}
	var kept string
	switch {
	case m.verLoading:
		kept = m.spin.View() + " loading"
	case m.verErr != nil:
		kept = m.st.StatusErr.Render("unavailable")
	case m.verMore:
		kept = fmt.Sprintf("%d+ kept", m.versions)
	case m.r != nil:
		kept = fmt.Sprintf("%d kept", m.versions)
	}
	switch {
	case cur == "":
		return kept
	case kept == "":
		return cur
	}
	return cur + " · " + kept
}

func (m Model) rule(title string) string {
	t := " " + title + " "
	return m.st.Muted.Render("──" + t + strings.Repeat("─", max(0, m.w-2-lipgloss.Width(t))))
}

func (m Model) previewView(room int) []string {
	msg := func(s string) []string { return []string{m.st.Muted.Render(ansi.Truncate(s, m.w, "…"))} }
	switch m.preview {
	case previewLoading:
		return []string{m.spin.View() + " " + m.st.Muted.Render("Loading…")}
	case previewSkipped:
		return msg("No preview: " + m.skipReason + ".")
	case previewBinary:
		return msg("Binary file: no preview.")
	case previewFailed:
		lines := dialog.Wrap(dialog.Sanitize(m.prevErr.Error()), m.w)
		for i, l := range lines {
			lines[i] = m.st.StatusErr.Render(l)
		}
		return lines
	case previewText:
		if len(m.lines) == 0 {
			return msg("Empty file.")
		}
		var out []string
		end := min(len(m.lines), m.scroll+room)
		for _, l := range m.lines[m.scroll:end] {
			out = append(out, ansi.Truncate(l, m.w, "…"))
		}
		if end == len(m.lines) && m.truncated && len(out) < room {
			out = append(out, m.st.Muted.Render(ansi.Truncate("… only the first "+human.Bytes(ReadLimit)+" shown", m.w, "")))
		}
		return out
	}
	return nil
}

// previewRoom is the number of preview lines View has room for.
func (m Model) previewRoom() int {
	if !m.has {
		return 0
	}
	return max(1, m.h-len(m.headerLines())-2)
}

func (m *Model) clampScroll() {
	if m.preview != previewText {
		m.scroll = 0
		return
	}
	m.scroll = max(0, min(m.scroll, len(m.lines)-m.previewRoom()))
}

// fill pads out to exactly h lines of w cells (so the parent's layout
// does not move with the content), cutting what does not fit.
func (m Model) fill(out []string) string {
	if len(out) > m.h {
		out = out[:m.h]
	}
	for len(out) < m.h {
		out = append(out, "")
	}
	for i, l := range out {
		out[i] = pad(ansi.Truncate(l, m.w, ""), m.w)
	}
	return strings.Join(out, "\n")
}
