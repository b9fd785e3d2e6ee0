package dialog

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Overlay draws box centred over bg, a screen of w×h cells, keeping bg
// visible around the box (lipgloss.Place would blank it).
func Overlay(bg, box string, w, h int) string {
	bgLines := strings.Split(bg, "\n")
	for len(bgLines) < h {
		bgLines = append(bgLines, "")
	}
	boxLines := strings.Split(box, "\n")
	bw := lipgloss.Width(box)
	// Reset around the box so that a style open in the background neither
	// leaks into the box nor is lost after it; plain text needs none.
	reset := ""
	if strings.ContainsRune(bg, '\x1b') || strings.ContainsRune(box, '\x1b') {
		reset = "\x1b[0m"
	}
	top := max(0, (h-len(boxLines))/2)
	left := max(0, (w-bw)/2)
	for i, bl := range boxLines {
		y := top + i
		if y >= len(bgLines) {
			break
		}
		line := bgLines[y]
		l := ansi.Truncate(line, left, "")
		if pad := left - ansi.StringWidth(l); pad > 0 {
			l += strings.Repeat(" ", pad)
		}
		r := ansi.TruncateLeft(line, left+bw, "")
		bgLines[y] = l + reset + bl + reset + r
	}
	return strings.Join(bgLines, "\n")
}
