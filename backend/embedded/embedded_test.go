package embedded

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenMakesDirPrivate: a data directory that exists open to others is
// made 0700, like a new one.
func TestOpenMakesDirPrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o755, 0o777, 0o750, 0o700} {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		e, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		e.Close()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("a data directory of mode %04o is %04o after Open", mode, fi.Mode().Perm())
		}
	}
	fresh := filepath.Join(t.TempDir(), "new", "data")
	e, err := Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("a new data directory: %v %v", fi.Mode(), err)
	}
}
