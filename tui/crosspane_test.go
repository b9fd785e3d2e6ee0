package tui

import (
	"os"
	"path/filepath"
	"testing"
)

// F5 copies the selection to the other pane: up from the local pane, down
// from the Strata pane; the sources stay.
func TestAppF5Copies(t *testing.T) {
	h := newHarness(t)
	h.press("j", "f5") // the local pane: report.txt
	h.waitFor("1/1 done")
	if got, _ := h.fake.Content("/home/tester/report.txt"); string(got) != "quarterly numbers\n" {
		t.Fatalf("uploaded %q", got)
	}
	h.press("tab", "g", "f5") // the Strata pane: notes.md
	h.waitFor("2/2 done")
	if b, err := os.ReadFile(filepath.Join(h.local, "notes.md")); err != nil || string(b) != "# notes\nhello again\n" {
		t.Fatalf("downloaded %q %v", b, err)
	}
	h.final()
	if _, err := os.Stat(filepath.Join(h.local, "report.txt")); err != nil {
		t.Error("F5 removed the local source")
	}
	if _, ok := h.fake.Content("/home/tester/notes.md"); !ok {
		t.Error("F5 removed the Strata source")
	}
}

// F6 asks, then moves: the source goes only once the transfer is done.
func TestAppF6Moves(t *testing.T) {
	for _, answer := range []string{"enter", "y"} {
		t.Run("up "+answer, func(t *testing.T) {
			h := newHarness(t)
			h.press("f6") // the local pane: photos/
			h.waitFor("Move 1 folder to Strata /home/tester?")
			h.waitFor("That is 1 file, 6 B.")
			h.waitFor("Each local file is deleted once its upload is verified.")
			h.press(answer)
			h.waitFor("Moved photos to /home/tester")
			h.final()
			if _, ok := h.fake.Content("/home/tester/photos/a.jpg"); !ok {
				t.Error("not uploaded")
			}
			if _, err := os.Stat(filepath.Join(h.local, "photos")); !os.IsNotExist(err) {
				t.Errorf("the local folder is still there: %v", err)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		h := newHarness(t)
		h.press("tab", "f6") // the Strata pane: notes.md
		h.waitFor("Move 1 file to " + h.local + "?")
		h.waitFor("The Strata originals go to the trash")
		h.waitFor("That is 1 file, 20 B.") // counted: yes is taken
		h.press("y")
		h.waitFor("Moved notes.md to")
		h.final()
		if b, err := os.ReadFile(filepath.Join(h.local, "notes.md")); err != nil || string(b) != "# notes\nhello again\n" {
			t.Errorf("downloaded %q %v", b, err)
		}
		if _, ok := h.fake.Content("/home/tester/notes.md"); ok {
			t.Error("still on Strata")
		}
		if items := h.fake.TrashItems(); len(items) != 1 || items[0].Path != "/home/tester/notes.md" {
			t.Errorf("trash %+v", items)
		}
	})
	for _, answer := range []string{"n", "esc"} {
		t.Run("refused "+answer, func(t *testing.T) {
			h := newHarness(t)
			h.press("j", "f6")
			h.waitFor("Move 1 file to Strata")
			h.waitFor("That is 1 file")
			h.press(answer)
			h.final()
			if _, err := os.Stat(filepath.Join(h.local, "report.txt")); err != nil {
				t.Error("the source went")
			}
			if n := h.fake.Calls["Upload"]; n != 0 {
				t.Errorf("%d uploads", n)
			}
		})
	}
}
