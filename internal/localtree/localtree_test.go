//go:build unix

package localtree

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
}

// tree is a folder with every kind of entry the rule decides on.
//
//	root/a.txt
//	root/sub/b.txt
//	root/sub/up -> root              (a cycle: a parent)
//	root/sub/self -> .               (a cycle: itself)
//	root/file-link -> a.txt          (followed)
//	root/dir-link -> ../outside      (followed)
//	root/dir-link2 -> ../outside     (followed again: not a cycle)
//	root/broken -> nowhere           (skipped)
//	root/loop -> loop                (skipped: leads to itself)
//	root/fifo                        (skipped: special)
//	outside/c.txt
func tree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	write(t, filepath.Join(root, "a.txt"), "a")
	write(t, filepath.Join(root, "sub", "b.txt"), "b")
	write(t, filepath.Join(base, "outside", "c.txt"), "c")
	symlink(t, root, filepath.Join(root, "sub", "up"))
	symlink(t, ".", filepath.Join(root, "sub", "self"))
	symlink(t, "a.txt", filepath.Join(root, "file-link"))
	symlink(t, "../outside", filepath.Join(root, "dir-link"))
	symlink(t, "../outside", filepath.Join(root, "dir-link2"))
	symlink(t, "nowhere", filepath.Join(root, "broken"))
	symlink(t, "loop", filepath.Join(root, "loop"))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestWalk(t *testing.T) {
	root := tree(t)
	taken := map[string]string{} // rel -> "dir" or content
	skipped := map[string]error{}
	err := Walk(root, func(rel string, e Entry) error {
		switch {
		case e.Skip != nil:
			skipped[rel] = e.Skip
		case e.IsDir():
			taken[rel] = "dir"
		default:
			b, err := os.ReadFile(e.Path)
			if err != nil {
				return err
			}
			taken[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".": "dir", "a.txt": "a", "sub": "dir", "sub/b.txt": "b", "file-link": "a",
		"dir-link": "dir", "dir-link/c.txt": "c", "dir-link2": "dir", "dir-link2/c.txt": "c",
	}
	if !maps.Equal(taken, want) {
		t.Errorf("taken %v\nwant  %v", taken, want)
	}
	for rel, reason := range map[string]error{
		"sub/up": ErrCycle, "sub/self": ErrCycle, "broken": ErrBrokenLink, "loop": ErrCycle, "fifo": ErrSpecial,
	} {
		if !errors.Is(skipped[rel], reason) {
			t.Errorf("%s: skipped for %v, want %v", rel, skipped[rel], reason)
		}
	}
	if len(skipped) != 5 {
		t.Errorf("skipped %v", skipped)
	}
	if !strings.Contains(skipped["broken"].Error(), "nowhere") {
		t.Errorf("a broken link does not name its target: %v", skipped["broken"])
	}
}

// TestReadDirOneStep: the file manager lists one folder at a time and
// carries the parents' identities itself; a link to any of them is a
// cycle however it is spelled.
func TestReadDirOneStep(t *testing.T) {
	root := tree(t)
	r, err := Stat(root)
	if err != nil || !r.IsDir() {
		t.Fatal(r, err)
	}
	es, err := ReadDir(root, []DirID{r.ID})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var sub Entry
	for _, e := range es {
		names = append(names, e.Name)
		if e.Name == "sub" {
			sub = e
		}
	}
	if !slices.IsSorted(names) || len(names) != 8 {
		t.Fatalf("names %v", names)
	}
	es, err = ReadDir(sub.Path, []DirID{r.ID, sub.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if (e.Name == "up" || e.Name == "self") && !errors.Is(e.Skip, ErrCycle) {
			t.Errorf("%s: %v", e.Name, e.Skip)
		}
	}
	// Without the parents, nothing is known to be a cycle but itself.
	es, _ = ReadDir(sub.Path, nil)
	for _, e := range es {
		if e.Name == "up" && e.Skip != nil {
			t.Errorf("up without parents: %v", e.Skip)
		}
	}
}

func TestStatRoot(t *testing.T) {
	root := tree(t)
	if e, err := Stat(filepath.Join(root, "dir-link")); err != nil || !e.IsDir() || !e.Link {
		t.Fatalf("a root link to a folder: %+v %v", e, err)
	}
	if e, err := Stat(filepath.Join(root, "fifo")); err != nil || !errors.Is(e.Skip, ErrSpecial) {
		t.Fatalf("a special root: %+v %v", e, err)
	}
	// A broken link named as a root is skipped with its reason, as inside
	// a folder (the file manager once listed it as a failed folder).
	if e, err := Stat(filepath.Join(root, "broken")); err != nil || !errors.Is(e.Skip, ErrBrokenLink) || e.IsDir() {
		t.Fatalf("a broken root: %+v %v", e, err)
	}
	if _, err := Stat(filepath.Join(root, "not-there")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing root: %v", err)
	}
}
