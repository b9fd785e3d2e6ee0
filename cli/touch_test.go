package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/api"
)

// TestTouch: put keeps the local file's time; touch --mtime sets another
// without a new version; a missing file is created empty (not with -c);
// a bad time is a usage error, a folder is refused.
func TestTouch(t *testing.T) {
	data := newStore(t)
	env := map[string]string{}
	strata := func(args ...string) result {
		t.Helper()
		return run(t, env, append([]string{"--data", data}, args...)...)
	}
	stat := func(path string) api.Entry {
		t.Helper()
		r := strata("--json", "stat", path)
		var e api.Entry
		if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
			t.Fatalf("stat %s: %v", path, r)
		}
		return e
	}
	local := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(local, []byte("content"), 0o600); err != nil {
		t.Fatal(err)
	}
	then := time.Date(2010, 6, 7, 8, 9, 10, 0, time.UTC)
	if err := os.Chtimes(local, then, then); err != nil {
		t.Fatal(err)
	}
	if r := strata("put", local, "f.txt"); r.code != 0 {
		t.Fatalf("put: %v", r)
	}
	put := stat("f.txt")
	if !put.ModTime.Equal(then) {
		t.Fatalf("put kept %s, want the local %s", put.ModTime, then)
	}

	if r := strata("touch", "--mtime", "2020-01-02T03:04:05.5Z", "f.txt"); r.code != 0 {
		t.Fatalf("touch: %v", r)
	}
	e := stat("f.txt")
	want := time.Date(2020, 1, 2, 3, 4, 5, 5e8, time.UTC)
	if !e.ModTime.Equal(want) || e.Version != put.Version || e.SHA256 != put.SHA256 {
		t.Fatalf("after touch: %+v, want %+v at %s", e, put, want)
	}
	if r := strata("versions", "f.txt"); r.code != 0 || strings.Count(strings.TrimSpace(r.stdout), "\n") != 1 {
		t.Fatalf("versions after touch (want the header and one): %v", r)
	}

	// Missing: created empty with the time, or refused with -c.
	if r := strata("touch", "-c", "--mtime", "2020-01-02T03:04:05Z", "none.txt"); r.code != ExitNotFound {
		t.Fatalf("touch -c of a missing file: %v", r)
	}
	if r := strata("touch", "--mtime", "2020-01-02T03:04:05Z", "new.txt"); r.code != 0 {
		t.Fatalf("touch of a missing file: %v", r)
	}
	if n := stat("new.txt"); n.Size != 0 || !n.ModTime.Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("created: %+v", n)
	}

	if r := strata("touch", "--mtime", "tomorrow", "f.txt"); r.code != ExitUsage || !strings.Contains(r.stderr, "RFC 3339") {
		t.Fatalf("bad time: %v", r)
	}
	if r := strata("touch", "--mtime", "1500-01-01T00:00:00Z", "f.txt"); r.code == 0 || !strings.Contains(r.stderr, "outside the times Strata keeps") {
		t.Fatalf("a time Strata cannot keep: %v", r)
	}
	if r := strata("mkdir", "dir"); r.code != 0 {
		t.Fatal(r)
	}
	if r := strata("touch", "dir"); r.code == 0 || !strings.Contains(r.stderr, "folder") {
		t.Fatalf("touch of a folder: %v", r)
	}
}
