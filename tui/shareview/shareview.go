// Package shareview is the Shares screen: the user's share links and
// shares with users and groups, with their state (expires in, downloads
// left, password, upload-only), revoked with a confirmation; a link's URL
// copied again (OSC 52) and shown with a QR code; and the one dialog that
// shares the file manager's selection.
package shareview

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// ClosedMsg says the user left the screen; Changed: links or shares were
// made or revoked, so the file list reloads.
type ClosedMsg struct{ Changed bool }

// KeyMap is the screen's keys.
type KeyMap struct {
	pagedlist.Nav
	Copy, Revoke, Filter, Reload, Back key.Binding
}

// DefaultKeyMap returns the screen's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Nav:    pagedlist.DefaultNav(),
		Copy:   key.NewBinding(key.WithKeys("c", "y", "enter"), key.WithHelp("c/enter", "copy the link again, with its QR code (OSC 52)")),
		Revoke: key.NewBinding(key.WithKeys("D", "x", "delete"), key.WithHelp("D/x", "revoke the link or share")),
		Filter: key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Reload: key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:   key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap, brief to fit 80 columns.
func (k KeyMap) ShortHelp() []key.Binding {
	brief := pagedlist.Brief
	return []key.Binding{brief(k.Copy, "c", "copy link"), brief(k.Revoke, "D", "revoke"), k.Filter, brief(k.Back, "q", "back")}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Copy, k.Revoke, k.Filter, k.Reload, k.Back},
	}
}

const revokeDialog = "shares.revoke"

// Row is a line of the screen: a link or a share with users or groups.
type Row struct {
	Link  *remote.Link
	Share *remote.UserShare
}

func (r Row) key() string {
	if r.Link != nil {
		return "l" + r.Link.ID
	}
	return "u" + r.Share.ID + r.Share.User + "/" + r.Share.Group
}

type msgKind int

const (
	listMsg msgKind = iota
	revokedMsg
	revealedMsg
	createdMsg
	copiedMsg
)

// Msg carries the screen's asynchronous results; the parent passes every
// Msg to Update.
type Msg struct {
	kind  msgKind
	list  pagedlist.Msg[Row]
	row   Row
	links []remote.Link
	n     int // shares made
	err   error
}

// Model is the Shares screen.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	clip func(string) error
	keys KeyMap
	list pagedlist.Model[Row]
	now  func() time.Time
	w, h int

	dlgRow  Row
	form    *form
	shown   *shown // links shown with their URL
	alone   bool   // opened to share the selection: closing it goes back
	changed bool
}

// shown is the box of links just made or copied again.
type shown struct {
	title string
	links []remote.Link
	note  string
	ok    bool
}

// New builds the screen; Init loads it. ctx ends its requests; clip puts
// text on the clipboard (nil: there is none).
func New(ctx context.Context, st *style.Styles, r remote.Remote, clip func(string) error) Model {
	keys := DefaultKeyMap()
	nav := keys.Nav
	load := func(cursor string) ([]Row, string, error) {
		var rows []Row
		if cursor == "" {
			// Shares with users and groups come in one answer, before the
			// links, which come a page at a time.
			us, err := r.UserShares(ctx)
			if err != nil {
				return nil, "", fmt.Errorf("list your shares: %w", err)
			}
			for i := range us {
				rows = append(rows, Row{Share: &us[i]})
			}
		}
		pg, err := r.Links(ctx, strings.TrimPrefix(cursor, "l:"))
		if err != nil {
			return nil, "", fmt.Errorf("list your links: %w", err)
		}
		for i := range pg.Shares {
			rows = append(rows, Row{Link: &pg.Shares[i]})
		}
		next := ""
		if pg.Cursor != "" {
			next = "l:" + pg.Cursor
		}
		return rows, next, nil
	}
	wrap := func(msg pagedlist.Msg[Row]) tea.Msg { return Msg{kind: listMsg, list: msg} }
	list := pagedlist.New(st, nav, load, wrap)
	list.EnableFilter(func(r Row) string {
		if r.Link != nil {
			return r.Link.Path + " " + r.Link.Name
		}
		return r.Share.Path + " " + r.Share.User + " " + r.Share.Group
	})
	return Model{ctx: ctx, st: st, r: r, clip: clip, keys: keys, list: list, now: time.Now, w: 80, h: 24}
}

