package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// program writes an executable shell script standing for the pager or the
// editor: it notes the file it was given (its path, its mode and its
// folder's, its content) under log, then runs body on it ($1).
func program(t *testing.T, body string) (script, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "log")
	script = filepath.Join(dir, "prog")
	src := fmt.Sprintf(`#!/bin/sh
echo "$1" > %[1]s.path
stat -c %%a "$1" > %[1]s.mode
stat -c %%a "$(dirname "$1")" > %[1]s.dirmode
cat "$1" > %[1]s.shown
%[2]s
`, log, body)
	if err := os.WriteFile(script, []byte(src), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, log
}

func readLog(t *testing.T, log, what string) string {
	t.Helper()
	b, err := os.ReadFile(log + "." + what)
	if err != nil {
		t.Fatalf("the program did not run: %v", err)
	}
	return strings.TrimSpace(string(b))
}

func useEditor(t *testing.T, script string) {
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", script)
}

// e on a Strata file edits a private copy; a changed copy is uploaded as
// a new version when the user says so, dropped otherwise, and the copy is
// removed either way.
func TestAppEditStrataFile(t *testing.T) {
	for _, c := range []struct {
		answer string
		upload bool
	}{{"enter", true}, {"y", true}, {"n", false}, {"esc", false}} {
		t.Run(c.answer, func(t *testing.T) {
			script, log := program(t, `printf 'edited\n' >> "$1"`)
			useEditor(t, script)
			h := newHarness(t)
			h.press("tab", "e") // the Strata pane: notes.md
			h.waitFor("Upload your changes")
			h.waitFor("No discards your changes")
			tmp := readLog(t, log, "path")
			if readLog(t, log, "shown") != "# notes\nhello again" || filepath.Base(tmp) != "notes.md" {
				t.Fatalf("the editor got %s holding %q", tmp, readLog(t, log, "shown"))
			}
			if readLog(t, log, "mode") != "600" || readLog(t, log, "dirmode") != "700" {
				t.Errorf("the copy is %s in a folder %s, want 600 in 700", readLog(t, log, "mode"), readLog(t, log, "dirmode"))
			}
			h.press(c.answer)
			want := "# notes\nhello again\n"
			if c.upload {
				h.waitFor("Uploaded your changes to /home/tester/notes.md")
				want += "edited\n"
			} else {
				h.waitFor("Discarded your changes")
			}
			h.final()
			if got, _ := h.fake.Content("/home/tester/notes.md"); string(got) != want {
				t.Errorf("on Strata: %q, want %q", got, want)
			}
			if _, err := os.Stat(filepath.Dir(tmp)); !os.IsNotExist(err) {
				t.Errorf("the temporary copy is still there: %v", err)
			}
		})
	}
}

