package trashview

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

// The trash holds, newest first: evil␛[2J.txt, photos/, a.txt, report.pdf.

func TestRestoreMarked(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 80, 24)
	m = press(t, m, " ", "down", " ") // evil… and a.txt
	if v := m.View(); !strings.Contains(v, "2 marked, 6 B") || !strings.Contains(v, " *a.txt") {
		t.Fatalf("marks not shown:\n%s", v)
	}
	m = press(t, m, "r")
	if m.Restored() != 2 || m.list.Len() != 2 || !strings.Contains(m.View(), "Restored 2 entries.") {
		t.Fatalf("restored %d, %d left\n%s", m.Restored(), m.list.Len(), m.View())
	}
	for _, p := range []string{"/home/tester/a.txt", "/home/tester/evil\x1b[2J.txt"} {
		if _, ok := f.Content(p); !ok {
			t.Errorf("%q not restored", p)
		}
	}
	if _, ok := f.Content("/home/tester/docs/report.pdf"); ok {
		t.Error("an unmarked entry was restored")
	}
}

// One entry that cannot be restored does not stop the others; it stays,
// marked, and the status says why.
func TestRestoreMarkedPartly(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.PutFile("/home/tester/a.txt", []byte("in the way"))
	m := load(t, f, 120, 24)
	m = press(t, m, "down", "down", " ", " ", "r") // a.txt and report.pdf
	v := m.View()
	if m.Restored() != 1 || !strings.Contains(v, "Restored 1 entry. 1 entry could not be: restore “a.txt”") || !strings.Contains(v, "already exists") {
		t.Fatalf("restored %d\n%s", m.Restored(), v)
	}
	if got := m.list.Marked(); len(got) != 1 || got[0].Name != "a.txt" {
		t.Errorf("still marked: %v", got)
	}
}

func TestRestoreMarkedInto(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	f.MkdirAll("/home/tester/back")
	m := load(t, f, 80, 24)
	m = press(t, m, "ctrl+a", "R")
	if d := m.list.Dialog(); d == nil || !strings.Contains(m.View(), "Restore 4 entries into the folder:") {
		t.Fatalf("no folder asked:\n%s", m.View())
	}
	m = press(t, m, "enter") // the suggestion: where the first was, /home/tester
	for _, p := range []string{"/home/tester/report.pdf", "/home/tester/photos/2025/beach.jpg"} {
		if _, ok := f.Content(p); !ok {
			t.Errorf("%s not restored into /home/tester", p)
		}
	}
	if m.list.Len() != 0 || m.list.Dialog() != nil {
		t.Errorf("%d left\n%s", m.list.Len(), m.View())
	}
}

func TestFilterAndPurgeMarked(t *testing.T) {
	f := remotetest.New()
	trashed(t, f)
	m := load(t, f, 80, 24)
	m = press(t, m, "/", "t", "x", "t")
	if v := m.View(); m.list.Shown() != 2 || !strings.Contains(v, "2 of 4 items") || !strings.Contains(v, "/txt") {
		t.Fatalf("filter:\n%s", v)
	}
	m = press(t, m, "enter", "ctrl+a", "D")
	if !strings.Contains(m.View(), "Delete 2 files (6 B) for good?") {
		t.Fatalf("question:\n%s", m.View())
	}
	m = press(t, m, "enter") // No is the default
	if f.Calls["PurgeTrash"] != 0 {
		t.Fatal("purged on the default answer")
	}
	m = press(t, m, "D", "y")
	if f.Calls["PurgeTrash"] != 2 || len(f.TrashItems()) != 2 || !strings.Contains(m.View(), "Deleted 2 entries for good.") {
		t.Fatalf("calls %v\n%s", f.Calls, m.View())
	}
	if !strings.Contains(m.View(), "Nothing matches the filter") {
		t.Errorf("the filter went:\n%s", m.View())
	}
	m = press(t, m, "esc") // clears the filter, stays
	if m.list.Shown() != 2 || m.list.Filter() != "" {
		t.Errorf("esc: %d shown, filter %q", m.list.Shown(), m.list.Filter())
	}
	if _, cmd := m.Update(tuitest.Key("esc")); cmd == nil {
		t.Error("esc without a filter does not close")
	} else if _, ok := cmd().(ClosedMsg); !ok {
		t.Error("esc without a filter does not close")
	}
}

func TestEmpty(t *testing.T) {
	f := remotetest.New()
	for i := range 45 {
		p := fmt.Sprintf("/home/tester/f%02d", i)
		f.PutFile(p, []byte("12345"))
		if _, err := f.Delete(context.Background(), p, false); err != nil {
			t.Fatal(err)
		}
	}
	f.PutFile("/home/tester/dir/x", []byte("x"))
	if _, err := f.Delete(context.Background(), "/home/tester/dir", true); err != nil {
		t.Fatal(err)
	}
	m := load(t, pagedTrash{Fake: f, size: 20}, 80, 24)
	if m.list.Complete() {
		t.Fatal("loaded whole up front")
	}
	// The question waits for every page, and counts them all.
	m = press(t, m, "E")
	if v := m.View(); !strings.Contains(v, "Delete everything in the trash for good: 46 entries, 1") || !strings.Contains(v, "folder and 45 files (225 B and what the folders hold)?") {
		t.Fatalf("question:\n%s", m.View())
	}
	for _, answer := range []string{"enter", "n", "esc"} {
		m = press(t, m, answer)
		if f.Calls["PurgeTrash"] != 0 || m.list.Dialog() != nil {
			t.Fatalf("%s: purged %d", answer, f.Calls["PurgeTrash"])
		}
		m = press(t, m, "E")
	}
	m = press(t, m, "y")
	if len(f.TrashItems()) != 0 || !strings.Contains(m.View(), "The trash is empty.") || !strings.Contains(m.View(), "Deleted 46 entries for good.") {
		t.Fatalf("trash %d\n%s", len(f.TrashItems()), m.View())
	}
	m = press(t, m, "E")
	if !strings.Contains(m.View(), "The trash is already empty.") || m.list.Dialog() != nil {
		t.Errorf("empty again:\n%s", m.View())
	}
}
