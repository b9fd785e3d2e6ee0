package tui

import (
	"strings"
	"testing"
)

// From the file manager: P shares the Strata selection with one dialog
// and shows and copies the URL; L lists it, copies it again and revokes
// it; back in the file manager each time.
func TestAppShares(t *testing.T) {
	c := &clip{}
	h := newHarness(t, func(o *Options) { o.Clipboard = c.copy })
	h.press("P") // the local pane: refused
	h.waitFor("share: choose files on the Strata pane")
	h.press("tab", "g", "P") // notes.md, the first
	h.waitFor("Share “notes.md”")
	h.waitFor("Expires:")
	h.press("esc")
	h.waitView(viewPanes) // the dialog is gone before its screen is
	h.press("P")
	h.waitShown("Share “notes.md”") // the second one: enter is its own
	h.press("enter")
	h.waitFor("Link to “notes.md”")
	h.waitFor("Copied (OSC 52)")
	links := h.fake.LinkList()
	if len(links) != 1 || links[0].Path != "/home/tester/notes.md" || links[0].Expires == nil {
		t.Fatalf("links: %+v", links)
	}
	got := c.copied()
	if len(got) != 1 || !strings.HasPrefix(got[0], "https://strata.example/s/") {
		t.Fatalf("copied %q", got)
	}
	off := h.drawn()
	h.press("enter")
	h.waitForSince(off, "⇗") // notes.md is marked in the Strata pane
	// The marks cost one listing of the links, not one per folder shown.
	calls := h.fake.CallCount("Links")
	h.press("j", "l") // into projects/ and back
	h.waitForSince(off, "Strata /home/tester/projects")
	h.press("h")
	h.waitForSince(off, "Strata /home/tester ")
	if n := h.fake.CallCount("Links"); n != calls {
		t.Errorf("opening folders listed the links %d times", n-calls)
	}
	h.press("L")
	h.waitFor("1 share")
	h.waitFor("expires in")
	h.press("c")
	h.eventually("the link copied again", func() bool { return len(c.copied()) == 2 })
	if again := c.copied()[1]; again != got[0] {
		t.Errorf("copied again %q, want %q", again, got[0])
	}
	h.press("esc", "D")
	h.waitFor("Revoke the link to “notes.md”?")
	h.press("y")
	h.waitFor("Revoked.")
	if n := len(h.fake.LinkList()); n != 0 {
		t.Errorf("%d links after revoking", n)
	}
	h.press("q")
	h.waitShown("Strata /home/tester ") // the screen closed,
	h.waitGone("⇗")                     // and the links were listed again
	v := h.final()
	if !strings.Contains(v, "notes.md") || strings.Contains(v, "Revoked.") {
		t.Errorf("not back in the file manager:\n%s", v)
	}
	if strings.Contains(v, "⇗") {
		t.Errorf("a revoked link is still marked:\n%s", v)
	}
}
