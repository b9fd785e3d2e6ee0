package tui

import (
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the app on a terminal until the user quits.
func Run(o Options, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(New(o), tea.WithAltScreen(), tea.WithMouseCellMotion(),
		tea.WithInput(in), tea.WithOutput(out), tea.WithContext(o.Ctx))
	m, err := p.Run()
	if a, ok := m.(App); ok {
		a.Cleanup()
	}
	return err
}
