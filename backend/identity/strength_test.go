package identity

import (
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend/errs"
)

func TestCheckChosenSecret(t *testing.T) {
	for _, weak := range []string{
		"",
		strings.Repeat("a", 31),
		strings.Repeat("a", 40),
		strings.Repeat("ab", 20),
		strings.Repeat("0123456789", 4),
		strings.Repeat("correcthorse", 3),
		"e2eAdminToken0123456789abcdefABCDEF",
		"benchAdminToken0123456789abcdefABCDEF",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		"abababababababababababababababababac",
		"12345678901234567890123456789012345678", // 38 digits: 126 bits
		"passwordpasswordpasswordpassword1",
		"zyxwvutsrqponmlkjihgfedcbaZYXWVUTSR",
	} {
		if err := CheckChosenSecret(weak); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%q passed (%v)", weak, err)
		}
	}
	// What generators give passes, deterministically here: the server's
	// own tokens, hex of 16 bytes and more, 39 decimal digits, base62.
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for range 2000 {
		var b [24]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		digits := make([]byte, 40)
		for i := range digits {
			digits[i] = byte('0' + rng.IntN(10))
		}
		for _, strong := range []string{
			strings.TrimPrefix(NewToken(), TokenPrefix),
			hex.EncodeToString(b[:16]),
			hex.EncodeToString(b[:]),
			strings.ToUpper(hex.EncodeToString(b[:16])),
			string(digits),
			"zT4q9LmWc2Rb7XvN1kJp8FdG3sYh6QaE",
		} {
			if err := CheckChosenSecret(strong); err != nil {
				t.Fatalf("%q refused: %v", strong, err)
			}
		}
	}
}
