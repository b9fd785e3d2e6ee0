package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/treecount"
)

// stateOf is a file's archive state on the fake.
func (h *harness) stateOf(p string) remote.Entry {
	h.t.Helper()
	e, err := h.fake.Stat(context.Background(), p)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

// open presses keys that open a dialog after a request (the price table,
// a count) and waits until it shows want: a key pressed before would go
// elsewhere, and a counting dialog takes no answer until it has counted.
func (h *harness) open(want string, keys ...string) {
	h.t.Helper()
	off := h.drawn()
	h.press(keys...)
	h.waitForSince(off, want)
}

// a on the Strata pane: a class, then a confirmation with the count and
// the monthly cost change; every answer but yes leaves the file hot. Each
// answer on a fresh app: a dialog closed and opened again within one frame
// would not be drawn again.
func TestAppArchiveDialog(t *testing.T) {
	for name, answers := range map[string][][2]string{
		"esc at the class":    {{"esc", ""}},
		"n at the question":   {{"g", "(1 file, 20 B) to Glacier?"}, {"n", ""}},
		"esc at the question": {{"d", "(1 file, 20 B) to Deep Archive?"}, {"esc", ""}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newStrataHarness(t)
			h.open("Which archive class?", "a") // the cursor is on notes.md
			h.waitFor("g Glacier: $0.0036/GB-month")
			h.waitFor("d Deep Archive: $0.00099/GB-month")
			for _, a := range answers {
				if a[1] == "" {
					h.press(a[0])
					continue
				}
				h.open(a[1], a[0])
				h.waitFor("Monthly storage cost of 20 B: ≈$0 now, ≈$0 archived")
			}
			h.final()
			if n := h.fake.Calls["Archive"]; n != 0 || h.stateOf("/home/tester/notes.md").State != remote.StateHot {
				t.Fatalf("%d archive calls after %s", n, name)
			}
		})
	}
	// Enter on the focused class, then Enter on Yes.
	h := newStrataHarness(t)
	h.open("Which archive class?", "a")
	h.open("(1 file, 20 B) to Glacier?", "enter")
	h.press("enter")
	h.waitFor("Archived 1 file to glacier")
	h.waitFor("[archived glacie")
	if e := h.stateOf("/home/tester/notes.md"); e.State != remote.StateArchived || e.Archive.Class != "glacier" {
		t.Fatalf("notes.md: %+v", e)
	}
	h.final()
}

// A folder is archived whole, as a job on the server; the choice's own
// key (i) picks glacier-ir, y confirms.
func TestAppArchiveFolder(t *testing.T) {
	h := newHarness(t)
	h.fake.PutFile("/home/tester/projects/a.txt", []byte("aaaa"))
	h.fake.PutFile("/home/tester/projects/deep/b.txt", []byte("bb"))
	h.press("tab", "j", "space") // projects/ (what it holds does not show here: no reload needed)
	h.open("Which archive class?", "a")
	h.open("Archive “projects” (2 files in 1 folder, 6 B) to Glacier", "i")
	h.press("y")
	h.waitFor("Archived 2 files to glacier-ir")
	for _, p := range []string{"/home/tester/projects/a.txt", "/home/tester/projects/deep/b.txt"} {
		if e := h.stateOf(p); e.State != remote.StateArchived || e.Archive.Class != "glacier-ir" {
			t.Errorf("%s: %+v", p, e)
		}
	}
	h.final()
}

// w: the tier with its time and estimate, then the days (checked as
// typed); esc at either step asks for nothing.
func TestAppRestoreDialog(t *testing.T) {
	restoreHarness := func(t *testing.T) *harness {
		h := newHarness(t)
		h.fake.SetArchived("/home/tester/notes.md", "glacier")
		h.press("tab", "R")
		h.waitFor("[archived glacie")
		h.open("1 archived file to restore, 20 B.", "w")
		h.waitFor("within 5 minutes, about")
		return h
	}
	t.Run("esc at the tier", func(t *testing.T) {
		h := restoreHarness(t)
		h.press("esc")
		h.final()
		if n := h.fake.Calls["Restore"]; n != 0 {
			t.Fatalf("%d restore calls after esc", n)
		}
	})
	t.Run("esc at the days", func(t *testing.T) {
		h := restoreHarness(t)
		h.open("Keep the restored copy for how many days (1-30)?", "s")
		h.waitFor("Each day of the copy of 20 B costs ≈$0.")
		h.press("esc")
		h.final()
		if n := h.fake.Calls["Restore"]; n != 0 {
			t.Fatalf("%d restore calls after esc", n)
		}
	})
	h := restoreHarness(t)
	h.open("Keep the restored copy", "b")
	// The 7 offered is a suggestion: typing replaces it.
	h.press("4", "0")
	h.waitFor("a number of days from 1 to 30")
	h.press("enter") // refused while invalid
	h.press("backspace", "backspace", "3", "enter")
	h.waitFor("Restoring 1 file (bulk, kept 3 days), expected by")
	h.waitFor("[restoring")
	e := h.stateOf("/home/tester/notes.md")
	if e.State != remote.StateRestoring || e.Archive.Tier != "bulk" || e.Archive.Days != 3 {
		t.Fatalf("notes.md: %+v", e.Archive)
	}
	h.final()
}

// Deep Archive has no expedited tier: the dialog says so rather than
// pricing it, and keeps the choice open.
func TestAppRestoreDeepArchiveTiers(t *testing.T) {
	h := newHarness(t)
	h.fake.SetArchived("/home/tester/notes.md", "deep-archive")
	h.press("tab", "R")
	h.waitFor("[archived deep-")
	h.open("Expedited: not offered for deep-archive", "w")
	h.waitFor("Standard: within 12 hours")
	h.press("e")
	h.waitFor("no file here offers expedited")
	h.open("Keep the restored copy", "s")
	h.press("enter")
	h.waitFor("Restoring 1 file (standard, kept 7 days)")
	h.final()
}

