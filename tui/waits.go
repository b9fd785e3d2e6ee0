package tui

import tea "github.com/charmbracelet/bubbletea"

// waitMsg is a request waiting before it is sent again, for the status
// line: the app goes on, and the request with it once the wait is over.
type waitMsg string

// nextWait waits (in a command, off the update loop) for the next wait
// told on Options.Waits.
func (a App) nextWait() tea.Cmd {
	ch := a.o.Waits
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return nil
		}
		return waitMsg(s)
	}
}
