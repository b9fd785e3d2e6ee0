package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
)

// errRange is wrapped by every parseRange error.
var errRange = errors.New("invalid range")

// parseRange reads a single-range "Range: bytes=..." header against a
// representation of size bytes and returns the offset and length to send.
// Forms: "bytes=a-b", "bytes=a-" and the suffix "bytes=-n". An end past the
// last byte is clamped (RFC 9110 §14.1.1); a start at or past the end, a
// zero suffix, several ranges or anything malformed is an error, answered
// with 416.
func parseRange(h string, size int64) (off, n int64, err error) {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return 0, 0, fmt.Errorf("%w: only bytes ranges are supported", errRange)
	}
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, ",") {
		return 0, 0, fmt.Errorf("%w: multiple ranges are not supported", errRange)
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%w: %q is not first-last", errRange, clip.Text(h))
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// Suffix range: the last n bytes.
		k, err := parseDigits(last)
		if err != nil {
			return 0, 0, err
		}
		if k == 0 {
			return 0, 0, fmt.Errorf("%w: an empty suffix range selects nothing", errRange)
		}
		if size == 0 {
			return 0, 0, fmt.Errorf("%w: the file is empty", errRange)
		}
		k = min(k, size)
		return size - k, k, nil
	}
	a, err := parseDigits(first)
	if err != nil {
		return 0, 0, err
	}
	if a >= size {
		return 0, 0, fmt.Errorf("%w: start %d is not before the end of a %d-byte file", errRange, a, size)
	}
	if last == "" {
		return a, size - a, nil
	}
	b, err := parseDigits(last)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("%w: last byte %d is before first byte %d", errRange, b, a)
	}
	b = min(b, size-1)
	return a, b - a + 1, nil
}

func parseDigits(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, fmt.Errorf("%w: %q is not a byte position", errRange, clip.Text(s))
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q is not a byte position", errRange, clip.Text(s))
		}
	}
	return strconv.ParseInt(s, 10, 64)
}
