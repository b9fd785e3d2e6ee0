package tui

import (
	"testing"

	"github.com/strata-storage/strata/tui/remote/remotetest"
)

func withQuota(bytes, files int64) func(*Options) {
	return func(o *Options) { o.Remote.(*remotetest.Fake).SetQuota(bytes, files) }
}

// The status bar shows the usage of the home folder, fetched in a
// command, and warns from 90 % of a limit.
func TestAppUsage(t *testing.T) {
	h := newHarness(t, withQuota(40, 0))
	h.waitFor("34 B of 40 B (85%)") // notes.md: two versions, 14 and 20 bytes
	h.press("j", "space", "u")      // upload report.txt, 18 bytes
	h.waitFor("⚠ quota: 52 B of 40 B (130%)")
	if n := h.fake.CallCount("Usage"); n < 2 {
		t.Fatalf("usage fetched %d times", n)
	}
}

func TestAppUsageFiles(t *testing.T) {
	h := newHarness(t, withQuota(0, 2))
	h.waitFor("34 B used")
	h.press("j", "space", "u")
	h.waitFor("⚠ quota: 2 of 2 files (100%)")
}
