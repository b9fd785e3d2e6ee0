package expiry

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":                   now.Add(7 * 24 * time.Hour),
		" 12h ":                now.Add(12 * time.Hour),
		"2027-01-31":           time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC),
		"2026-12-06T00:00:00Z": time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
	} {
		got, err := Parse(in, now)
		if err != nil || got == nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "never"} {
		if got, err := Parse(in, now); got != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want never", in, got, err)
		}
	}
	for _, in := range []string{"0d", "-3h", "soon", "7x", "2026-12-04", "2026-12-05T09:00:00Z", "99999d"} {
		if got, err := Parse(in, now); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}
