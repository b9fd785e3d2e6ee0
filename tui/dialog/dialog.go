package dialog

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/style"
)

// Kind says which dialog a Model is.
type Kind int

// The dialogs.
const (
	KindConfirm Kind = iota
	KindInput
	KindChoice
)

// ConfirmedMsg answers a Confirm dialog (esc answers No).
type ConfirmedMsg struct {
	ID  string
	Yes bool
}

// InputMsg answers an Input dialog: the value when submitted (always
// valid), or Canceled.
type InputMsg struct {
	ID       string
	Value    string
	Canceled bool
}

// ChoiceMsg answers a Choice dialog with the index of the chosen option,
// or Canceled.
type ChoiceMsg struct {
	ID       string
	Index    int
	Canceled bool
}

// Option is one answer of a Choice dialog; Key is its hotkey (one key as
// bubbletea names it, e.g. "o").
type Option struct {
	Label string
	Key   string
}

// KeyMap is the dialogs' keys. Input dialogs use only Submit and Cancel;
// every other key edits the field.
type KeyMap struct {
	Yes    key.Binding
	No     key.Binding
	Prev   key.Binding
	Next   key.Binding
	Submit key.Binding
	Cancel key.Binding
}

// DefaultKeyMap returns the dialogs' default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Yes:    key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n", "N"), key.WithHelp("n", "no")),
		Prev:   key.NewBinding(key.WithKeys("left", "shift+tab", "up"), key.WithHelp("←/shift+tab", "previous button")),
		Next:   key.NewBinding(key.WithKeys("right", "tab", "down"), key.WithHelp("→/tab", "next button")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Yes, k.No, k.Next, k.Submit, k.Cancel}
}

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Yes, k.No}, {k.Prev, k.Next}, {k.Submit, k.Cancel}}
}

// maxInner is the widest a dialog's content gets: wider boxes are harder
// to read, not easier.
const maxInner = 56

// Model is one open dialog: a Confirm, an Input or a Choice.
type Model struct {
	st   *style.Styles
	keys KeyMap
	kind Kind
	id   string

	title    string
	question string // Confirm and Choice; an Input's prompt
	w, h     int

	focus int // the focused button
	def   int // the button focused when the dialog opens or stops being busy
	busy  bool
	done  bool  // answered: keys are ignored until SetError
	err   error // an error the parent reported (SetError)

	counting func(*CountedMsg) string // set by NewCountingConfirm

	input    textinput.Model
	validate func(string) error
	invalid  error // the live validation result

	// suggested: the field holds a suggestion, shown selected, that the
	// first edit replaces (a path prompt starts on the current folder, and
	// typing a new one must not append to it).
	suggested  bool
	complete   func(value string) tea.Cmd // Tab; nil: no completion
	candidates []string                   // the last completion's choices
	more       bool                       // there were more than shown
	completing string                     // the value a completion runs for

	options []Option
}

// NewConfirm opens a Yes/No question (it may have several lines) with
// Yes focused.
func NewConfirm(st *style.Styles, id, title, question string) Model {
	return Model{st: st, keys: DefaultKeyMap(), kind: KindConfirm, id: id, title: title, question: question}
}

// NewInput opens a one-line field holding value (cursor at the end).
// validate (nil accepts anything) runs on every change; its error is shown
// under the field and enter submits only while it returns nil. Control
// characters in value are dropped, as the field cannot show them.
func NewInput(st *style.Styles, id, title, prompt, value string, validate func(string) error) Model {
	ti := textinput.New()
	ti.Prompt = "> "
	ti.PromptStyle = st.Accent
	ti.TextStyle = st.R.NewStyle()
	ti.PlaceholderStyle = st.Muted
	ti.CompletionStyle = st.Muted
	ti.Cursor.Style = st.R.NewStyle().Reverse(true)
	ti.Cursor.TextStyle = st.R.NewStyle()
	// A blinking cursor redraws twice a second for nothing; static is as
	// visible and keeps the output still.
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.SetValue(value)
	ti.Focus()
	m := Model{st: st, keys: DefaultKeyMap(), kind: KindInput, id: id, title: title, question: prompt,
		input: ti, validate: validate}
	m.revalidate()
	m.layout()
	return m
}

