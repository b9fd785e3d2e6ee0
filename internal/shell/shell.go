// Package shell writes values into command lines people copy into a POSIX
// shell.
package shell

import "strings"

// Quote returns s as one shell word: as is when it is made of characters
// no shell treats specially, else in single quotes.
func Quote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@%+,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
