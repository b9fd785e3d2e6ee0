package tui

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"

	"github.com/strata-storage/strata/tui/accessview"
	"github.com/strata-storage/strata/tui/archiveview"
	"github.com/strata-storage/strata/tui/filelist"
	helpview "github.com/strata-storage/strata/tui/help"
	"github.com/strata-storage/strata/tui/shareview"
	"github.com/strata-storage/strata/tui/transfer"
	"github.com/strata-storage/strata/tui/trashview"
	"github.com/strata-storage/strata/tui/versionsview"
)

// KeyMap is the app's own keys (the panes and the views have theirs).
type KeyMap struct {
	Switch, Help, Quit, ForceQuit, Back                key.Binding
	Upload, Download, Transfers                        key.Binding
	Mkdir, Rename, Move, Copy, Delete, Trash, Versions key.Binding
	Access, Shares, Share                              key.Binding
	Archive, Restore, ArchivePage                      key.Binding
	Info, Reload, Jump                                 key.Binding
	Mark, GoMark                                       key.Binding
	View, Edit                                         key.Binding
	CopyOver, MoveOver                                 key.Binding
}

// DefaultKeyMap is the app's key map.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Switch:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "other pane")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Upload:      key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "upload the selection to the Strata folder")),
		Download:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "download the selection to the local folder")),
		CopyOver:    key.NewBinding(key.WithKeys("f5"), key.WithHelp("F5", "copy the selection to the other pane's folder")),
		MoveOver:    key.NewBinding(key.WithKeys("f6"), key.WithHelp("F6", "move it there (the sources go once verified)")),
		Transfers:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "transfers")),
		Mkdir:       key.NewBinding(key.WithKeys("n", "f7"), key.WithHelp("n", "new folder")),
		Rename:      key.NewBinding(key.WithKeys("r", "f2"), key.WithHelp("r", "rename")),
		Move:        key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "move (Strata)")),
		Copy:        key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy (Strata)")),
		Delete:      key.NewBinding(key.WithKeys("x", "delete", "f8"), key.WithHelp("x/del", "delete (Strata: to the trash)")),
		Trash:       key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "trash")),
		Versions:    key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "versions of a file")),
		Archive:     key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "archive the selection (Strata): choose a class")),
		Restore:     key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "restore archived files (Strata): tier, cost, days")),
		ArchivePage: key.NewBinding(key.WithKeys("W"), key.WithHelp("W", "archive: archived files and restores under this folder")),
		Access:      key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "access: you, and (admins) users, groups, policies")),
		Shares:      key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "shares: your links and shares; revoke, copy a link again")),
		Share:       key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "share the selection: a link, or with users and groups")),
		Info:        key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "info and preview (esc closes)")),
		Reload:      key.NewBinding(key.WithKeys("R", "ctrl+r"), key.WithHelp("R", "reload")),
		Jump:        key.NewBinding(key.WithKeys(":", "ctrl+g"), key.WithHelp(":", "go to a path")),
		View:        key.NewBinding(key.WithKeys("o", "f3"), key.WithHelp("o/F3", "open in the pager ($PAGER)")),
		Edit:        key.NewBinding(key.WithKeys("e", "f4"), key.WithHelp("e/F4", "edit ($EDITOR; Strata: upload the changes)")),
		Mark:        key.NewBinding(key.WithKeys("m"), key.WithHelp("m a", "bookmark the folder as a (a letter)")),
		GoMark:      key.NewBinding(key.WithKeys("'"), key.WithHelp("' a", "go to bookmark a; ' ' the previous folder")),
	}
}

// helpSections lists every key of the app for the help screen: exactly
// those that work in its layout.
func (a App) helpSections() []helpview.Section {
	k := a.keys
	fl := filelist.DefaultKeyMap()
	vk := versionsview.DefaultKeyMap()
	transferKeys := []key.Binding{k.Upload, k.Download, k.CopyOver, k.MoveOver, k.Transfers}
	fileKeys := []key.Binding{k.View, k.Edit, k.Mkdir, k.Rename, k.Move, k.Copy, k.Delete, k.Info}
	versionKeys := []key.Binding{vk.Restore, vk.Download, vk.Reload, vk.Back}
	transfersView := helpview.Section{Title: "Transfers view", Bindings: flatten(transfer.DefaultKeyMap().FullHelp())}
	if a.o.RemoteOnly {
		// Over SSH both panes are Strata: F5 and F6 copy and move on
		// the server, y copies the command that copies files in and
		// out, and what would touch a local disk or run a program on
		// the server (u, d, t, o, e, a version's d) is refused.
		k.CopyOver.SetHelp("F5", "copy the selection to a folder on the server (the other pane's)")
		k.MoveOver.SetHelp("F6", "move it there")
		transferKeys = []key.Binding{k.CopyOver, k.MoveOver, copyCommand}
		fileKeys = fileKeys[2:]
		versionKeys = []key.Binding{vk.Restore, vk.Reload, vk.Back}
		transfersView = helpview.Section{}
	}
	return slices.DeleteFunc([]helpview.Section{
		{Title: "Panes", Bindings: []key.Binding{k.Switch, fl.Up, fl.Down, fl.PageUp, fl.PageDown, fl.Top, fl.Bottom,
			fl.Open, fl.Back, k.Jump, k.Reload}},
		{Title: "Select and find", Bindings: []key.Binding{fl.Select, fl.SelectAll, fl.SelectNone, fl.Invert,
			fl.Filter, fl.ClearFilter, fl.Sort, fl.Reverse, fl.Hidden}},
		{Title: "Transfer", Bindings: transferKeys},
		{Title: "Files", Bindings: fileKeys},
		{Title: "Strata", Bindings: []key.Binding{k.Trash, k.Versions, k.Access, k.Share, k.Shares}},
		{Title: "Archive", Bindings: []key.Binding{k.Archive, k.Restore, k.ArchivePage}},
		{Title: "Bookmarks", Bindings: []key.Binding{k.Mark, k.GoMark}},
		transfersView,
		// The screens' moves are the panes'; their own keys follow.
		{Title: "Trash screen (T)", Bindings: flatten(trashview.DefaultKeyMap().FullHelp()[1:])},
		{Title: "Versions screen (v)", Bindings: versionKeys},
		{Title: "Access screen (A)", Bindings: flatten(accessview.DefaultKeyMap().FullHelp()[1:])},
		{Title: "Archive screen (W)", Bindings: flatten(archiveview.DefaultKeyMap().FullHelp()[1:])},
		{Title: "Shares screen (L)", Bindings: flatten(shareview.DefaultKeyMap().FullHelp()[1:])},
		{Title: "App", Bindings: []key.Binding{k.Help, k.Back, k.Quit, k.ForceQuit}},
	}, func(s helpview.Section) bool { return len(s.Bindings) == 0 })
}

func flatten(groups [][]key.Binding) []key.Binding {
	var out []key.Binding
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
