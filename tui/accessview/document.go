package accessview

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
)

// document is a policy's document on screen, scrolled.
type document struct {
	title string
	about string   // what it is attached to
	text  string   // the document, indented: what c copies
	src   []string // its lines, sanitized
	lines []string // src wrapped to the width
	top   int
	note  string // what the last copy did
	ok    bool
}

// openDoc shows p's document under title.
func (m *Model) openDoc(title string, p remote.Policy, about string) {
	text := string(p.Document)
	var b bytes.Buffer
	if json.Indent(&b, p.Document, "", "  ") == nil {
		text = b.String()
	}
	d := &document{title: title, about: about, text: text}
	for _, l := range strings.Split(text, "\n") {
		d.src = append(d.src, dialog.Sanitize(l))
	}
	d.wrap(m.w)
	m.doc = d
}

// wrap breaks the document's lines at the width, keeping every character
// (a policy is read to the letter).
func (d *document) wrap(w int) {
	d.lines = d.lines[:0]
	for _, l := range d.src {
		d.lines = append(d.lines, strings.Split(ansi.Hardwrap(l, max(1, w), true), "\n")...)
	}
}

// docRows is how many lines of the document fit: the title, what it is
// attached to, the status and the help line take the rest.
func (m Model) docRows() int { return max(1, m.h-4) }

func (m Model) docKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	d := *m.doc
	k, rows := m.keys, m.docRows()
	switch {
	case key.Matches(msg, k.Back), key.Matches(msg, k.Open):
		m.doc = nil
		return m, nil
	case key.Matches(msg, k.Copy):
		return m, m.copyCmd(d.text)
	case key.Matches(msg, k.Up):
		d.top--
	case key.Matches(msg, k.Down):
		d.top++
	case key.Matches(msg, k.PageUp):
		d.top -= rows
	case key.Matches(msg, k.PageDown):
		d.top += rows
	case key.Matches(msg, k.Top):
		d.top = 0
	case key.Matches(msg, k.Bottom):
		d.top = len(d.lines)
	}
	d.top = max(0, min(d.top, len(d.lines)-rows))
	m.doc = &d
	return m, nil
}

// docKeys is the document's help line.
type docKeys struct{ k KeyMap }

func (dk docKeys) ShortHelp() []key.Binding {
	b := pagedlist.Brief
	return []key.Binding{b(dk.k.Down, "↑/↓", "scroll"), dk.k.PageDown, b(dk.k.Copy, "c", "copy"), dk.k.Back}
}

func (dk docKeys) FullHelp() [][]key.Binding { return [][]key.Binding{dk.ShortHelp()} }

func (m Model) docView() string {
	d, rows := m.doc, m.docRows()
	top := max(0, min(d.top, len(d.lines)-rows))
	end := min(len(d.lines), top+rows)
	where := fmt.Sprintf("lines %d–%d of %d", top+1, end, len(d.lines))
	out := []string{
		m.titleLine(m.st.Header.Render(dialog.Sanitize(d.title)), where),
		m.st.Muted.Render(ansi.Truncate(dialog.Sanitize(d.about), m.w, "…")),
	}
	out = append(out, d.lines[top:end]...)
	for len(out) < rows+2 {
		out = append(out, "")
	}
	status := ""
	switch {
	case d.note != "" && d.ok:
		status = m.st.StatusOK.Render(ansi.Truncate(d.note, m.w, "…"))
	case d.note != "":
		status = m.st.StatusErr.Render(ansi.Truncate(d.note, m.w, "…"))
	}
	out = append(out, status, ansi.Truncate(m.help.View(docKeys{m.keys}), m.w, "…"))
	return strings.Join(out, "\n")
}

// tokenBox is a new user's first token, shown once over the users.
type tokenBox struct {
	user, secret, server string
	note                 string // what the last copy did
	ok                   bool
}

func (m Model) tokenKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Copy):
		return m, m.copyCmd(m.token.secret)
	case key.Matches(msg, m.keys.Back), key.Matches(msg, m.keys.Open):
		m.token = nil
	}
	return m, nil
}

func (m Model) tokenView() string {
	t := m.token
	iw := max(8, min(56, m.w-4)) // as a dialog: its border and padding take 4
	wrap := func(s string) []string { return dialog.Wrap(dialog.Sanitize(s), iw) }
	lines := []string{m.st.DialogTitle.Render(ansi.Truncate("New user "+dialog.Quote(t.user), iw, "…")), ""}
	lines = append(lines, wrap("Their first token, shown only this once:")...)
	lines = append(lines, "")
	for _, l := range strings.Split(ansi.Hardwrap(dialog.Sanitize(t.secret), iw, true), "\n") {
		lines = append(lines, m.st.Accent.Render(l))
	}
	lines = append(lines, "")
	lines = append(lines, wrap("They sign in with: strata login --server "+t.server+" (it asks for the token).")...)
	if t.note != "" {
		st := m.st.StatusErr
		if t.ok {
			st = m.st.StatusOK
		}
		lines = append(lines, "")
		for _, l := range wrap(t.note) {
			lines = append(lines, st.Render(l))
		}
	}
	lines = append(lines, "", m.st.Muted.Render(ansi.Truncate("c copy · enter close", iw, "…")))
	return m.st.Dialog.Width(iw + 2).Render(strings.Join(lines, "\n"))
}

// copyCmd puts text on the clipboard, off the UI (it writes to the
// terminal).
func (m Model) copyCmd(text string) tea.Cmd {
	clip := m.clip
	return func() tea.Msg {
		err := errors.New("there is no clipboard here")
		if clip != nil {
			err = clip(text)
		}
		return Msg{kind: copiedMsg, err: err}
	}
}

// copied says what a copy did, where it was asked for. The terminal does
// not say whether it took the text: the words say how to tell.
func (m *Model) copied(err error) {
	note, ok := "Copied (OSC 52); if it won't paste, select it with shift.", true
	if err != nil {
		note, ok = fmt.Sprintf("Could not copy (%v): select it with shift held.", err), false
	}
	switch {
	case m.token != nil:
		t := *m.token
		t.note, t.ok = note, ok
		m.token = &t
	case m.doc != nil:
		d := *m.doc
		d.note, d.ok = note, ok
		m.doc = &d
	}
}
