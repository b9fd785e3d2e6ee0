// Package pagedlisttest drives the screens built on pagedlist in tests: in
// a teatest program (Start, WaitFor, Finish) for golden files, or
// synchronously (Drain, Press) for unit tests; and pages a fake's whole
// listing by cursor (Page).
package pagedlisttest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/tuitest"
)

// Screen is a screen's model M as its parent uses it: Init and SetSize on
// *M, Update and View on M.
type Screen[M any] interface {
	*M
	Init() tea.Cmd
	SetSize(w, h int)
	Update(tea.Msg) (M, tea.Cmd)
	View() string
}

type startMsg struct{}

// Harness stands for the parent of a screen M whose closing message is C:
// it sizes the screen, starts it, and quits when the screen closes.
type Harness[C, M any, P Screen[M]] struct {
	M      M
	Closed *C // the message the screen closed with
}

// Init implements tea.Model.
func (h Harness[C, M, P]) Init() tea.Cmd { return func() tea.Msg { return startMsg{} } }

// Update implements tea.Model.
func (h Harness[C, M, P]) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		P(&h.M).SetSize(msg.Width, msg.Height)
		return h, nil
	case startMsg:
		return h, P(&h.M).Init()
	}
	if c, ok := msg.(C); ok {
		h.Closed = &c
		return h, tea.Quit
	}
	var cmd tea.Cmd
	h.M, cmd = P(&h.M).Update(msg)
	return h, cmd
}

// View implements tea.Model.
func (h Harness[C, M, P]) View() string { return P(&h.M).View() }

// Start runs m, whose closing message is C, in a teatest program of w×h.
func Start[C, M any, P Screen[M]](t *testing.T, m M, w, h int) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t, Harness[C, M, P]{M: m}, teatest.WithInitialTermSize(w, h))
}

// WaitFor waits until the program's output has shown every one of s.
func WaitFor(t *testing.T, tm *teatest.TestModel, s ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, x := range s {
			if !strings.Contains(string(b), x) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(3*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// Finish quits the program, unless the screen closed it (quit false), and
// returns its final harness.
func Finish[C, M any, P Screen[M]](t *testing.T, tm *teatest.TestModel, quit bool) Harness[C, M, P] {
	t.Helper()
	if quit {
		_ = tm.Quit()
	}
	return tm.FinalModel(t, teatest.WithFinalTimeout(3*time.Second)).(Harness[C, M, P])
}

// CheckFits checks that view fills h lines, none wider than w.
func CheckFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("%d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("line %d is %d wide (max %d): %q", i, lw, w, l)
		}
	}
}

// Drain runs cmd and the commands it leads to until none is left, feeding
// their messages back to m. Messages isTick reports (the spinner's, which
// come after a delay) are dropped.
func Drain[M any, P Screen[M]](m M, cmd tea.Cmd, isTick func(tea.Msg) bool) M {
	tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
		if isTick(msg) {
			return nil
		}
		var next tea.Cmd
		m, next = P(&m).Update(msg)
		return next
	})
	return m
}

// Press sends m keys (see tuitest.Key) one after another, draining the commands
// each produces.
func Press[M any, P Screen[M]](m M, isTick func(tea.Msg) bool, keys ...string) M {
	for _, k := range keys {
		var cmd tea.Cmd
		m, cmd = P(&m).Update(tuitest.Key(k))
		m = Drain[M, P](m, cmd, isTick)
	}
	return m
}

// Page is the page of all that cursor names when it is paged by size: the
// items and the cursor of the next page ("" after the last). Cursors are
// offsets.
func Page[T any](all []T, cursor string, size int) ([]T, string) {
	start, _ := strconv.Atoi(cursor)
	end := min(len(all), start+size)
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[start:end], next
}
