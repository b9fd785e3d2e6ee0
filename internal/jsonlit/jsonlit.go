// Package jsonlit reads JSON literals by hand, for the parsers of the
// forms Strata writes itself (a stored entry record, a listing page) that
// stand in for encoding/json where it is too slow. They accept a subset
// of what encoding/json accepts, and read it alike.
package jsonlit

import (
	"strconv"
	"strings"
)

// Bool reads the JSON literal true or false at s[i], and returns the
// index after it.
func Bool(s string, i int) (v bool, end int, ok bool) {
	switch {
	case strings.HasPrefix(s[i:], "true"):
		return true, i + 4, true
	case strings.HasPrefix(s[i:], "false"):
		return false, i + 5, true
	}
	return false, i, false
}

// Int reads the JSON number at s[i] when it is an integer that fits an
// int64 (no fraction, exponent or leading zero: what encoding/json writes
// for one), and returns the index after it. ok is false for anything
// else, which encoding/json then decides.
func Int(s string, i int) (n int64, end int, ok bool) {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	digits := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == digits || (s[digits] == '0' && j > digits+1) {
		return 0, i, false
	}
	n, err := strconv.ParseInt(s[i:j], 10, 64)
	if err != nil {
		return 0, i, false
	}
	return n, j, true
}
