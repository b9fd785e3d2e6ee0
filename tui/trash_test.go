package tui

import (
	"strings"
	"testing"
)

// trashBoth moves notes.md and projects/ to the trash from the Strata
// pane, and opens the trash.
func trashBoth(h *harness) {
	h.fake.PutFile("/home/tester/projects/keep", []byte("twenty bytes of text"))
	h.press("tab", "space", "space", "x") // the Strata pane: notes.md and projects/
	h.waitFor("Move 1 folder and 1 file")
	h.waitFor("(2 files in all, 40 B)")
	h.press("y")
	h.waitFor("Moved 2 items to the trash")
	h.press("T")
	h.waitShown("› ") // the trash's cursor: loaded, the keys find the entries
	h.waitShown("2 items")
}

// In the trash, entries are marked and filtered, and restored together.
func TestAppTrashMarksAndFilter(t *testing.T) {
	h := newHarness(t)
	trashBoth(h)
	h.press("/", "n", "o", "t", "e", "s")
	h.waitFor("1 of 2 items")
	h.press("enter", "ctrl+a")
	h.waitFor("1 marked, 20 B")
	h.press("U", "esc") // unmark, clear the filter
	off := h.drawn()
	h.press("space", "space")
	h.waitForSince(off, "2 marked")
	h.press("r")
	h.waitFor("Restored 2 entries.")
	h.press("esc")
	h.waitForSince(off, "projects/")
	h.waitShown("projects/") // the screen closed and the pane reloaded
	if v := h.final(); !strings.Contains(v, "notes.md") {
		t.Errorf("the Strata pane does not show the restored files:\n%s", v)
	}
	for _, p := range []string{"/home/tester/notes.md", "/home/tester/projects/keep"} {
		if _, ok := h.fake.Content(p); !ok {
			t.Errorf("%s not restored", p)
		}
	}
}

// E empties the trash after a question that counts it; only yes does.
func TestAppTrashEmpty(t *testing.T) {
	for _, answer := range []string{"enter", "n", "esc", "y"} {
		t.Run(answer, func(t *testing.T) {
			h := newHarness(t)
			trashBoth(h)
			h.press("E")
			h.waitFor("Delete everything in the trash for good: 2")
			h.press(answer)
			if answer == "y" {
				h.waitFor("Deleted 2 entries for good.")
			}
			h.final()
			want := 2
			if answer == "y" {
				want = 0
			}
			if got := len(h.fake.TrashItems()); got != want {
				t.Errorf("the trash holds %d, want %d", got, want)
			}
		})
	}
}
