package dialog

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// TimeLayout is how every TUI component writes a time: absolute, to the
// minute, so that a screen read later (or a golden file) still says when.
const TimeLayout = "2006-01-02 15:04"

// Sanitize makes s safe to draw: names and contents come from other users,
// and a raw ESC or C1 byte would let them drive the terminal. C0 controls
// become their Unicode control pictures (ESC is ␛, a newline ␊), DEL is ␡,
// C1 controls and the bidirectional overrides that can make text read in
// a misleading order are written as \u escapes, and invalid UTF-8 as U+FFFD.
// Printable text, including wide characters, is kept as is.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || needsEscape(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('\u2421')
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsEscape reports a rune Sanitize must not pass through.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Quote sanitizes a name and puts it in quotation marks, for questions
// such as Delete “x” for good?
func Quote(name string) string { return "“" + Sanitize(name) + "”" }

// FormatTime writes t in local time with TimeLayout; the zero time is "—".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format(TimeLayout)
}

// Wrap word-wraps plain text (no escape sequences: sanitize first) to w
// cells, breaking only at spaces and newlines — unlike ansi.Wrap, which
// also breaks at hyphens and would cut "2026-01-02" in two — and cutting
// words longer than a line.
func Wrap(s string, w int) []string {
	w = max(1, w)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line, lineW := "", 0
		for _, word := range strings.Fields(para) {
			ww := ansi.StringWidth(word)
			if lineW > 0 && lineW+1+ww <= w {
				line, lineW = line+" "+word, lineW+1+ww
				continue
			}
			if lineW > 0 {
				out = append(out, line)
			}
			for ww > w { // a word longer than a line is cut
				head := ansi.Truncate(word, w, "")
				out = append(out, head)
				word = strings.TrimPrefix(word, head)
				ww = ansi.StringWidth(word)
			}
			line, lineW = word, ww
		}
		out = append(out, line)
	}
	return out
}
