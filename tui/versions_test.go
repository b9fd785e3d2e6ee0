package tui

import (
	"os"
	"path/filepath"
	"testing"
)

// d on the versions screen downloads the old version to the local pane's
// folder, where it shows once the screen closes.
func TestAppVersionDownload(t *testing.T) {
	h := newHarness(t)
	h.press("tab", "v") // the Strata pane: notes.md
	h.waitFor("Versions of /home/tester/notes.md")
	h.waitShown("2 versions") // loaded: j moves to version 1
	h.press("j", "d")
	h.waitFor("Downloaded version 1 to")
	off := h.drawn()
	h.press("esc")
	h.waitForSince(off, "notes (version 1).md")
	h.final()
	b, err := os.ReadFile(filepath.Join(h.local, "notes (version 1).md"))
	if err != nil || string(b) != "# notes\nhello\n" {
		t.Fatalf("downloaded %q, %v", b, err)
	}
}