// NewPathInput opens an Input for a path: value is a suggestion, shown
// selected, which typing replaces (arrows keep it for editing), and Tab
// runs complete (nil: none) on the current value; complete's command
// answers with a CompletedMsg.
func NewPathInput(st *style.Styles, id, title, prompt, value string, validate func(string) error, complete func(value string) tea.Cmd) Model {
	m := NewSuggestedInput(st, id, title, prompt, value, validate)
	m.complete = complete
	return m
}

// NewSuggestedInput opens an Input whose value is a suggestion (a
// default the user may take with enter), shown selected: typing replaces
// it, arrows keep it for editing.
func NewSuggestedInput(st *style.Styles, id, title, prompt, value string, validate func(string) error) Model {
	m := NewInput(st, id, title, prompt, value, validate)
	m.suggested = value != ""
	return m
}

// CompletedMsg answers a Tab in a path Input: For is the value that was
// completed (the answer is dropped if the field changed since), Value the
// completed one, Candidates the names that matched when there was more
// than one (More: and others not listed).
type CompletedMsg struct {
	ID         string
	For        string
	Value      string
	Candidates []string
	More       bool
	Err        error
}

// NewChoice opens a question with one button per option; an option's
// hotkey chooses it directly.
func NewChoice(st *style.Styles, id, title, question string, options []Option) Model {
	return Model{st: st, keys: DefaultKeyMap(), kind: KindChoice, id: id, title: title, question: question,
		options: append([]Option(nil), options...)}
}

// ID returns the ID the caller gave the dialog.
func (m Model) ID() string { return m.id }

// Kind says which dialog this is.
func (m Model) Kind() Kind { return m.kind }

// Value returns an Input's current text.
func (m Model) Value() string { return m.input.Value() }

// Busy reports whether the dialog waits for something (see SetBusy).
func (m Model) Busy() bool { return m.busy }

// SetSize tells the dialog the size of the screen it is drawn over, so
// that the box fits in it.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.layout()
}

// SetQuestion replaces the question (an Input's prompt).
func (m *Model) SetQuestion(q string) { m.question = q }

// SetDefault focuses button i (Confirm: 0 Yes, 1 No; Choice: the option's
// index) now and whenever the dialog stops being busy: destructive
// questions default to No.
func (m *Model) SetDefault(i int) {
	if i < 0 || i >= m.buttons() {
		return
	}
	m.def = i
	if !m.busy {
		m.focus = i
	}
}

// SetBusy disables every answer but No and cancel while the dialog waits
// (a Confirm that is still counting what it asks about).
func (m *Model) SetBusy(busy bool) {
	m.busy = busy
	switch {
	case busy && m.kind == KindConfirm:
		m.focus = 1
	case !busy:
		m.focus = m.def
	}
}

// SetError shows err in the dialog and lets it be answered again: the
// parent keeps the dialog open when the action it asked for failed (a
// rename onto an existing name). nil clears it.
func (m *Model) SetError(err error) {
	m.err = err
	m.done = false
}

func (m Model) buttons() int {
	switch m.kind {
	case KindConfirm:
		return 2
	case KindChoice:
		return len(m.options)
	}
	return 0
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// Update handles keys, and the CountedMsgs of a NewCountingConfirm.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case CountedMsg:
		if m.counting == nil || msg.ID != m.id {
			return m, nil
		}
		m.question = m.counting(&msg)
		if msg.Done {
			m.SetBusy(false)
		}
		return m, msg.Next()
	case CompletedMsg:
		return m.completed(msg), nil
	case tea.KeyMsg:
		if m.done {
			return m, nil
		}
		switch m.kind {
		case KindConfirm:
			return m.updateConfirm(msg)
		case KindInput:
			return m.updateInput(msg)
		case KindChoice:
			return m.updateChoice(msg)
		}
	}
	if m.kind == KindInput {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return m, cmd
	}
	return m, nil
}

func (m Model) updateConfirm(msg tea.KeyMsg) (Model, tea.Cmd) {
	answer := func(yes bool) (Model, tea.Cmd) {
		m.done = true
		return m, emit(ConfirmedMsg{ID: m.id, Yes: yes})
	}
	switch {
	case key.Matches(msg, m.keys.No), key.Matches(msg, m.keys.Cancel):
		return answer(false)
	case m.busy:
		return m, nil
	case key.Matches(msg, m.keys.Yes):
		return answer(true)
	case key.Matches(msg, m.keys.Submit):
		return answer(m.focus == 0)
	case key.Matches(msg, m.keys.Prev), key.Matches(msg, m.keys.Next):
		m.focus = 1 - m.focus
	}
	return m, nil
}

