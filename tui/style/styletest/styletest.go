// Package styletest gives tests the file manager's styles without colour,
// so that golden files hold plain text.
package styletest

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/strata-storage/strata/tui/style"
)

// Plain returns the styles on a renderer with the ASCII colour profile.
func Plain() *style.Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return style.New(r)
}