// d on an archived file offers its restore instead of a download that
// would fail; on a restoring one it says when it is expected; once
// restored it downloads.
func TestAppDownloadArchivedOffersRestore(t *testing.T) {
	h := newHarness(t)
	h.fake.SetArchived("/home/tester/notes.md", "glacier")
	h.press("tab", "R")
	h.waitFor("[archived glacie")
	h.open("1 archived file to restore", "d")
	h.waitFor("Archived: restore “notes.md” first")
	h.open("Keep the restored copy", "e")
	h.press("enter")
	h.waitFor("[restoring")
	h.press("d")
	h.waitFor("“notes.md” is being restored, expected by 2026-01-02")
	h.press("o") // opening it says the same
	if n := h.fake.Calls["Download"] + h.fake.Calls["Read"]; n != 0 {
		t.Fatalf("%d reads of an archived file", n)
	}
	h.fake.FinishRestores()
	h.press("R")
	h.waitFor("[restored")
	h.press("d")
	h.waitFor("1/1 done")
	h.final()
}

// W lists the archived files under the folder with their state, follows
// a restore until it is done, restores from there and goes to a file.
func TestAppArchivePage(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ArchivePoll = 20 * time.Millisecond })
	ctx := context.Background()
	h.fake.PutFile("/home/tester/projects/old.log", []byte("old"))
	h.fake.PutFile("/home/tester/projects/deep/plan.txt", []byte("plan"))
	h.fake.PutFile("/home/tester/hot.txt", []byte("hot"))
	h.fake.SetArchived("/home/tester/projects/old.log", "deep-archive")
	h.fake.SetArchived("/home/tester/projects/deep/plan.txt", "glacier")
	if _, err := h.fake.Restore(ctx, "/home/tester/projects/deep/plan.txt", "standard", 5, false); err != nil {
		t.Fatal(err)
	}
	h.press("tab", "W")
	h.waitFor("under /home/tester")
	h.waitFor("2 files")
	h.waitFor("projects/deep/pla… restoring")
	h.waitFor("standard Jan 2 03:04 → Jan 2 08:04")
	h.waitFor("since Jan 2")
	h.fake.FinishRestores()
	h.waitFor("Restored: plan.txt")
	h.waitFor("until Jan 7")
	// w on old.log (deep-archive): the app's restore dialog, over the
	// screen.
	h.waitFor("› projects/old.log") // the walk found it first
	h.open("1 archived file to restore", "w")
	h.open("Keep the restored copy", "s")
	h.press("enter")
	h.waitFor("Restoring 1 file (standard, kept 7 days)")
	h.eventually("old.log restoring", func() bool {
		return h.stateOf("/home/tester/projects/old.log").State == remote.StateRestoring
	})
	h.waitLine("› projects/old.log", "restoring") // the screen listed it again: enter finds it
	// enter: back to the panes, on the file.
	off := h.drawn()
	h.press("enter")
	h.waitForSince(off, "/home/tester/projects")
	h.final()
}

// The estimates: a restore of 10 GiB of Glacier at Standard, and the
// monthly change of archiving 100 GiB to Glacier, from the server's table.
func TestArchiveEstimates(t *testing.T) {
	p := archiveprice.AWS()
	p.Engine = "s3"
	a := &App{arch: archiveFlow{prices: p}, pending: pendingOp{items: []filelist.Item{{Name: "big", Dir: true}}}}
	tot := treecount.Total{Files: 3, Folders: 1, Bytes: 110 << 30, Glacier: treecount.Tally{Files: 2, Bytes: 10 << 30}, Hot: treecount.Tally{Files: 1, Bytes: 100 << 30}}
	counted := dialog.Counted(restoreTierDialog, tot, nil)
	q := a.tierQuestion(&counted)
	// 10 x $0.01 + 2 x $0.05/1000 = $0.1001; expedited 10 x $0.03 + 2 x $10/1000 = $0.32; bulk free.
	for _, want := range []string{"2 archived files to restore, 10.0 GiB.", "Standard: ", "about $0.10", "about $0.32", "Bulk: ", "about $0\n"} {
		if !strings.Contains(q, want) {
			t.Errorf("tier question lacks %q:\n%s", want, q)
		}
	}
	g, _ := p.Class("glacier")
	a.arch.class = g
	q = a.archiveConfirmQuestion(&counted)
	// 100 GiB: $2.30 a month hot, $0.36 in Glacier.
	if !strings.Contains(q, "Monthly storage cost of 100.0 GiB: $2.30 now, $0.36 archived (-$1.94 a month).") {
		t.Errorf("archive question:\n%s", q)
	}
	// On the cold tier: no charge, and the restore delay.
	a.arch.prices = archiveprice.Free(p)
	a.arch.prices.Engine = "cold-tier"
	q = a.tierQuestion(&counted)
	if !strings.Contains(q, "no charge") || !strings.Contains(q, "--restore-delay") {
		t.Errorf("cold tier question:\n%s", q)
	}
	// An administrator's prices on the cold tier are shown.
	a.arch.prices = p
	a.arch.prices.Engine = "cold-tier"
	q = a.tierQuestion(&counted)
	if strings.Contains(q, "no charge") || !strings.Contains(q, "about $0.32") || !strings.Contains(q, "--restore-delay") {
		t.Errorf("cold tier question with prices:\n%s", q)
	}
}
