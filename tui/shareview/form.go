package shareview

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/expiry"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// Target is a file or folder to share.
type Target struct {
	Path, Name string
	Dir        bool
}

// DefaultExpiry is what a new link's expiry field holds: a link that is
// forgotten stops working by itself.
const DefaultExpiry = "7d"

// The form's fields.
const (
	fKind = iota
	fExpires
	fPassword
	fLimit
	fUpload
	fUsers
	fGroups
	fWrite
	nFields
)

var fieldNames = [nFields]string{"Share as", "Expires", "Password", "Downloads", "Upload only", "Users", "Groups", "Can write"}

// form is the one dialog that shares the selection: a link (expiry,
// password, download limit, upload-only for folders) or a share with
// users and groups (read or read-write). Tab and the arrows move between
// fields, space (or ←/→) flips a choice, enter shares, esc cancels.
type form struct {
	st      *style.Styles
	targets []Target
	users   bool // share with users and groups rather than by a link
	upload  bool
	write   bool
	inputs  [nFields]textinput.Model
	focus   int
	err     error // the last submit's problem, or the server's
	busy    bool
	// suggested: the expiry field still holds the default, which the
	// first typed character or backspace replaces (typing "30d" must not
	// make "7d30d"); an arrow keeps it for editing.
	suggested bool
	now       func() time.Time
}

func newForm(st *style.Styles, targets []Target, now func() time.Time) *form {
	f := &form{st: st, targets: targets, now: now}
	for i := range f.inputs {
		ti := textinput.New()
		ti.Prompt = ""
		ti.Cursor.SetMode(cursor.CursorStatic)
		ti.Cursor.Style = st.R.NewStyle().Reverse(true)
		ti.Cursor.TextStyle = st.R.NewStyle()
		ti.PlaceholderStyle = st.Muted
		ti.CharLimit = 200
		f.inputs[i] = ti
	}
	f.inputs[fExpires].SetValue(DefaultExpiry)
	f.suggested = true
	f.inputs[fExpires].Placeholder = "7d, 12h, 2027-01-31 or never"
	f.inputs[fPassword].EchoMode = textinput.EchoPassword
	f.inputs[fPassword].EchoCharacter = '•'
	f.inputs[fPassword].Placeholder = "none"
	f.inputs[fLimit].Placeholder = "no limit"
	f.inputs[fUsers].Placeholder = "bob, carol"
	f.inputs[fGroups].Placeholder = "eng"
	f.move(0)
	return f
}

// folders reports whether every target is a folder (only folders take
// uploads).
func (f *form) folders() bool {
	for _, t := range f.targets {
		if !t.Dir {
			return false
		}
	}
	return true
}

// fields are the fields shown, in order.
func (f *form) fields() []int {
	if f.users {
		return []int{fKind, fUsers, fGroups, fWrite}
	}
	fs := []int{fKind, fExpires, fPassword, fLimit}
	if f.folders() {
		fs = append(fs, fUpload)
	}
	return fs
}

// move focuses the field d places after the focused one.
func (f *form) move(d int) {
	fs := f.fields()
	i := 0
	for j, x := range fs {
		if x == f.focus {
			i = j
		}
	}
	f.focus = fs[(i+d+len(fs))%len(fs)]
	for j := range f.inputs {
		if j == f.focus {
			f.inputs[j].Focus()
		} else {
			f.inputs[j].Blur()
		}
	}
}

// formAnswer is what a key did to the form.
type formAnswer int

const (
	formEditing formAnswer = iota
	formSubmit
	formCancel
)

func (f *form) update(msg tea.KeyMsg) (formAnswer, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc:
		if f.busy {
			// What is being made must be shown (and the file list told):
			// the answer is on its way.
			return formEditing, nil
		}
		return formCancel, nil
	case tea.KeyEnter:
		if f.busy {
			return formEditing, nil
		}
		if err := f.check(); err != nil {
			f.err = err
			return formEditing, nil
		}
		return formSubmit, nil
	case tea.KeyTab, tea.KeyDown:
		f.move(1)
		return formEditing, nil
	case tea.KeyShiftTab, tea.KeyUp:
		f.move(-1)
		return formEditing, nil
	}
	if f.busy {
		return formEditing, nil
	}
	switch f.focus {
	case fKind, fUpload, fWrite:
		switch msg.String() {
		case " ", "left", "right", "h", "l", "x":
			f.err = nil
			switch f.focus {
			case fKind:
				f.users = !f.users
			case fUpload:
				f.upload = !f.upload
			case fWrite:
				f.write = !f.write
			}
		}
		return formEditing, nil
	}
	if f.focus == fExpires && f.suggested {
		f.suggested = false
		switch msg.Type {
		case tea.KeyRunes, tea.KeySpace:
			f.inputs[fExpires].SetValue("")
		case tea.KeyBackspace, tea.KeyDelete:
			f.inputs[fExpires].SetValue("")
			f.err = nil
			return formEditing, nil
		}
	}
	var cmd tea.Cmd
	before := f.inputs[f.focus].Value()
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	if f.inputs[f.focus].Value() != before {
		f.err = nil
	}
	return formEditing, cmd
}