func (m Model) updateChoice(msg tea.KeyMsg) (Model, tea.Cmd) {
	choose := func(i int) (Model, tea.Cmd) {
		m.done = true
		return m, emit(ChoiceMsg{ID: m.id, Index: i, Canceled: i < 0})
	}
	if key.Matches(msg, m.keys.Cancel) {
		return choose(-1)
	}
	if m.busy {
		return m, nil
	}
	for i, o := range m.options {
		if o.Key != "" && msg.String() == o.Key {
			return choose(i)
		}
	}
	n := len(m.options)
	switch {
	case n == 0:
	case key.Matches(msg, m.keys.Submit):
		return choose(m.focus)
	case key.Matches(msg, m.keys.Prev):
		m.focus = (m.focus + n - 1) % n
	case key.Matches(msg, m.keys.Next):
		m.focus = (m.focus + 1) % n
	}
	return m, nil
}

func (m Model) updateInput(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.done = true
		return m, emit(InputMsg{ID: m.id, Canceled: true})
	case key.Matches(msg, m.keys.Submit):
		if m.busy || m.invalid != nil {
			return m, nil
		}
		m.done = true
		return m, emit(InputMsg{ID: m.id, Value: m.input.Value()})
	}
	if msg.Type == tea.KeyTab {
		if m.complete == nil || m.completing != "" {
			return m, nil
		}
		m.suggested = false
		m.completing = m.input.Value()
		return m, m.complete(m.completing)
	}
	before := m.input.Value()
	if m.suggested {
		m.suggested = false
		switch msg.Type {
		case tea.KeyRunes, tea.KeySpace:
			m.input.SetValue("") // typing replaces the suggestion
		case tea.KeyBackspace, tea.KeyDelete, tea.KeyCtrlW, tea.KeyCtrlU, tea.KeyCtrlK:
			m.input.SetValue("")
			m.changed(before)
			return m, nil
		}
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	m.changed(before)
	return m, cmd
}

// changed notes an edit of the field.
func (m *Model) changed(before string) {
	if m.input.Value() == before {
		return
	}
	m.err = nil // the reported failure was about the old value
	m.candidates, m.more, m.completing = nil, false, ""
	m.revalidate()
}

// completed takes a completion's answer if the field still holds what was
// completed.
func (m Model) completed(msg CompletedMsg) Model {
	if msg.ID != m.id || m.kind != KindInput || msg.For != m.completing || m.input.Value() != msg.For {
		return m
	}
	m.completing = ""
	if msg.Err != nil {
		m.err = msg.Err
		return m
	}
	m.input.SetValue(msg.Value)
	m.input.CursorEnd()
	m.candidates, m.more = msg.Candidates, msg.More
	if msg.Value != msg.For {
		m.err = nil
		m.revalidate()
	}
	return m
}

func (m *Model) revalidate() {
	m.invalid = nil
	if m.validate != nil {
		m.invalid = m.validate(m.input.Value())
	}
}

// inner is the width of the box's content.
func (m Model) inner() int {
	if m.w <= 0 {
		return maxInner
	}
	return max(8, min(maxInner, m.w-4)) // border and padding take 4
}

func (m *Model) layout() {
	if m.kind == KindInput {
		m.input.Width = max(1, m.inner()-lipgloss.Width(m.input.Prompt)-1) // 1 for the cursor at the end
	}
}

// ShortHelp implements help.KeyMap with the keys this dialog answers to.
func (m Model) ShortHelp() []key.Binding {
	switch m.kind {
	case KindInput:
		return []key.Binding{withHelp(m.keys.Submit, "ok"), m.keys.Cancel}
	case KindChoice:
		return []key.Binding{m.keys.Next, m.keys.Submit, m.keys.Cancel}
	}
	return []key.Binding{m.keys.Yes, m.keys.No, m.keys.Next, m.keys.Submit, m.keys.Cancel}
}