// NewShare builds the screen with the share dialog open for targets:
// leaving the dialog (or the links it made) leaves the screen.
func NewShare(ctx context.Context, st *style.Styles, r remote.Remote, clip func(string) error, targets []Target) Model {
	m := New(ctx, st, r, clip)
	m.form = newForm(st, targets, m.now)
	m.alone = true
	return m
}

// SetNow sets the clock the expiries are read and shown by (tests).
func (m *Model) SetNow(now func() time.Time) {
	m.now = now
	if m.form != nil {
		m.form.now = now
	}
}

// KeyMap returns the screen's keys.
func (m Model) KeyMap() KeyMap { return m.keys }

// Alone reports whether the screen is only the share dialog (and what
// it made) over the file manager: the parent draws Box over its own
// screen instead of View.
func (m Model) Alone() bool { return m.alone }

// Init loads the first page (none when the screen is only the dialog).
func (m *Model) Init() tea.Cmd {
	if m.alone {
		return nil
	}
	return m.list.Init()
}

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.list.SetSize(w, h)
}

func (m Model) close() tea.Cmd {
	changed := m.changed
	return func() tea.Msg { return ClosedMsg{Changed: changed} }
}

// Update handles keys (the open dialog's first), the dialogs' answers and
// the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg:
		if !m.list.Confirmed(msg, revokeDialog) {
			return m, nil
		}
		row := m.dlgRow
		return m, m.list.Start("Revoking…", m.revokeCmd(row))
	case tea.KeyMsg:
		switch {
		case m.form != nil:
			return m.formKey(msg)
		case m.shown != nil:
			return m.shownKey(msg)
		}
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
		return m, m.close()
	case key.Matches(msg, m.keys.Reload):
		return m, m.list.Reload()
	case m.list.Navigate(msg):
	case key.Matches(msg, m.keys.Filter):
		m.list.StartFilter()
		return m, nil
	case m.list.Busy() || m.list.Shown() == 0:
		return m, nil
	case key.Matches(msg, m.keys.Copy):
		row := m.list.Selected()
		if row.Link == nil {
			m.list.SetStatus("A share with users and groups has no link: they find it under /shared in their file manager.", false)
			return m, nil
		}
		if !row.Link.Revealable {
			m.list.SetStatus("Made before links' addresses were kept: it cannot be shown again.", false)
			return m, nil
		}
		l := *row.Link
		r, ctx := m.r, m.ctx
		return m, m.list.Start("Fetching the link…", func() tea.Msg {
			got, err := r.RevealLink(ctx, l.ID)
			if err != nil {
				err = fmt.Errorf("copy the link to %s: %w", l.Name, err)
			}
			return Msg{kind: revealedMsg, links: []remote.Link{got}, err: err}
		})
	case key.Matches(msg, m.keys.Revoke):
		row := m.list.Selected()
		m.dlgRow = row
		d := dialog.NewConfirm(m.st, revokeDialog, "Revoke", m.revokeQuestion(row))
		d.SetDefault(1)
		m.list.Open(d)
		return m, nil
	}
	return m, m.list.Scroll()
}

func (m Model) revokeQuestion(row Row) string {
	if row.Link != nil {
		return fmt.Sprintf("Revoke the link to %s?\n\nWhoever has it gets “revoked” from now on. This cannot be undone.", dialog.Quote(row.Link.Name))
	}
	who := "user " + row.Share.User
	if row.Share.Group != "" {
		who = "group " + row.Share.Group
	}
	return fmt.Sprintf("Stop sharing %s with %s?\n\nIt leaves their /shared folder now.", dialog.Quote(row.Share.Name), dialog.Sanitize(who))
}

