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

func TestPasswordHash(t *testing.T) {
	phc := hashPassword("correct horse battery", PasswordCost{})
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("hash %q", phc)
	}
	if !checkPassword(phc, "correct horse battery") {
		t.Fatal("the right password was refused")
	}
	for _, wrong := range []string{"", "correct horse batter", "correct horse battery ", "Correct horse battery"} {
		if checkPassword(phc, wrong) {
			t.Fatalf("%q accepted", wrong)
		}
	}
	if hashPassword("correct horse battery", PasswordCost{MemoryKiB: 1024, Passes: 1}) == hashPassword("correct horse battery", PasswordCost{MemoryKiB: 1024, Passes: 1}) {
		t.Fatal("two hashes of one password are the same: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "$argon2id$v=19$m=99999999,t=3,p=4$c2FsdA$aGFzaA", "$argon2id$v=19$m=65536,t=3,p=4$!!$aGFzaA"} {
		if checkPassword(bad, "x") {
			t.Fatalf("a malformed hash %q accepted a password", bad)
		}
	}

}

func TestValidPassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                   false,
		"twelve chars":            true,
		"with\nnewline in it":     false,
		strings.Repeat("x", 1025): false,
		"日本語のパスワードです十二": true,
	} {
		if err := ValidPassword(pw); (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
}
