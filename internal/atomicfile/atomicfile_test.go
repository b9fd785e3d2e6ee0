package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sub", "f.json")
	if err := Write(name, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(name, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(name)
	if err != nil || string(b) != "two" {
		t.Fatalf("read %q, %v", b, err)
	}
	fi, _ := os.Stat(name)
	di, _ := os.Stat(filepath.Dir(name))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes %v %v, want 0600 in 0700", fi.Mode(), di.Mode())
	}
	left, _ := os.ReadDir(filepath.Dir(name))
	if len(left) != 1 {
		t.Errorf("temporary files left: %v", left)
	}
	// A failed write leaves the old content and nothing else.
	if err := Write(filepath.Join(name, "x"), []byte("three"), 0o600); err == nil {
		t.Error("wrote under a file")
	}
}
