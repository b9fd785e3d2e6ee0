package loginguard

import (
	"testing"
	"time"
)

// Failed logins slow down, per address and per user name, doubling after
// a few free tries; a success clears the user's; old failures are
// forgotten.
func TestLoginGuard(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := New(func() time.Time { return now })
	for range FreeFailures {
		if w := g.Wait("10.0.0.1", "alice"); w != 0 {
			t.Fatalf("waits %v within the free tries", w)
		}
		g.Failed("10.0.0.1", "alice")
	}
	want := time.Second
	for range 5 {
		g.Failed("10.0.0.1", "alice")
		if w := g.Wait("10.0.0.1", "alice"); w != want {
			t.Fatalf("wait %v, want %v", w, want)
		}
		// Another address for the same user waits as long; the same
		// address for another user too.
		if w := g.Wait("10.0.0.2", "alice"); w != want {
			t.Fatalf("another address for alice: %v", w)
		}
		if w := g.Wait("10.0.0.1", "bob"); w != want {
			t.Fatalf("another user from the address: %v", w)
		}
		now = now.Add(want)
		want *= 2
	}
	if w := g.Wait("10.0.0.3", "carol"); w != 0 {
		t.Fatalf("an unrelated login waits %v", w)
	}
	for range 40 {
		g.Failed("10.0.0.9", "mallory")
	}
	if w := g.Wait("10.0.0.9", "x"); w != maxLoginWait {
		t.Fatalf("the wait is not capped: %v", w)
	}
	g.Succeeded("alice")
	if w := g.Wait("10.0.0.7", "alice"); w != 0 {
		t.Fatalf("alice still waits %v after a success", w)
	}
	now = now.Add(loginForget + time.Minute)
	g.Failed("10.0.0.4", "dave")
	if len(g.seen) != 2 {
		t.Fatalf("%d entries kept, want the 2 of the last failure", len(g.seen))
	}
}
