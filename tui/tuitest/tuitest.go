// Package tuitest holds what the file manager's tests share: styles
// without colour (so that golden files hold plain text), key messages by
// name, and a synchronous runner for commands.
package tuitest

import (
	"io"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/strata-storage/strata/tui/style"
)

// Styles returns the styles on a renderer with the ASCII colour profile.
func Styles() *style.Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return style.New(r)
}

// keyTypes are the named keys Key knows, as bubbletea spells them.
var keyTypes = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEscape, "backspace": tea.KeyBackspace, "tab": tea.KeyTab,
	"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
	"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
	"ctrl+a": tea.KeyCtrlA, " ": tea.KeySpace,
	"f3": tea.KeyF3, "f4": tea.KeyF4, "f5": tea.KeyF5, "f6": tea.KeyF6,
}

// Key is the message of a key named as bubbletea names it ("enter",
// "pgdown", "ctrl+a", " "), or of the runes of s.
func Key(s string) tea.KeyMsg {
	t, ok := keyTypes[s]
	switch {
	case !ok:
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
	case t == tea.KeySpace:
		return tea.KeyMsg{Type: t, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: t}
}

// Run runs cmd and every command it leads to until none is left, as the
// program would but in order and at once: batches are flattened, and every
// other message goes to handle, which returns the next command (a model's
// Update) or nil (a message kept for the test, or a timed tick dropped).
func Run(cmd tea.Cmd, handle func(tea.Msg) tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case nil:
		default:
			queue = append(queue, handle(msg))
		}
	}
}
