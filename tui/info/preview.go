package info

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/tui/dialog"
)

// TabWidth is the distance between tab stops in a preview: 4 rather than
// the terminal's 8, as a panel is narrow.
const TabWidth = 4

// IsText reports whether data reads as text: valid UTF-8 without NUL
// bytes. When data is only the start of a file (truncated), a character
// cut at the end does not count against it.
func IsText(data []byte, truncated bool) bool {
	if truncated {
		data = trimPartialRune(data)
	}
	return utf8.Valid(data) && bytes.IndexByte(data, 0) < 0
}

// trimPartialRune drops an incomplete UTF-8 sequence from the end of data.
func trimPartialRune(data []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(data); i++ {
		b := data[len(data)-i]
		if utf8.RuneStart(b) {
			if !utf8.FullRune(data[len(data)-i:]) {
				return data[:len(data)-i]
			}
			return data
		}
	}
	return data
}

// PreviewLines turns text into lines safe to draw: CRLF endings become
// line ends, tabs are expanded to TabWidth stops and every other control
// character is made visible (dialog.Sanitize), since the content comes
// from other users. Lines are not cut to a width.
func PreviewLines(data []byte, truncated bool) []string {
	if truncated {
		data = trimPartialRune(data)
	}
	text := string(data)
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = expandLine(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

// expandLine expands the tabs of one line and sanitizes the rest.
func expandLine(l string) string {
	if !strings.ContainsRune(l, '\t') {
		return dialog.Sanitize(l)
	}
	var b strings.Builder
	col := 0
	for i, part := range strings.Split(l, "\t") {
		if i > 0 {
			n := TabWidth - col%TabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
		}
		s := dialog.Sanitize(part)
		b.WriteString(s)
		col += ansi.StringWidth(s)
	}
	return b.String()
}
