package api

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
)

// ErrBadDigest is wrapped by ParseSHA256's and ParseCRC32C's errors.
var ErrBadDigest = errors.New("malformed digest header")

// FormatSHA256 renders an RFC 9530 digest field value for a SHA-256 sum:
// sha-256=:<base64>:
func FormatSHA256(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// ParseSHA256 reads the sha-256 member of an RFC 9530 Content-Digest or
// Repr-Digest value (a structured-field dictionary of byte sequences, e.g.
// "sha-512=:...:, sha-256=:...:"). It returns nil, nil when the field has no
// sha-256 member (other algorithms are ignored), and an error for a value
// that is not a well-formed dictionary or a sha-256 member of the wrong size.
func ParseSHA256(v string) ([]byte, error) {
	return parseDigest(v, "sha-256", sha256.Size)
}

// ParseCRC32C reads the crc32c member of an RFC 9530 Content-Digest (the
// CRC-32C of the content as 4 big-endian bytes, as RFC 9530's registry
// defines it), like ParseSHA256. Strata takes it per part of a resumable
// upload, where it costs far less to check than a SHA-256.
func ParseCRC32C(v string) ([]byte, error) {
	return parseDigest(v, "crc32c", 4)
}

func parseDigest(v, alg string, size int) ([]byte, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	if len(v) > 4096 {
		return nil, fmt.Errorf("%w: longer than 4096 bytes", ErrBadDigest)
	}
	var found []byte
	for _, member := range strings.Split(v, ",") {
		member = strings.Trim(member, " \t")
		key, val, ok := strings.Cut(member, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("%w: member %q is not key=:value:", ErrBadDigest, clip.Text(member))
		}
		for _, c := range key {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*') {
				return nil, fmt.Errorf("%w: bad key %q", ErrBadDigest, clip.Text(key))
			}
		}
		// Structured-field parameters (";k=v") are allowed and ignored.
		if i := strings.IndexByte(val, ';'); i >= 0 {
			val = val[:i]
		}
		if len(val) < 2 || val[0] != ':' || val[len(val)-1] != ':' {
			return nil, fmt.Errorf("%w: value of %q is not a :base64: byte sequence", ErrBadDigest, clip.Text(key))
		}
		raw, err := base64.StdEncoding.DecodeString(val[1 : len(val)-1])
		if err != nil {
			return nil, fmt.Errorf("%w: value of %q is not base64", ErrBadDigest, clip.Text(key))
		}
		if key != alg {
			continue
		}
		if len(raw) != size {
			return nil, fmt.Errorf("%w: %s value is %d bytes, not %d", ErrBadDigest, alg, len(raw), size)
		}
		if found != nil {
			return nil, fmt.Errorf("%w: %s given twice", ErrBadDigest, alg)
		}
		found = raw
	}
	return found, nil
}
