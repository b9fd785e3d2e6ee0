package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestDigestRoundTrip(t *testing.T) {
	sum := sha256.Sum256([]byte("hello"))
	v := FormatSHA256(sum[:])
	got, err := ParseSHA256(v)
	if err != nil || !bytes.Equal(got, sum[:]) {
		t.Fatalf("ParseSHA256(%q) = %x, %v", v, got, err)
	}
	// Among other algorithms, with parameters and odd spacing.
	got, err = ParseSHA256("sha-512=:" + "AAAA" + ":,  " + v + ";x=1")
	if err != nil || !bytes.Equal(got, sum[:]) {
		t.Fatalf("mixed: %x, %v", got, err)
	}
}

func TestDigestAbsent(t *testing.T) {
	for _, v := range []string{"", "  ", "md5=:AAAA:"} {
		got, err := ParseSHA256(v)
		if err != nil || got != nil {
			t.Errorf("ParseSHA256(%q) = %x, %v", v, got, err)
		}
	}
}

func TestDigestMalformed(t *testing.T) {
	sum := sha256.Sum256(nil)
	v := FormatSHA256(sum[:])
	for _, bad := range []string{
		"sha-256", "sha-256=abc", "sha-256=:not base64!:", "sha-256=:AAAA:",
		"=:AAAA:", "SHA-256=:AAAA:", v + "," + v, "sha-256=:" + v,
	} {
		if _, err := ParseSHA256(bad); !errors.Is(err, ErrBadDigest) {
			t.Errorf("ParseSHA256(%q) = %v, want ErrBadDigest", bad, err)
		}
	}
}

func FuzzParseSHA256(f *testing.F) {
	sum := sha256.Sum256(nil)
	f.Add(FormatSHA256(sum[:]))
	f.Add("sha-512=:AAAA:, sha-256=:AAAA:")
	f.Add("x")
	f.Fuzz(func(t *testing.T, v string) {
		got, err := ParseSHA256(v)
		if err != nil && !errors.Is(err, ErrBadDigest) {
			t.Fatalf("error not ErrBadDigest: %v", err)
		}
		if got != nil && len(got) != sha256.Size {
			t.Fatalf("digest of %d bytes", len(got))
		}
		if got != nil {
			again, err := ParseSHA256(FormatSHA256(got))
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("round trip")
			}
		}
	})
}
