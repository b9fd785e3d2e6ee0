package tui

import (
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the app on a terminal until the user quits.
func Run(o Options, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(New(o), tea.WithAltScreen(), tea.WithMouseCellMotion(),
		tea.WithInput(in), tea.WithOutput(out), tea.WithContext(o.Ctx))
	_, err := p.Run()
	return err
}
