package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

// run executes cmd and what it leads to, as the program would, minus the
// spinner's timed ticks; it returns the messages meant for the parent.
func run(m filelist.Model, cmd tea.Cmd) (filelist.Model, []tea.Msg) {
	var out []tea.Msg
	tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
		switch msg.(type) {
		case spinner.TickMsg:
		case filelist.OpenedMsg, filelist.ActivateMsg:
			out = append(out, msg)
		default:
			var next tea.Cmd
			m, next = m.Update(msg)
			return next
		}
		return nil
	})
	return m, out
}

// TestSourcesInList runs both sources under the list: open, enter a
// folder (through a link locally), come back.
func TestSourcesInList(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "real", "deep", "file.txt"), 10)
	if err := os.Symlink("real", filepath.Join(root, "link")); err != nil {
		t.Skip(err)
	}
	f := remotetest.New()
	f.PutFile("/home/tester/docs/x.txt", []byte("x"))

	for _, c := range []struct {
		src       filelist.Source
		dir, open string
	}{
		{Local(root), root, "link"},
		{Remote(f), "/home/tester", "docs"},
	} {
		m := filelist.New(c.src, tuitest.Styles(), c.dir)
		m.SetSize(60, 10)
		m, msgs := run(m, m.Init())
		if len(msgs) != 1 || msgs[0] != (filelist.OpenedMsg{Source: c.src.Title(), Dir: c.dir}) {
			t.Fatalf("%s: opened %v (%v)", c.src.Title(), msgs, m.Err())
		}
		for it, ok := m.Current(); ok && it.Name != c.open; it, ok = m.Current() {
			m, _ = m.Update(tea.KeyMsg{Type: tea.KeyDown})
		}
		m, msgs = run(m.Update(tea.KeyMsg{Type: tea.KeyEnter}))
		if len(msgs) != 1 || m.Dir() != c.src.Join(c.dir, c.open) {
			t.Fatalf("%s: enter: %v, in %s (%v)", c.src.Title(), msgs, m.Dir(), m.Err())
		}
		if !strings.Contains(m.View(), "1 item") {
			t.Errorf("%s:\n%s", c.src.Title(), m.View())
		}
		m, _ = run(m.Update(tea.KeyMsg{Type: tea.KeyBackspace}))
		if it, _ := m.Current(); m.Dir() != c.dir || it.Name != c.open {
			t.Errorf("%s: back in %s on %q", c.src.Title(), m.Dir(), it.Name)
		}
	}
}