// An edit that changes nothing asks nothing; the pager never asks.
func TestAppOpenUnchanged(t *testing.T) {
	script, log := program(t, "")
	useEditor(t, script)
	t.Setenv("PAGER", script)
	h := newHarness(t)
	h.press("tab", "e")
	h.waitFor("No changes to “notes.md”")
	tmp := readLog(t, log, "path")
	if err := os.Remove(log + ".path"); err != nil {
		t.Fatal(err)
	}
	h.press("o")
	// The pager ran when it noted its file, and its copy goes right after.
	h.eventually("the pager's copy removed", func() bool {
		b, err := os.ReadFile(log + ".path")
		if err != nil {
			return false
		}
		_, err = os.Stat(filepath.Dir(strings.TrimSpace(string(b))))
		return os.IsNotExist(err)
	})
	if v := h.final(); strings.Contains(v, "Upload") {
		t.Fatalf("asked to upload:\n%s", v)
	}
	if readLog(t, log, "shown") != "# notes\nhello again" {
		t.Errorf("the pager showed %q", readLog(t, log, "shown"))
	}
	for _, p := range []string{tmp, readLog(t, log, "path")} {
		if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
	if got := h.fake.Calls["Upload"]; got != 0 {
		t.Errorf("%d uploads", got)
	}
}

// A local file opens as it is: no copy.
func TestAppOpenLocalFile(t *testing.T) {
	script, log := program(t, `printf 'more\n' >> "$1"`)
	t.Setenv("PAGER", script)
	useEditor(t, script)
	h := newHarness(t)
	h.press("j", "e") // the local pane: report.txt
	h.waitFor("report.txt")
	h.press("o")
	h.eventually("the pager ran", func() bool {
		b, _ := os.ReadFile(filepath.Join(h.local, "report.txt"))
		return strings.Count(string(b), "more") == 2
	})
	h.final()
	if got := readLog(t, log, "path"); got != filepath.Join(h.local, "report.txt") {
		t.Errorf("opened %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(h.local, "report.txt")); string(b) != "quarterly numbers\nmore\nmore\n" {
		t.Errorf("report.txt holds %q", b)
	}
}

// The upload can fail (the dialog says why and stays); the file can also
// change on Strata while the editor has it (the question says so).
func TestAppEditUploadFails(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "go")
	if err := mkfifo(fifo); err != nil {
		t.Skip(err)
	}
	started := fifo + "-started"
	if err := mkfifo(started); err != nil {
		t.Skip(err)
	}
	// The editor waits, between its start and its end, for the test to
	// change the file on Strata.
	script, log := program(t, fmt.Sprintf(`echo started > %s; read x < %s; printf 'mine\n' >> "$1"`, started, fifo))
	useEditor(t, script)
	h := newHarness(t)
	h.press("tab", "e")
	if _, err := os.ReadFile(started); err != nil {
		t.Fatal(err)
	}
	h.fake.PutFile("/home/tester/notes.md", []byte("theirs\n"))
	if err := os.WriteFile(fifo, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.waitFor("It changed on Strata meanwhile (now version 3)")
	h.fake.SetDown(true)
	h.press("y")
	h.waitFor("server unavailable")
	h.fake.SetDown(false)
	h.press("y")
	h.waitFor("Uploaded your changes")
	h.final()
	if got, _ := h.fake.Content("/home/tester/notes.md"); string(got) != "# notes\nhello again\nmine\n" {
		t.Errorf("on Strata: %q", got)
	}
	if _, err := os.Stat(readLog(t, log, "path")); !os.IsNotExist(err) {
		t.Errorf("the copy is still there: %v", err)
	}
}

// A big file asks before it is downloaded; no answer but yes downloads it.
func TestAppOpenBigFile(t *testing.T) {
	for _, answer := range []string{"enter", "n", "esc", "y"} {
		t.Run(answer, func(t *testing.T) {
			ran := filepath.Join(t.TempDir(), "ran")
			if err := mkfifo(ran); err != nil {
				t.Skip(err)
			}
			script, log := program(t, "echo > "+ran)
			t.Setenv("PAGER", script)
			h := newHarness(t, func(o *Options) { o.BigOpen = 10 })
			h.press("tab", "o")
			h.waitFor("“notes.md” is 20 B. Download it whole")
			h.press(answer)
			if answer == "y" {
				if _, err := os.ReadFile(ran); err != nil { // the pager ran
					t.Fatal(err)
				}
			}
			h.final()
			downloaded := h.fake.Calls["Download"] > 0
			if downloaded != (answer == "y") {
				t.Errorf("downloaded: %v", downloaded)
			}
			if downloaded && readLog(t, log, "shown") != "# notes\nhello again" {
				t.Errorf("shown %q", readLog(t, log, "shown"))
			}
		})
	}
}

// Without a pager or an editor, the status line says what to set.
func TestAppOpenNoProgram(t *testing.T) {
	t.Setenv("PAGER", "")
	t.Setenv("PATH", t.TempDir())
	h := newHarness(t)
	h.press("tab", "o")
	h.waitFor("no pager found: set $PAGER (less and more are not installed)")
	h.press("j", "o") // a folder
	h.waitFor("choose a file")
	h.final()
}

// An editor that exits with a status (vim after an error) still had the
// file: its changes are offered, not dropped.
func TestAppEditorExitStatus(t *testing.T) {
	script, _ := program(t, `printf 'kept\n' >> "$1"; exit 3`)
	useEditor(t, script)
	h := newHarness(t)
	h.press("tab", "e")
	h.waitFor("Upload your changes")
	h.press("y")
	h.waitFor("Uploaded your changes")
	h.final()
	if got, _ := h.fake.Content("/home/tester/notes.md"); string(got) != "# notes\nhello again\nkept\n" {
		t.Errorf("on Strata: %q", got)
	}
}