// FullHelp implements help.KeyMap.
func (m Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

func withHelp(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// View draws the box; the parent centres it (Overlay).
func (m Model) View() string {
	iw := m.inner()
	var top, bottom []string
	if m.title != "" {
		top = append(top, m.st.DialogTitle.Render(ansi.Truncate(Sanitize(m.title), iw, "…")), "")
	}
	switch m.kind {
	case KindInput:
		field := m.input.View()
		if m.suggested {
			// Selected, as a typed-over suggestion is in any text field.
			field = m.input.PromptStyle.Render(m.input.Prompt) +
				m.st.RowSelected.Render(ansi.Truncate(Sanitize(m.input.Value()), m.input.Width, "…"))
		}
		bottom = append(bottom, field)
		if len(m.candidates) > 0 {
			bottom = append(bottom, m.candidateLines(iw)...)
		}
		switch {
		case m.err != nil:
			bottom = append(bottom, m.errLines(m.err.Error(), iw)...)
		case m.invalid != nil:
			bottom = append(bottom, m.errLines(m.invalid.Error(), iw)...)
		default:
			hint := "enter ok · esc cancel"
			if m.complete != nil {
				hint = "tab complete · " + hint
			}
			bottom = append(bottom, m.st.Muted.Render(ansi.Truncate(hint, iw, "…")))
		}
	default:
		if m.err != nil {
			bottom = append(bottom, m.errLines(m.err.Error(), iw)...)
		}
		bottom = append(bottom, "", m.buttonRow(iw))
	}
	room := -1
	if m.h > 0 {
		room = max(1, m.h-2-len(top)-len(bottom)) // 2 for the border
	}
	lines := append(top, wrapText(m.question, iw, room)...)
	lines = append(lines, bottom...)
	return m.st.Dialog.Width(iw + 2).Render(strings.Join(lines, "\n"))
}

// candidateLines lists a completion's choices in columns, over at most
// four lines.
func (m Model) candidateLines(w int) []string {
	colW := 0
	for _, c := range m.candidates {
		colW = max(colW, ansi.StringWidth(Sanitize(c))+2)
	}
	colW = min(colW, w)
	cols := max(1, w/colW)
	const maxLines = 4
	var lines []string
	for i := 0; i < len(m.candidates) && len(lines) < maxLines; i += cols {
		var b strings.Builder
		for j := i; j < min(i+cols, len(m.candidates)); j++ {
			c := ansi.Truncate(Sanitize(m.candidates[j]), colW-2, "…")
			b.WriteString(c + strings.Repeat(" ", colW-ansi.StringWidth(c)))
		}
		lines = append(lines, m.st.Muted.Render(strings.TrimRight(b.String(), " ")))
	}
	if shown := min(len(m.candidates), maxLines*cols); shown < len(m.candidates) || m.more {
		lines = append(lines, m.st.Muted.Render("…and more: type more of the name"))
	}
	return lines
}

// errLines shows an error over up to three lines: errors name paths, and
// their end ("already exists") is what matters.
func (m Model) errLines(s string, w int) []string {
	lines := wrapText(s, w, 3)
	for i, l := range lines {
		lines[i] = m.st.StatusErr.Render(l)
	}
	return lines
}

// wrapText sanitizes and wraps text to w columns, keeping at most max lines
// (max < 0: all) and marking a cut with "…".
func wrapText(text string, w, limit int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		out = append(out, Wrap(Sanitize(line), w)...)
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
		out[limit-1] = ansi.Truncate(out[limit-1], w-1, "") + "…"
	}
	return out
}

func (m Model) buttonRow(w int) string {
	var labels []string
	switch m.kind {
	case KindConfirm:
		labels = []string{"Yes", "No"}
	case KindChoice:
		for _, o := range m.options {
			l := Sanitize(o.Label)
			if o.Key != "" {
				l = Sanitize(o.Key) + " " + l
			}
			labels = append(labels, l)
		}
	}
	buttons := make([]string, len(labels))
	for i, l := range labels {
		disabled := m.busy && !(m.kind == KindConfirm && i == 1)
		buttons[i] = m.button(l, i == m.focus && !disabled, disabled)
	}
	row := strings.Join(buttons, " ")
	if lipgloss.Width(row) > w {
		row = lipgloss.JoinVertical(lipgloss.Left, buttons...)
	}
	return m.st.R.PlaceHorizontal(w, lipgloss.Center, row)
}

// button draws one button; the focused one is also bracketed so that focus
// shows without colour.
func (m Model) button(label string, focused, disabled bool) string {
	switch {
	case focused:
		return m.st.ButtonFocus.Render("[" + label + "]")
	case disabled:
		return m.st.Muted.Inherit(m.st.Button).Faint(true).Render(" " + label + " ")
	}
	return m.st.Button.Render(" " + label + " ")
}