func (m Model) revokeCmd(row Row) tea.Cmd {
	r, ctx := m.r, m.ctx
	return func() tea.Msg {
		var err error
		if row.Link != nil {
			if err = r.RevokeLink(ctx, row.Link.ID); err != nil {
				err = fmt.Errorf("revoke the link to %s: %w", row.Link.Name, err)
			}
		} else if err = r.Unshare(ctx, row.Share.Path, row.Share.User, row.Share.Group); err != nil {
			err = fmt.Errorf("stop sharing %s: %w", row.Share.Name, err)
		}
		return Msg{kind: revokedMsg, row: row, err: err}
	}
}

func (m Model) formKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	ans, cmd := m.form.update(msg)
	switch ans {
	case formCancel:
		m.form = nil
		if m.alone {
			return m, m.close()
		}
		return m, nil
	case formSubmit:
		links, users, err := m.form.requests()
		if err != nil {
			m.form.err = err
			return m, nil
		}
		m.form.busy = true
		return m, m.createCmd(links, users)
	}
	return m, cmd
}

// createCmd makes the links or shares, one after the other, stopping at
// the first refusal (those made before it are kept, and listed).
func (m Model) createCmd(links []remote.LinkRequest, users []remote.ShareRequest) tea.Cmd {
	r, ctx := m.r, m.ctx
	return func() tea.Msg {
		out := Msg{kind: createdMsg}
		for _, req := range links {
			l, err := r.CreateLink(ctx, req)
			if err != nil {
				out.err = fmt.Errorf("share %s: %w", path.Base(req.Path), err)
				return out
			}
			out.links = append(out.links, l)
		}
		for _, req := range users {
			if _, err := r.ShareWith(ctx, req); err != nil {
				out.err = fmt.Errorf("share %s with %s%s: %w", path.Base(req.Path), req.User, req.Group, err)
				return out
			}
			out.n++
		}
		return out
	}
}

func (m Model) shownKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch msg.String() {
	case "c", "y":
		return m, m.copyCmd(m.shown.links)
	case "esc", "enter", "q":
		m.shown = nil
		if m.alone {
			return m, m.close()
		}
	}
	return m, nil
}

// copyCmd puts the links' URLs on the clipboard, off the UI (it writes
// to the terminal).
func (m Model) copyCmd(links []remote.Link) tea.Cmd {
	clip := m.clip
	var urls []string
	for _, l := range links {
		urls = append(urls, l.URL)
	}
	return func() tea.Msg {
		err := errors.New("there is no clipboard here")
		if clip != nil {
			err = clip(strings.Join(urls, "\n"))
		}
		return Msg{kind: copiedMsg, err: err}
	}
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case listMsg:
		var cmd tea.Cmd
		m.list, cmd = m.list.Update(msg.list)
		return m, cmd
	case revokedMsg:
		m.list.Stop()
		if msg.err != nil {
			m.list.SetStatus(msg.err.Error(), false)
			return m, nil
		}
		m.changed = true
		k := msg.row.key()
		m.list.Remove(func(r Row) bool { return r.key() == k })
		m.list.SetStatus("Revoked.", true)
		return m, m.list.More()
	case revealedMsg:
		m.list.Stop()
		if msg.err != nil {
			m.list.SetStatus(msg.err.Error(), false)
			return m, nil
		}
		m.shown = &shown{title: "Link to " + dialog.Quote(msg.links[0].Name), links: msg.links}
		return m, m.copyCmd(msg.links)
	case createdMsg:
		if m.form == nil {
			return m, nil
		}
		m.form.busy = false
		made := len(msg.links) + msg.n
		if made > 0 {
			m.changed = true
		}
		if msg.err != nil {
			// The dialog stays, to mend what the server refused; what was
			// made is kept and listed.
			if made > 0 {
				msg.err = fmt.Errorf("%w (%s made before it)", msg.err, human.Plural(made, "share was", "shares were"))
			}
			m.form.err = msg.err
			return m, m.reloadUnlessAlone()
		}
		m.form = nil
		if len(msg.links) == 0 {
			if m.alone {
				return m, m.close()
			}
			m.list.SetStatus(fmt.Sprintf("Shared (%s).", human.Plural(msg.n, "share", "shares")), true)
			return m, m.list.Reload()
		}
		title := "Link to " + dialog.Quote(msg.links[0].Name)
		if len(msg.links) > 1 {
			title = fmt.Sprintf("%d links", len(msg.links))
		}
		m.shown = &shown{title: title, links: msg.links}
		return m, tea.Batch(m.copyCmd(msg.links), m.reloadUnlessAlone())
	case copiedMsg:
		if m.shown == nil {
			return m, nil
		}
		m.shown.note, m.shown.ok = "Copied (OSC 52); if it won't paste, select it with shift held.", true
		if msg.err != nil {
			m.shown.note, m.shown.ok = fmt.Sprintf("Could not copy (%v): select it with shift held.", msg.err), false
		}
		return m, nil
	}
	return m, nil
}

