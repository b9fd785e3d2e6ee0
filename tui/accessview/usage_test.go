package accessview

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

// held keeps the usage answers back, for a test to see the screen before
// they come.
type held struct{ msgs []tea.Msg }

func (h *held) hold(msg tea.Msg) bool {
	if m, ok := msg.(Msg); ok && m.kind == usageMsg {
		h.msgs = append(h.msgs, msg)
		return true
	}
	return tick(msg)
}

// pressHolding is press with the usage answers held back.
func (h *held) press(m Model, keys ...string) Model { return pagedlisttest.Press(m, h.hold, keys...) }

// give hands the held answers to the screen.
func (h *held) give(m Model) Model {
	msgs := h.msgs
	h.msgs = nil
	for _, msg := range msgs {
		var cmd tea.Cmd
		m, cmd = m.Update(msg)
		m = drain(m, cmd)
	}
	return m
}

// rowOf is the line of the Users tab that starts with name.
func rowOf(v, name string) string {
	for _, l := range strings.Split(v, "\n") {
		if f := strings.Fields(strings.TrimPrefix(l, "›")); len(f) > 0 && f[0] == name {
			return l
		}
	}
	return ""
}

// The Users tab shows each user's usage with their quota, "…" until the
// answer comes; the You tab the caller's own.
func TestUsersUsage(t *testing.T) {
	f := server(t)
	f.PutFile("/home/bob/a", make([]byte, 1536))
	f.PutFile("/home/bob/b", make([]byte, 512))
	f.SetUserQuota("bob", 4<<10, 0)
	f.PutFile("/home/carol/c", make([]byte, 10))
	f.SetUserQuota("carol", 0, 1)
	f.SetQuota(1<<30, 0)

	h := &held{}
	m := New(t.Context(), tuitest.Styles(), f, nil)
	m.SetSize(100, 24)
	m = pagedlisttest.Drain(m, m.Init(), h.hold)
	if v := view(t, m, 100, 24); !strings.Contains(v, "Usage: …") {
		t.Errorf("the You tab before its usage came:\n%s", v)
	}
	m = h.give(m)
	if v := view(t, m, 100, 24); !strings.Contains(v, "Usage: 0 B of 1.0 GiB, 0 files") {
		t.Errorf("the You tab's usage:\n%s", v)
	}

	m = h.press(m, "tab")
	v := view(t, m, 100, 24)
	for _, u := range []string{"bob", "carol", "tester"} {
		if !strings.Contains(rowOf(v, u), " … ") {
			t.Errorf("%s's usage is not shown as coming:\n%s", u, v)
		}
	}
	if n := f.CallCount("UserUsage"); n != 3 || len(h.msgs) != 3 {
		t.Fatalf("%d requests, %d answers for 3 users", n, len(h.msgs))
	}
	m = h.give(m)
	v = view(t, m, 100, 24)
	for u, want := range map[string]string{
		"bob":    "2.0 KiB of 4.0 KiB, 2 files",
		"carol":  "⚠ 10 B, 1 of 1 files",
		"tester": "0 B of 1.0 GiB, 0 files",
	} {
		if !strings.Contains(rowOf(v, u), want) {
			t.Errorf("%s: no %q:\n%s", u, want, v)
		}
	}
	// Moving about asks for nothing again; a reload asks again.
	m = h.press(m, "j", "k", "G")
	if n := f.CallCount("UserUsage"); n != 3 || len(h.msgs) != 0 {
		t.Errorf("moving about asked %d times more", n-3)
	}
	m = h.give(h.press(m, "ctrl+r"))
	if n := f.CallCount("UserUsage"); n != 6 || !strings.Contains(view(t, m, 100, 24), "2.0 KiB of 4.0 KiB") {
		t.Errorf("reload: %d requests\n%s", n, view(t, m, 100, 24))
	}
}

// Of many users, only those on screen are asked about, and the others as
// they come on screen; each once.
func TestUsersUsagePaged(t *testing.T) {
	f := server(t)
	for i := range 40 {
		if _, err := f.CreateUser(t.Context(), fmt.Sprintf("u%02d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	m := load(f, nil, 80, 12) // 8 rows
	seen := map[string]bool{}
	for _, keys := range [][]string{{"tab"}, {"pgdown"}, {"pgdown"}, {"G"}, {"g"}, {"/", "u", "3", "enter"}} {
		m = press(m, keys...)
		for _, u := range m.users.OnScreen() {
			seen[u.Name] = true
		}
		v := view(t, m, 80, 12)
		if n := f.CallCount("UserUsage"); n != len(seen) || strings.Contains(v, "…") {
			t.Fatalf("after %v: %d users asked about, %d were on screen\n%s", keys, n, len(seen), v)
		}
	}
	if len(seen) >= 43 {
		t.Errorf("every user was on screen: the test shows nothing")
	}
}

// An administrator who may list the users but not read their usage sees
// the rest of the tab, the cells saying so, and why once.
func TestUsersUsageRefused(t *testing.T) {
	f := server(t)
	f.DenyUsage(true)
	m := press(load(f, nil, 80, 24), "tab")
	v := view(t, m, 80, 24)
	flat := strings.Join(strings.Fields(v), " ")
	if !strings.Contains(rowOf(v, "bob"), "not allowed") || !strings.Contains(rowOf(v, "bob"), "readers") ||
		!strings.Contains(flat, "You may not read the users' usage: it takes strata:GetUser") {
		t.Errorf("refused:\n%s", v)
	}
	// The caller's own usage is theirs to read.
	if _, err := f.UserUsage(t.Context(), remotetest.Me); err != nil {
		t.Errorf("own usage refused: %v", err)
	}
}
