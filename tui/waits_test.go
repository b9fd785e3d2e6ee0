package tui

import "testing"

// A request's wait before it is sent again is shown in the status line,
// each as it is told, and the app goes on.
func TestAppShowsWaits(t *testing.T) {
	waits := make(chan string, 2)
	h := newHarness(t, func(o *Options) { o.Waits = waits })
	waits <- "rate limited: trying again in 2s"
	h.waitFor("rate limited: trying again in 2s")
	waits <- "rate limited: trying again in 1s"
	h.waitFor("rate limited: trying again in 1s")
	h.press("tab")
	h.waitFor("notes.md")
	h.final()
}