func (m Model) reloadUnlessAlone() tea.Cmd {
	if m.alone {
		return nil
	}
	return m.list.Reload()
}

// Column widths beside the name, which takes the rest.
const (
	kindW  = 11
	stateW = 15
	gapW   = 2
)

// View draws the screen, with an open dialog over it.
func (m Model) View() string {
	rest := m.list.Width() - 2 - kindW - stateW - 3*gapW
	nameW := max(8, rest/2)
	detW := max(4, rest-nameW)
	row := func(kind, name, state, det string) string {
		cell := pagedlist.Cell
		g := strings.Repeat(" ", gapW)
		return ansi.Truncate("  "+cell(kind, kindW, false)+g+cell(name, nameW, false)+g+cell(state, stateW, false)+g+cell(det, detW, false), m.list.Width(), "")
	}
	screen := m.list.View(pagedlist.Screen[Row]{
		Title:   m.list.Title(m.st.Header.Render("Shares"), m.list.Count("share", "shares")),
		Header:  m.st.Muted.Render(row("Kind", "Shared", "State", "Settings")),
		Loading: "Loading your links and shares…",
		Empty:   m.st.Muted.Render("  You share nothing. Choose files in the file manager and press P to share them."),
		Row: func(r Row, selected, _ bool) string {
			kind, name, state, det := m.describe(r)
			line := row(kind, name, state, det)
			switch {
			case selected:
				line = m.st.RowCursor.Render("›" + line[1:])
			case state != "active" && !strings.HasPrefix(state, "expires") && !strings.HasPrefix(state, "never"):
				line = m.st.Muted.Render(line)
			}
			return line
		},
		Keys: m.keys,
	})
	if box := m.Box(); box != "" {
		screen = dialog.Overlay(screen, box, m.w, m.h)
	}
	return screen
}

// describe is a row's columns: kind, what is shared, state, settings.
func (m Model) describe(r Row) (kind, name, state, det string) {
	if s := r.Share; s != nil {
		kind = "user " + s.User
		if s.Group != "" {
			kind = "group " + s.Group
		}
		state = "shared"
		if !s.Available {
			state = "in the trash"
		}
		det = "read-only"
		if s.Write {
			det = "read-write"
		}
		return dialog.Sanitize(kind), dialog.Sanitize(s.Path), state, det
	}
	l := r.Link
	kind = "link"
	name = l.Path
	if name == "" {
		name = l.Name
	}
	switch {
	case l.State != "active":
		state = l.State
	case l.Expires == nil:
		state = "never expires"
	default:
		state = "expires in " + left(l.Expires.Sub(m.now()))
	}
	var parts []string
	switch l.Mode {
	case "upload":
		parts = append(parts, "upload-only")
	case "read-upload":
		parts = append(parts, "uploads too")
	}
	if l.Password {
		parts = append(parts, "password")
	}
	switch {
	case l.MaxDownloads > 0:
		parts = append(parts, fmt.Sprintf("%d/%d left", max(0, l.MaxDownloads-l.Downloads), l.MaxDownloads))
	case l.Downloads > 0:
		parts = append(parts, human.Plural(int(l.Downloads), "download", "downloads"))
	}
	if !l.Revealable {
		parts = append(parts, "URL not kept")
	}
	return kind, dialog.Sanitize(name), state, strings.Join(parts, " · ")
}

