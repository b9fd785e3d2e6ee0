package tui

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	helpview "github.com/strata-storage/strata/tui/help"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/transfer"
	"github.com/strata-storage/strata/tui/tuitest"
	"github.com/strata-storage/strata/tui/versionsview"
)

// keyMsg is the key press a binding's first key names ("f5", "ctrl+c",
// "?").
func keyMsg(t *testing.T, name string) tea.KeyMsg {
	t.Helper()
	for typ := tea.KeyType(-200); typ < 200; typ++ {
		if typ != tea.KeyRunes && tea.Key(tea.Key{Type: typ}).String() == name {
			return tea.KeyMsg{Type: typ}
		}
	}
	if r := []rune(name); len(r) == 1 {
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: r}
	}
	t.Fatalf("no key is called %q", name)
	return tea.KeyMsg{}
}

// helpKeys is the bindings the help screen lists for the app itself
// (not its screens', whose keys mean other things), by their keys.
func helpKeys(a App) map[string]bool {
	out := map[string]bool{}
	for _, s := range a.helpSections() {
		if strings.Contains(s.Title, "screen") || s.Title == "Transfers view" {
			continue
		}
		for _, b := range s.Bindings {
			out[strings.Join(b.Keys(), " ")] = true
		}
	}
	return out
}

// helpSection is the help screen's section titled title.
func helpSection(a App, title string) (helpview.Section, bool) {
	i := slices.IndexFunc(a.helpSections(), func(s helpview.Section) bool { return s.Title == title })
	if i < 0 {
		return helpview.Section{}, false
	}
	return a.helpSections()[i], true
}

// Over SSH, the help screen lists exactly the app's keys that work there:
// every key it lists does something, every key refused is not listed,
// and y (which copies the sftp command) is.
func TestHelpOverSSHListsTheKeysThatWork(t *testing.T) {
	fake := remotetest.New()
	mgr, err := transfer.New(fake, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	newApp := func(remoteOnly bool) App {
		return New(Options{Remote: fake, Transfers: mgr, Styles: tuitest.Styles(), Ctx: context.Background(),
			RemoteOnly: remoteOnly, Commands: func(dir string) string { return "sftp alice@host:" + dir },
			Clipboard: func(string) error { return nil }})
	}
	listed := helpKeys(newApp(true))
	// The app's own keys, and y.
	km := reflect.ValueOf(DefaultKeyMap())
	bindings := []key.Binding{copyCommand}
	for i := range km.NumField() {
		bindings = append(bindings, km.Field(i).Interface().(key.Binding))
	}
	for _, b := range bindings {
		a := newApp(true)
		handled, _ := a.remoteOnlyKey(keyMsg(t, b.Keys()[0]))
		refused := handled && a.status != "" && !a.statusOK
		shown := listed[strings.Join(b.Keys(), " ")]
		switch {
		case refused && shown:
			t.Errorf("help lists %s (%s), which over SSH says %q", b.Help().Key, b.Help().Desc, a.status)
		case !refused && !shown:
			t.Errorf("help does not list %s (%s), which works over SSH", b.Help().Key, b.Help().Desc)
		}
	}
	// A version's d would download to a local folder: there is none.
	vs, _ := helpSection(newApp(true), "Versions screen (v)")
	if slices.ContainsFunc(vs.Bindings, func(b key.Binding) bool {
		return slices.Equal(b.Keys(), versionsview.DefaultKeyMap().Download.Keys())
	}) {
		t.Errorf("help lists the versions screen's download over SSH: %v", vs)
	}
	if _, ok := helpSection(newApp(true), "Transfers view"); ok {
		t.Errorf("help lists the transfers view over SSH, where nothing is transferred")
	}

	// On a laptop, u and d are there and y is not (it does nothing).
	local := helpKeys(newApp(false))
	for _, b := range []key.Binding{DefaultKeyMap().Upload, DefaultKeyMap().Download, DefaultKeyMap().Transfers} {
		if !local[strings.Join(b.Keys(), " ")] {
			t.Errorf("help does not list %s on a laptop", b.Help().Key)
		}
	}
	if local["y"] {
		t.Errorf("help lists y on a laptop")
	}
}
