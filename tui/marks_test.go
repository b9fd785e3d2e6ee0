package tui

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/strata-storage/strata/tui/remote/remotetest"
)

// m then a letter bookmarks the focused pane's folder, ' then the letter
// goes back there, ' ' to the previous folder; each pane has its own, and
// they are kept in the bookmarks file.
func TestAppBookmarks(t *testing.T) {
	h := newHarness(t)
	h.press("tab", "j", "enter") // the Strata pane: into projects
	h.waitFor("Strata /home/tester/projects")
	h.press("m")
	h.waitFor("Set a bookmark (Strata)")
	h.press("p")
	h.waitFor("Bookmark p: /home/tester/projects")
	h.press("backspace")
	h.waitFor("Strata /home/tester ═")
	h.waitOpened("Strata", "/home/tester") // back: ' ' returns here

	off := h.drawn()
	h.press("'")
	h.waitForSince(off, "Go to a bookmark (Strata)")
	h.waitForSince(off, "p  /home/tester/projects")
	h.press("p")
	h.waitForSince(off, "Strata /home/tester/projects")
	h.waitOpened("Strata", "/home/tester/projects") // ' ' goes back from here

	off = h.drawn()
	h.press("'", "'") // back to where it was before
	h.waitForSince(off, "Strata /home/tester ═")

	// The local pane has its own bookmarks.
	h.press("tab")
	h.press("m", "p")
	h.waitFor("Bookmark p: " + h.local)
	h.press("enter") // into photos/
	h.waitFor("a.jpg")
	off = h.drawn()
	h.press("'")
	h.waitForSince(off, "p  "+h.local)
	h.press("p")
	h.waitForSince(off, "report.txt")

	// An unknown bookmark says so; esc cancels.
	h.press("'", "z")
	h.waitFor("no bookmark z on this pane")
	h.press("m", "esc")
	h.eventually("the local bookmark saved", func() bool {
		b, _ := os.ReadFile(h.bookmarks)
		return strings.Contains(string(b), h.local)
	})
	if v := h.final(); strings.Contains(v, "Set a bookmark") {
		t.Fatalf("esc did not cancel:\n%s", v)
	}

	fi, err := os.Stat(h.bookmarks)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bookmarks file %v %v", fi, err)
	}
	b, _ := os.ReadFile(h.bookmarks)
	var saved struct {
		Local  map[string]string
		Strata map[string]map[string]string
	}
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Local["p"] != h.local || saved.Strata["fake://strata"]["p"] != "/home/tester/projects" {
		t.Fatalf("saved %s", b)
	}
}

// M moves on the Strata pane now that m sets bookmarks.
func TestAppMoveKey(t *testing.T) {
	h := newHarness(t)
	h.press("tab")
	h.waitFor("Strata /home/tester ═") // the Strata pane has the focus
	h.press("M")
	h.waitFor("Move “notes.md”")
	h.press("esc")
	h.waitGone("Move “notes.md”") // closed: m is the app's
	h.press("m")
	h.waitFor("Set a bookmark")
	h.final()
}

// In local mode every store has the same address: bookmarks go by the
// data directory the header names.
func TestBookmarkPlace(t *testing.T) {
	a := App{o: Options{Remote: remotetest.New(), Where: "local /data/a"}}
	if p := a.place(paneRemote); !p.Remote || p.Server != "local /data/a" {
		t.Errorf("place %+v", p)
	}
	a.o.Where = ""
	if p := a.place(paneRemote); p.Server != "fake://strata" {
		t.Errorf("without Where: %+v", p)
	}
	if p := a.place(paneLocal); p.Remote || p.Server != "" {
		t.Errorf("local: %+v", p)
	}
}