// Box is the dialog open over the screen ("" when none): the share
// dialog, or the links made or copied with their QR code. The parent of
// a screen that is Alone draws it over its own.
func (m Model) Box() string {
	switch {
	case m.form != nil:
		return m.form.view(m.w)
	case m.shown != nil:
		return m.shownView()
	}
	return ""
}

// qrStyle paints a code dark on light whatever the terminal's colours:
// an inverted code does not scan everywhere.
func (m Model) qrStyle() lipgloss.Style {
	return m.st.R.NewStyle().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#ffffff"))
}

// shownView is the box of links with their URLs, and the QR code of one
// link beside (or under) them when the window has room for it.
func (m Model) shownView() string {
	s := m.shown
	const minText = 24
	textW := min(44, max(minText, m.w-4))
	var qr []string
	beside := false
	if len(s.links) == 1 {
		// Beside the text when it fits, else under it, else a word why not.
		if lines, err := QRLines(s.links[0].URL, m.w-4-2-minText, m.h-2); err == nil {
			qr, beside = lines, true
			textW = min(44, m.w-4-2-ansi.StringWidth(lines[0]))
		}
	}
	var text []string
	text = append(text, m.st.DialogTitle.Render(ansi.Truncate(s.title, textW, "…")), "")
	for _, l := range s.links {
		for _, part := range chunk(l.URL, textW) {
			text = append(text, m.st.Accent.Render(part))
		}
		text = append(text, m.st.Muted.Render(ansi.Truncate(linkSummary(l, m.now()), textW, "…")))
	}
	if s.note != "" {
		st := m.st.StatusErr
		if s.ok {
			st = m.st.StatusOK
		}
		text = append(text, "")
		for _, l := range dialog.Wrap(s.note, textW) {
			text = append(text, st.Render(l))
		}
	}
	if len(s.links) == 1 && !beside {
		if lines, err := QRLines(s.links[0].URL, m.w-4, m.h-2-len(text)-2); err == nil {
			qr = lines
		} else {
			text = append(text, "", m.st.Muted.Render(ansi.Truncate("(a bigger window shows a QR code)", textW, "…")))
		}
	}
	text = append(text, "", m.st.Muted.Render(ansi.Truncate("c copy again · enter close", textW, "…")))
	body := strings.Join(text, "\n")
	switch {
	case beside:
		body = lipgloss.JoinHorizontal(lipgloss.Top, m.paintQR(qr), "  ", body)
	case qr != nil:
		body = m.paintQR(qr) + "\n" + body
	}
	return m.st.Dialog.Render(body)
}

func (m Model) paintQR(lines []string) string {
	st := m.qrStyle()
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return strings.Join(lines, "\n")
}

// chunk cuts a URL into lines of w (a URL has no spaces to wrap at).
func chunk(s string, w int) []string {
	var out []string
	for len(s) > w {
		out = append(out, s[:w])
		s = s[w:]
	}
	return append(out, s)
}

func linkSummary(l remote.Link, now time.Time) string {
	var parts []string
	if l.Mode == "upload" {
		parts = append(parts, "upload-only")
	}
	if l.Expires != nil {
		parts = append(parts, "expires in "+left(l.Expires.Sub(now)))
	} else {
		parts = append(parts, "never expires")
	}
	if l.Password {
		parts = append(parts, "password")
	}
	if l.MaxDownloads > 0 {
		parts = append(parts, fmt.Sprintf("%d downloads", l.MaxDownloads))
	}
	return strings.Join(parts, " · ")
}

// left says how long until an expiry, to the unit that matters.
func left(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int((d+time.Hour/2)/time.Hour))
	}
	// Nearest, not down: a link made to last 7 days says 7d, not 6d,
	// a second after it was made.
	return fmt.Sprintf("%dd", int((d+12*time.Hour)/(24*time.Hour)))
}
