// Package expiry reads when something given by a person stops working —
// a share link's expiry, typed on the command line or in the file
// manager: a lifetime (30d, 12h, 90m), a date (2027-01-31: the end of
// that day, UTC), an RFC 3339 time, or "never".
package expiry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax: what was typed is none of the forms.
var ErrSyntax = errors.New("want a lifetime (30d, 12h), a date (2027-01-31) or never")

// Parse reads s; nil is never. A time that is not after now is an error.
func Parse(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "never":
		return nil, nil
	}
	var t time.Time
	if d, err := time.Parse("2006-01-02", s); err == nil {
		t = d.Add(24*time.Hour - time.Second)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		d, err := span(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, ErrSyntax)
		}
		t = now.Add(d)
	}
	if !t.After(now) {
		return nil, fmt.Errorf("%s is in the past", s)
	}
	return &t, nil
}

// span reads a positive lifetime: 30d, or what time.ParseDuration reads.
func span(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100*365 {
			return 0, ErrSyntax
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, ErrSyntax
	}
	return d, nil
}
