package transfer

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
)

func formatSpeed(v float64) string {
	if v <= 0 {
		return ""
	}
	return human.Short(int64(v)) + "/s"
}

// formatDuration writes an ETA: "27s", "4m05s", "2h10m".
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 100*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return ">99h"
}

// clean makes a name safe to print: a file name may hold control
// characters, and a server's names must not drive the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// cutRight fits s in w cells, cutting its end.
func cutRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// cutLeft fits s in w cells, keeping its end (the useful part of a path).
func cutLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw <= w {
		return s
	}
	if w == 1 {
		return "…"
	}
	out := "…" + ansi.TruncateLeft(s, sw-(w-1), "")
	if ansi.StringWidth(out) > w { // a wide character straddled the cut
		out = "…" + ansi.TruncateLeft(s, sw-(w-2), "")
	}
	return out
}

// pad fills s with spaces to w cells (left-aligned) or on the left (right).
func pad(s string, w int, right bool) string {
	n := w - ansi.StringWidth(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
