package tui

import (
	"os"
	"path/filepath"
	"testing"
)

// A folder with archived files downloads what can be read, skips the
// archived files without failing, and says once how many it skipped and
// what to do; a file archived in Glacier Instant Retrieval is read.
func TestAppDownloadFolderSkipsArchived(t *testing.T) {
	h := newHarness(t)
	for p, data := range map[string]string{"a.txt": "aaaa", "old.log": "old", "ir.txt": "instant", "deep/plan.txt": "plan"} {
		h.fake.PutFile("/home/tester/projects/"+p, []byte(data))
	}
	h.fake.SetArchived("/home/tester/projects/old.log", "glacier")
	h.fake.SetArchived("/home/tester/projects/deep/plan.txt", "deep-archive")
	h.fake.SetArchived("/home/tester/projects/ir.txt", "glacier-ir")
	h.press("tab", "j", "d")
	h.waitFor("2 archived files not downloaded: restore them first (w)")
	for p, want := range map[string]bool{"a.txt": true, "ir.txt": true, "old.log": false, "deep/plan.txt": false} {
		_, err := os.Stat(filepath.Join(h.local, "projects", p))
		if got := err == nil; got != want {
			t.Errorf("%s downloaded: %v, want %v (%v)", p, got, want, err)
		}
	}
	if n := h.fake.CallCount("Download"); n != 2 {
		t.Errorf("%d downloads, want 2", n)
	}
	h.final()
}
