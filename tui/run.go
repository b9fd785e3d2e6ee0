package tui

import (
	"io"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the app on a terminal until the user quits.
func Run(o Options, in io.Reader, out io.Writer) error {
	if o.Clipboard == nil {
		o.Clipboard = terminalClipboard(out)
	}
	p := tea.NewProgram(New(o), tea.WithAltScreen(), tea.WithMouseCellMotion(),
		tea.WithInput(in), tea.WithOutput(out), tea.WithContext(o.Ctx))
	m, err := p.Run()
	if a, ok := m.(App); ok {
		a.Cleanup()
	}
	return err
}

// terminalClipboard asks the terminal to put text on the clipboard (OSC
// 52): it works over SSH too, where the terminal is the user's. The
// sequence goes out in one write, which a terminal does not interleave
// with the program's frames (each one write too).
func terminalClipboard(out io.Writer) func(string) error {
	return func(text string) error {
		_, err := osc52.New(text).WriteTo(out)
		return err
	}
}
