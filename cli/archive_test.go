package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/api"
)

// TestArchiveCommands: archive, ls -l and stat with the state, a read that
// says how to restore, restore --wait, and the bad input, in local mode
// (the embedded cold tier restores at once).
func TestArchiveCommands(t *testing.T) {
	data := newStore(t)
	env := map[string]string{}
	strata := func(args ...string) result {
		t.Helper()
		return run(t, env, append([]string{"--data", data}, args...)...)
	}
	work := t.TempDir()
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(work, name), []byte("content of "+name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if r := strata("put", filepath.Join(work, "a.txt"), filepath.Join(work, "b.txt"), "docs/"); r.code != 0 {
		t.Fatalf("put: %v", r)
	}
	if r := strata("archive", "docs"); r.code != ExitUsage || !strings.Contains(r.stderr, "use -r") {
		t.Errorf("archive of a folder without -r: %v", r)
	}
	if r := strata("archive", "--class", "cold", "docs/a.txt"); r.code == 0 || !strings.Contains(r.stderr, "unknown archive class") {
		t.Errorf("unknown class: %v", r)
	}
	if r := strata("archive", "-r", "--class", "deep-archive", "docs"); r.code != 0 || !strings.Contains(r.stderr, "archived 2 files") {
		t.Fatalf("archive -r: %v", r)
	}
	r := strata("ls", "-l", "docs")
	if r.code != 0 || strings.Count(r.stdout, "[deep-archive]") != 2 {
		t.Errorf("ls -l: %v", r)
	}
	r = strata("--json", "stat", "docs/a.txt")
	var e api.Entry
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil || e.State != api.StateArchived || e.Archive == nil || e.Archive.Class != "deep-archive" {
		t.Errorf("stat --json: %v", r)
	}
	if r := strata("cat", "docs/a.txt"); r.code == 0 || !strings.Contains(r.stderr, "strata restore") {
		t.Errorf("cat of an archived file: %v", r)
	}
	if r := strata("restore", "--tier", "expedited", "docs/a.txt"); r.code == 0 || !strings.Contains(r.stderr, "no expedited tier") {
		t.Errorf("expedited for deep-archive: %v", r)
	}
	if r := strata("restore", "--days", "0", "docs/a.txt"); r.code != ExitUsage {
		t.Errorf("--days 0: %v", r)
	}
	if r := strata("restore", "--tier", "bulk", "--days", "3", "--wait", "docs/a.txt"); r.code != 0 {
		t.Fatalf("restore --wait: %v", r)
	}
	if r := strata("cat", "docs/a.txt"); r.code != 0 || r.stdout != "content of a.txt" {
		t.Errorf("cat after the restore: %v", r)
	}
	if r := strata("stat", "docs/a.txt"); !strings.Contains(r.stdout, "restored") || !strings.Contains(r.stdout, "Restored:") {
		t.Errorf("stat after the restore: %v", r)
	}
	if r := strata("restore", "-r", "--wait", "docs"); r.code != 0 {
		t.Fatalf("restore -r --wait: %v", r)
	}
	if r := strata("cat", "docs/b.txt"); r.code != 0 || r.stdout != "content of b.txt" {
		t.Errorf("cat after restore -r: %v", r)
	}
	if err := os.WriteFile(filepath.Join(work, "hot.txt"), []byte("hot"), 0o600); err != nil {
		t.Fatal(err)
	}
	strata("put", filepath.Join(work, "hot.txt"), "hot.txt")
	if r := strata("restore", "hot.txt"); r.code != 0 || !strings.Contains(r.stderr, "not archived") {
		t.Errorf("restore of a hot file: %v", r)
	}
}

// TestLifecycleCommands: set, list and remove a folder's archive rule.
func TestLifecycleCommands(t *testing.T) {
	data := newStore(t)
	env := map[string]string{}
	strata := func(args ...string) result {
		t.Helper()
		return run(t, env, append([]string{"--data", data}, args...)...)
	}
	if r := strata("mkdir", "projects"); r.code != 0 {
		t.Fatal(r)
	}
	if r := strata("admin", "lifecycle", "set", "projects", "--archive-after", "ninety"); r.code != ExitUsage {
		t.Errorf("bad --archive-after: %v", r)
	}
	if r := strata("admin", "lifecycle", "set", "projects", "--archive-after", "90d", "--class", "deep-archive"); r.code != 0 ||
		!strings.Contains(r.stdout, "/home/admin/projects: files not modified for 90 days go to deep-archive") {
		t.Fatalf("set: %v", r)
	}
	if r := strata("admin", "lifecycle", "ls"); r.code != 0 || !strings.Contains(r.stdout, "/home/admin/projects  90d") {
		t.Errorf("ls: %v", r)
	}
	if r := strata("admin", "lifecycle", "rm", "projects"); r.code != 0 {
		t.Errorf("rm: %v", r)
	}
	if r := strata("admin", "lifecycle", "rm", "projects"); r.code != ExitNotFound {
		t.Errorf("rm of no rule: %v", r)
	}
}
