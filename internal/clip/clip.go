// Package clip shortens what a client sent before an error message quotes
// it, so that a hostile megabyte of path or header never comes back whole
// in an answer or a log line.
package clip

import "unicode/utf8"

// Max is the most bytes of the original that Text keeps.
const Max = 64

// Text is s cut to at most Max bytes, at a character boundary, with "…"
// after the cut; s itself when it is no longer.
func Text(s string) string {
	if len(s) <= Max {
		return s
	}
	cut := Max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
