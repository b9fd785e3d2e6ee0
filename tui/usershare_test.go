package tui

import "testing"

// What a recipient deletes in a shared folder goes to its owner's trash,
// and the file manager says so rather than pointing at their own.
func TestWhoseTrash(t *testing.T) {
	for p, want := range map[string]string{
		"/home/bob/a.txt":          "the trash (T to see it)",
		"/shared/alice/proj/a.txt": "“alice”'s trash (they can restore it)",
		"/shared/alice/proj/sub/b": "“alice”'s trash (they can restore it)",
		"/sharedstuff/alice/a.txt": "the trash (T to see it)",
	} {
		if got := whoseTrash(p); got != want {
			t.Errorf("whoseTrash(%q) = %q, want %q", p, got, want)
		}
	}
}
