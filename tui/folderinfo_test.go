package tui

import "testing"

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
