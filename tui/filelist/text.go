package filelist

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// sanitize makes a name safe to print: names come from other users, and a
// raw escape sequence in one would drive the terminal. Control and format
// characters (bidi overrides included, which can disguise a name) and
// invalid UTF-8 are shown escaped, Go style. The zero-width joiner is kept
// so that emoji sequences still draw as one.
func sanitize(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !printable(r):
			switch r {
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\r':
				b.WriteString(`\r`)
			default:
				switch {
				case r < 0x80:
					fmt.Fprintf(&b, `\x%02x`, r)
				case r <= 0xffff:
					fmt.Fprintf(&b, `\u%04x`, r)
				default:
					fmt.Fprintf(&b, `\U%08x`, r)
				}
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func clean(s string) bool {
	for i := 0; i < len(s); {
		if s[i] >= 0x20 && s[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !printable(r) {
			return false
		}
		i += size
	}
	return true
}

func printable(r rune) bool { return r == '\u200d' || unicode.IsPrint(r) }

// fit cuts s (already sanitized) to w columns with an ellipsis and pads it
// to exactly w; wide runes count as two.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fitLeft cuts s to w columns keeping its end ("…/deep/folder").
func fitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n <= w {
		return s
	}
	return "…" + ansi.TruncateLeft(s, n-w+1, "")
}

// padLeft right-aligns s in w columns.
func padLeft(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return strings.Repeat(" ", w-n) + s
	}
	return s
}

// human is a size in binary units: "0 B", "999 B", "1.5 KiB", "15 KiB",
