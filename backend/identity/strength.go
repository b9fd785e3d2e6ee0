package identity

import (
	"fmt"
	"math"

	"github.com/strata-storage/strata/backend/errs"
)

// The strength of a secret a person chose instead of the server drawing
// it — STRATA_ADMIN_TOKEN after its prefix, a metrics token — is judged by
// what it looks like, since how it was made is unknown. A secret passes if
// it has at least MinChosenSecretLen characters, holds at least
// MinChosenSecretBits bits by a simple estimate (its length times the bits
// of the smallest usual alphabet its characters come from: digits 10, hex
// 16, one case of letters 26, one case and digits 36, both cases 52, both
// cases and digits 62, other printable characters 94), uses enough
// different characters (10, or half its alphabet if that is smaller),
// is not one block repeated, and has no run of 8 characters that stay the
// same or step by one (aaaaaaaa, 12345678, hgfedcba). Anything a random
// generator gives passes: `openssl rand -hex 16` (128 bits) or more, the
// server's own tokens; the false refusals of random strings this long are
// below one in ten thousand.
const (
	MinChosenSecretLen  = 32
	MinChosenSecretBits = 128
)

// weakSecret says why a secret is weak; it is errs.ErrInvalid.
type weakSecret string

func (w weakSecret) Error() string        { return string(w) }
func (w weakSecret) Is(target error) bool { return target == errs.ErrInvalid }

func weak(format string, args ...any) error { return weakSecret(fmt.Sprintf(format, args...)) }

// CheckChosenSecret reports, as errs.ErrInvalid, why s is too weak to
// stand for a random secret (see MinChosenSecretLen).
func CheckChosenSecret(s string) error {
	if len(s) < MinChosenSecretLen {
		return weak("%d characters; at least %d are needed", len(s), MinChosenSecretLen)
	}
	alpha := alphabetOf(s)
	if bits := float64(len(s)) * math.Log2(float64(alpha)); bits < MinChosenSecretBits {
		return weak("%d characters from an alphabet of %d hold about %.0f bits; %d are needed (use more characters, or letters and digits)",
			len(s), alpha, bits, MinChosenSecretBits)
	}
	distinct := map[rune]bool{}
	for _, c := range s {
		distinct[c] = true
	}
	if need := min(10, alpha/2); len(distinct) < need {
		return weak("only %d different characters (a random secret has at least %d)", len(distinct), need)
	}
	for p := 1; p <= len(s)/2; p++ {
		if s[p:] == s[:len(s)-p] {
			return weak("a block of %d characters, repeated", p)
		}
	}
	const maxRun = 8
	run := 2
	for i := 2; i < len(s); i++ {
		step := int(s[i]) - int(s[i-1])
		if step >= -1 && step <= 1 && step == int(s[i-1])-int(s[i-2]) {
			run++
		} else {
			run = 2
		}
		if run >= maxRun {
			return weak("a run of %d characters that stay the same or step by one (%q)", run, s[i-run+1:i+1])
		}
	}
	return nil
}

// alphabetOf is the size of the smallest usual alphabet s is drawn from.
func alphabetOf(s string) int {
	var digit, lowerHex, upperHex, lower, upper, other bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'f':
			lowerHex = true
		case 'A' <= c && c <= 'F':
			upperHex = true
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		default:
			other = true
		}
	}
	lowerAny, upperAny := lower || lowerHex, upper || upperHex
	switch {
	case other:
		return 94
	case lowerAny && upperAny:
		if digit {
			return 62
		}
		return 52
	case !lower && !upper && (lowerHex != upperHex):
		return 16 // digits and one case of a-f
	case lowerAny || upperAny:
		if digit {
			return 36
		}
		return 26
	}
	return 10
}
