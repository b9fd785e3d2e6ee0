package filelist

import "github.com/charmbracelet/bubbles/key"

// KeyMap is the list's key bindings. The parent file manager also uses tab,
// ?, q, u, d, c, m, M, ', o, e, r, n, x, delete, t, T, v, i, :, ctrl+g, R
// and F2 to F8; none of them is bound here.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back                              key.Binding
	Select, SelectAll, SelectNone, Invert   key.Binding
	Filter, ClearFilter                     key.Binding
	Sort, Reverse, Hidden                   key.Binding
}

// DefaultKeyMap is the bindings the list uses.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup/ctrl+b", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn/ctrl+f", "page down")),
		Top:         key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "top")),
		Bottom:      key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "bottom (loads the rest)")),
		Open:        key.NewBinding(key.WithKeys("enter", "l", "right"), key.WithHelp("enter/l", "open")),
		Back:        key.NewBinding(key.WithKeys("backspace", "h", "left"), key.WithHelp("bksp/h", "parent folder")),
		Select:      key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		SelectAll:   key.NewBinding(key.WithKeys("ctrl+a"), key.WithHelp("ctrl+a", "mark all")),
		SelectNone:  key.NewBinding(key.WithKeys("U"), key.WithHelp("U", "unmark all")),
		Invert:      key.NewBinding(key.WithKeys("*"), key.WithHelp("*", "invert marks")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Sort:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort name/size/time")),
		Reverse:     key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
		Hidden:      key.NewBinding(key.WithKeys("."), key.WithHelp(".", "hidden files")),
	}
}

// ShortHelp is the bindings for the one-line help (bubbles/help.KeyMap).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Open, k.Back, k.Select, k.Filter, k.Sort, k.Hidden}
}

// FullHelp is the bindings for the full help, in columns: moving,
// marking, the view.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Open, k.Back},
		{k.Select, k.SelectAll, k.SelectNone, k.Invert},
		{k.Filter, k.ClearFilter, k.Sort, k.Reverse, k.Hidden},
	}
}
