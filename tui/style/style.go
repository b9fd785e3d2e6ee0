// Package style holds the TUI's look: one Styles value built from a
// lipgloss renderer (so that a session over SSH gets its own, matched to its
// terminal), with adaptive colours that read on light and dark backgrounds.
// NO_COLOR and dumb terminals are honoured by the renderer's colour profile.
package style

import "github.com/charmbracelet/lipgloss"

// Styles are every style the TUI draws with.
type Styles struct {
	R *lipgloss.Renderer

	App       lipgloss.Style
	Header    lipgloss.Style
	HeaderKey lipgloss.Style
	StatusBar lipgloss.Style
	StatusErr lipgloss.Style
	StatusOK  lipgloss.Style
	Muted     lipgloss.Style
	Accent    lipgloss.Style

	Pane       lipgloss.Style // an inactive pane's frame
	PaneActive lipgloss.Style // the focused pane's frame
	PaneTitle  lipgloss.Style

	Row         lipgloss.Style
	RowCursor   lipgloss.Style // the row under the cursor, focused pane
	RowCursorBl lipgloss.Style // the row under the cursor, other pane
	RowSelected lipgloss.Style // marked with Space
	Dir         lipgloss.Style
	File        lipgloss.Style

	Dialog      lipgloss.Style
	DialogTitle lipgloss.Style
	Button      lipgloss.Style
	ButtonFocus lipgloss.Style

	BarFull  lipgloss.Style
	BarEmpty lipgloss.Style
	Key      lipgloss.Style // a key in help
	KeyDesc  lipgloss.Style
}

// New builds the styles for a renderer (lipgloss.DefaultRenderer() for the
// local terminal).
func New(r *lipgloss.Renderer) *Styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B4A2FF"}
	muted := lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"}
	errc := lipgloss.AdaptiveColor{Light: "#B00020", Dark: "#FF6B6B"}
	okc := lipgloss.AdaptiveColor{Light: "#1B7F3B", Dark: "#6BD68A"}
	dir := lipgloss.AdaptiveColor{Light: "#1F5FBF", Dark: "#7AB0FF"}
	sel := lipgloss.AdaptiveColor{Light: "#B35C00", Dark: "#FFB86B"}
	cursorBg := lipgloss.AdaptiveColor{Light: "#DCD6F7", Dark: "#3B3363"}
	cursorDim := lipgloss.AdaptiveColor{Light: "#ECECEC", Dark: "#2A2A2A"}
	barBg := lipgloss.AdaptiveColor{Light: "#E4E4E4", Dark: "#303030"}

	s := &Styles{R: r}
	s.App = r.NewStyle()
	s.Header = r.NewStyle().Bold(true).Foreground(accent)
	s.HeaderKey = r.NewStyle().Foreground(muted)
	s.StatusBar = r.NewStyle().Foreground(muted)
	s.StatusErr = r.NewStyle().Foreground(errc).Bold(true)
	s.StatusOK = r.NewStyle().Foreground(okc)
	s.Muted = r.NewStyle().Foreground(muted)
	s.Accent = r.NewStyle().Foreground(accent)

	s.Pane = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(muted)
	s.PaneActive = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent)
	// The focused pane's title is a filled tab, so which pane keys go to
	// shows at a glance, not only in the frame's colour.
	s.PaneTitle = r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#1A1A1A"}).Background(accent)

	s.Row = r.NewStyle()
	s.RowCursor = r.NewStyle().Background(cursorBg).Bold(true)
	s.RowCursorBl = r.NewStyle().Background(cursorDim)
	s.RowSelected = r.NewStyle().Foreground(sel).Bold(true)
	s.Dir = r.NewStyle().Foreground(dir).Bold(true)
	s.File = r.NewStyle()

	s.Dialog = r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1)
	s.DialogTitle = r.NewStyle().Bold(true).Foreground(accent)
	s.Button = r.NewStyle().Padding(0, 1).Foreground(muted)
	s.ButtonFocus = r.NewStyle().Padding(0, 1).Bold(true).Background(cursorBg)

	s.BarFull = r.NewStyle().Foreground(accent)
	s.BarEmpty = r.NewStyle().Foreground(barBg)
	s.Key = r.NewStyle().Foreground(accent).Bold(true)
	s.KeyDesc = r.NewStyle().Foreground(muted)
	return s
}
