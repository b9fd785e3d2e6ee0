package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("a", Max), strings.Repeat("a", Max)},
		{strings.Repeat("a", Max+1), strings.Repeat("a", Max) + "…"},
		// A two-byte character across the cut is dropped whole.
		{strings.Repeat("a", Max-1) + "é", strings.Repeat("a", Max-1) + "…"},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzText(f *testing.F) {
	f.Add("héllo wörld " + strings.Repeat("ü", 40))
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		kept := strings.TrimSuffix(got, "…")
		if !strings.HasPrefix(s, kept) || len(kept) > Max {
			t.Fatalf("Text(%q) = %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q: cut inside a character", s, got)
		}
	})
}
