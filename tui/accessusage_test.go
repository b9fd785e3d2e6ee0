package tui

import "testing"

// The access screen shows the caller's usage on the You tab and each
// user's on the Users tab, asked for in commands while the screen works.
func TestAppAccessUsage(t *testing.T) {
	h := newAdminHarness(t, &clip{})
	h.fake.SetQuota(1<<30, 0)
	h.fake.PutFile("/home/bob/big", make([]byte, 3<<10))
	h.fake.SetUserQuota("bob", 4<<10, 100)
	h.press("A")
	h.waitFor("Usage: 34 B of 1.0 GiB, 1 file") // notes.md: two versions, 14 and 20 bytes
	h.press("tab")
	h.waitFor("3.0 KiB of 4.0 KiB, 1 of 100")
	h.fake.DenyUsage(true)
	h.press("ctrl+r")
	h.waitFor("You may not read the users' usage")
	h.press("q")
	h.final()
}
