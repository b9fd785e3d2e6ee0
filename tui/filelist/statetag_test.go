package filelist

import (
	"testing"
	"time"
)

// A remote file's tag says its archive state with its detail: the class
// of archived content, when a restore is expected, until when a restored
// copy is kept.
func TestStateTag(t *testing.T) {
	m := Model{loc: time.UTC}
	at := time.Date(2026, 1, 9, 14, 5, 0, 0, time.UTC)
	for _, c := range []struct {
		it   Item
		want string
	}{
		{Item{State: "hot"}, ""},
		{Item{}, ""},
		{Item{State: "archived", Class: "deep-archive"}, "[archived deep-archive]"},
		{Item{State: "restoring", Class: "glacier", Until: at}, "[restoring, by Jan 9 14:05]"},
		{Item{State: "restored", Class: "glacier", Until: at}, "[restored until Jan 9 14:05]"},
		{Item{State: "restoring"}, "[restoring]"},
	} {
		if got := m.stateTag(c.it); got != c.want {
			t.Errorf("%+v: %q, want %q", c.it, got, c.want)
		}
	}
}
