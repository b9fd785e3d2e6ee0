package tui

import (
	"strings"
	"testing"
)

// The info panel counts what the folder under the cursor holds, on either
// pane.
func TestAppFolderInfo(t *testing.T) {
	h := newHarness(t)
	h.fake.PutFile("/home/tester/projects/plan.txt", []byte("12345"))
	h.fake.PutFile("/home/tester/projects/old/draft.txt", []byte("123"))
	h.press("tab", "j", "i") // the Strata pane: projects/
	h.waitFor("2 files in 1 folder, 8 B")
	h.press("tab") // the local pane: photos/, first
	h.waitFor("1 file, 6 B")
	h.final()
}

// A file whose digest its uploader's client gave says so in the info
// panel, from the listing the pane holds; one the server hashed does not.
func TestAppInfoClientDigest(t *testing.T) {
	h := newHarness(t)
	h.fake.PutFile("/home/tester/projects/big.bin", []byte("sent in parts"))
	h.fake.MarkClientDigest("/home/tester/projects/big.bin", "u1")
	h.fake.PutFile("/home/tester/projects/small.txt", []byte("one put"))
	h.press("tab", "j", "enter") // the Strata pane: into projects/
	h.waitFor("small.txt")
	h.press("i")
	h.waitFor("(from the uploader's client)")
	h.press("j")
	h.waitFor("Size      7 bytes") // small.txt
	if v := h.final(); strings.Contains(v, "uploader's client") {
		t.Errorf("the panel on small.txt:\n%s", v)
	}
}

// Esc closes the info panel, as i does, once there is no filter to clear:
// the first Esc clears the filter and keeps the panel.
func TestAppInfoClosesWithEsc(t *testing.T) {
	h := newHarness(t)
	h.fake.PutFile("/home/tester/projects/plan.txt", []byte("12345"))
	h.press("tab", "j", "enter") // the Strata pane: into projects/
	h.waitFor("plan.txt")
	h.press("i")
	h.waitFor("Size      5 bytes")
	h.press("/", "a", "n", "enter")
	h.waitFor("/an") // the filter, in the pane's bottom line
	h.press("esc")
	h.waitGone("/an")
	h.waitShown("Size      5 bytes")
	h.press("esc")
	h.waitGone("Size      5 bytes")
	h.press("i")
	h.waitFor("Size      5 bytes")
	h.press("i")
	h.waitGone("Size      5 bytes")
	h.final()
}
