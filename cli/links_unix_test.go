//go:build unix

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestPutFollowsLinks: put -r follows links to files and folders, skips
// link cycles, broken links and special files, and says so: a line for
// each, a count at the end (with --json, one warning object each).
func TestPutFollowsLinks(t *testing.T) {
	data := newStore(t)
	base := t.TempDir()
	src := filepath.Join(base, "src")
	for name, content := range map[string]string{"src/a.txt": "a", "src/sub/b.txt": "b", "outside/c.txt": "c"} {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"file-link": "a.txt", "dir-link": "../outside", "sub/up": "..", "broken": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Skip("no symbolic links:", err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STRATA_DATA": data}
	r := run(t, env, "put", "-r", src, "up/")
	if r.code != 0 {
		t.Fatalf("put -r: %v", r)
	}
	for _, want := range []string{
		"strata: skipping " + filepath.Join(src, "broken") + ": broken symbolic link (to nowhere)\n",
		"strata: skipping " + filepath.Join(src, "fifo") + ": not a regular file or folder\n",
		"strata: skipping " + filepath.Join(src, "sub", "up") + ": folder inside itself (a link cycle): not followed\n",
		"strata: skipped 3 items (listed above)\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	for p, want := range map[string]string{"up/src/a.txt": "a", "up/src/file-link": "a", "up/src/dir-link/c.txt": "c", "up/src/sub/b.txt": "b"} {
		if r := run(t, env, "cat", p); r.code != 0 || r.stdout != want {
			t.Errorf("cat %s: %v", p, r)
		}
	}
	if r := run(t, env, "ls", "up/src/sub"); r.stdout != "b.txt\n" {
		t.Errorf("ls up/src/sub: %v", r)
	}

	r = run(t, env, "--json", "put", "-r", src, "again/")
	var warnings int
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var w struct {
			Warning struct{ Code, Path, Message string }
		}
		if err := json.Unmarshal([]byte(line), &w); err != nil || w.Warning.Code != "skipped" || w.Warning.Path == "" || w.Warning.Message == "" {
			t.Errorf("--json stderr line %q: %v", line, err)
		}
		warnings++
	}
	if r.code != 0 || warnings != 3 {
		t.Fatalf("--json put -r: %v", r)
	}
}