// names splits a list of user or group names typed with commas or
// spaces.
func names(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// fieldError is a problem with one field.
type fieldError struct {
	field int
	err   error
}

func (e fieldError) Error() string { return fieldNames[e.field] + ": " + e.err.Error() }
func (e fieldError) Unwrap() error { return e.err }

// check reads the fields, focusing the first one that is wrong.
func (f *form) check() error {
	_, _, err := f.requests()
	var fe fieldError
	if errors.As(err, &fe) {
		for f.focus != fe.field {
			f.move(1)
		}
	}
	return err
}

// requests are what the form asks of the server, one per target (and
// per user and group).
func (f *form) requests() ([]remote.LinkRequest, []remote.ShareRequest, error) {
	if f.users {
		us, gs := names(f.inputs[fUsers].Value()), names(f.inputs[fGroups].Value())
		if len(us)+len(gs) == 0 {
			return nil, nil, fieldError{fUsers, errors.New("name a user or a group to share with")}
		}
		var out []remote.ShareRequest
		for _, t := range f.targets {
			for _, u := range us {
				out = append(out, remote.ShareRequest{Path: t.Path, User: u, Write: f.write})
			}
			for _, g := range gs {
				out = append(out, remote.ShareRequest{Path: t.Path, Group: g, Write: f.write})
			}
		}
		return nil, out, nil
	}
	exp, err := expiry.Parse(f.inputs[fExpires].Value(), f.now())
	if err != nil {
		return nil, nil, fieldError{fExpires, err}
	}
	var limit int64
	if v := strings.TrimSpace(f.inputs[fLimit].Value()); v != "" {
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit < 0 {
			return nil, nil, fieldError{fLimit, fmt.Errorf("%q: a number of downloads, or nothing for no limit", v)}
		}
	}
	mode := "read"
	if f.upload && f.folders() {
		mode = "upload"
	}
	var out []remote.LinkRequest
	for _, t := range f.targets {
		out = append(out, remote.LinkRequest{Path: t.Path, Expires: exp, Password: f.inputs[fPassword].Value(),
			MaxDownloads: limit, Mode: mode})
	}
	return out, nil, nil
}

// view draws the form's box, w columns at most.
func (f *form) view(w int) string {
	iw := max(20, min(60, w-4))
	what := fmt.Sprintf("%d items", len(f.targets))
	if len(f.targets) == 1 {
		what = dialog.Quote(f.targets[0].Name)
	}
	lines := []string{f.st.DialogTitle.Render(ansi.Truncate("Share "+what, iw, "…")), ""}
	labelW := 13
	for _, i := range f.fields() {
		mark := "  "
		if i == f.focus {
			mark = f.st.Accent.Render("› ")
		}
		var val string
		switch i {
		case fKind:
			val = radio(f.st, !f.users, "a link") + "  " + radio(f.st, f.users, "users and groups")
		case fUpload:
			val = check(f.upload, "drop files in, see nothing")
		case fWrite:
			val = check(f.write, "read-write (else read-only)")
		default:
			f.inputs[i].Width = max(4, iw-labelW-3)
			val = f.inputs[i].View()
		}
		lines = append(lines, ansi.Truncate(mark+pad(fieldNames[i]+":", labelW)+val, iw, "…"))
	}
	lines = append(lines, "")
	switch {
	case f.err != nil:
		for _, l := range dialog.Wrap(dialog.Sanitize(f.err.Error()), iw) {
			lines = append(lines, f.st.StatusErr.Render(l))
		}
	case f.busy:
		lines = append(lines, f.st.Muted.Render("Sharing…"))
	default:
		lines = append(lines, f.st.Muted.Render(ansi.Truncate("enter share · esc cancel · tab next · space flip", iw, "…")))
	}
	return f.st.Dialog.Width(iw + 2).Render(strings.Join(lines, "\n"))
}

func radio(st *style.Styles, on bool, label string) string {
	if on {
		return st.Accent.Render("(•) " + label)
	}
	return "( ) " + label
}

func check(on bool, label string) string {
	if on {
		return "[x] " + label
	}
	return "[ ] " + label
}

func pad(s string, w int) string { return s + strings.Repeat(" ", max(1, w-ansi.StringWidth(s))) }
