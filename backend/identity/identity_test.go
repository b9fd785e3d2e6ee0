package identity

import (
	"strings"
	"testing"
)

func FuzzValidTokenFormat(f *testing.F) {
	f.Add(NewToken())
	f.Add("strata_")
	f.Add("strata_" + strings.Repeat("a", 32))
	f.Add("Bearer strata_x")
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidTokenFormat(s) {
			return
		}
		rest, ok := strings.CutPrefix(s, TokenPrefix)
		if !ok || len(rest) < 32 || len(rest) > 128 {
			t.Fatalf("accepted %q", s)
		}
		for _, c := range rest {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}

func TestNewTokenIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewToken()
		if !ValidTokenFormat(tok) || seen[tok] {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
	}
}
