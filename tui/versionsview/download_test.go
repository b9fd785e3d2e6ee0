package versionsview

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/tuitest"
)

// Without a local folder (the file manager over SSH) the screen offers no
// download, and d does nothing.
func TestNoDownloadWithoutALocalFolder(t *testing.T) {
	m := load(withVersions(3), 80, 24)
	if v := m.View(); strings.Contains(v, "d download") {
		t.Fatalf("the screen offers d with nowhere to download to:\n%s", v)
	}
	m, cmd := m.Update(tuitest.Key("d"))
	if cmd != nil {
		t.Fatalf("d started something: %v", cmd())
	}
	m.SetDownloadDir(t.TempDir())
	if v := m.View(); !strings.Contains(v, "d download") {
		t.Fatalf("no d download with a local folder:\n%s", v)
	}
}

// d downloads the selected version next to the local files, under a name
// that says which version it is and takes no file's place.
func TestDownloadVersion(t *testing.T) {
	f := withVersions(3)
	m := load(f, 80, 24)
	dir := t.TempDir()
	m.SetDownloadDir(dir)
	var saved []string
	downloadKey := func() {
		t.Helper()
		m2, cmd := m.Update(tuitest.Key("d"))
		m = m2
		tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
			if s, ok := msg.(SavedMsg); ok {
				saved = append(saved, s.Local)
				return nil
			}
			if isTick(msg) {
				return nil
			}
			var next tea.Cmd
			m, next = m.Update(msg)
			return next
		})
	}
	m = press(m, "down") // version 2
	downloadKey()
	downloadKey()
	want := []string{filepath.Join(dir, "notes (version 2).txt"), filepath.Join(dir, "notes (version 2) (1).txt")}
	if strings.Join(saved, "|") != strings.Join(want, "|") {
		t.Fatalf("saved %q, want %q", saved, want)
	}
	for _, p := range want {
		if b, err := os.ReadFile(p); err != nil || string(b) != strings.Repeat("v", 200)+"2" {
			t.Errorf("%s: %d bytes, %v", p, len(b), err)
		}
	}
	if !strings.Contains(m.View(), "Downloaded version 2 to") {
		t.Errorf("no word of it:\n%s", m.View())
	}
	if got, _ := f.Content(file); string(got) != strings.Repeat("v", 300)+"3" {
		t.Error("the current version changed")
	}
	// A failure is said in place.
	f.SetDown(true)
	downloadKey()
	if !strings.Contains(m.View(), "server unavailable") || len(saved) != 2 {
		t.Errorf("failure:\n%s", m.View())
	}
}

func TestFreeName(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]string{"a.tar.gz": "a.tar (version 4).gz", ".profile": ".profile (version 4)", "README": "README (version 4)"} {
		got, err := freeName(dir, name, 4)
		if err != nil || got != filepath.Join(dir, want) {
			t.Errorf("freeName(%q) = %q, %v", name, got, err)
		}
	}
}
