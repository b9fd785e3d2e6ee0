package sshserve_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/sshserve"
)

// storedTime is the modification time the store keeps for path.
func (e *env) storedTime(path string) time.Time {
	e.t.Helper()
	st, err := e.d.Files.Stat(context.Background(), e.admin, storepath.MustParse(path))
	if err != nil {
		e.t.Fatal(err)
	}
	return st.ModTime
}

// SETSTAT sets a file's time as Chtimes asks (what rclone does after an
// upload), without a new version; a size other than the file's is
// refused and changes nothing; modes and owners, and a folder's time, are
// accepted and not kept; another user's file is refused.
func TestSFTPSetstat(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	c := e.sftp("alice")
	if err := write(c, "f.txt", []byte("content")); err != nil {
		t.Fatal(err)
	}
	before, err := e.d.Files.Stat(context.Background(), e.admin, storepath.MustParse("/home/alice/f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2011, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := c.Chtimes("f.txt", time.Now(), want); err != nil {
		t.Fatalf("chtimes: %v", err)
	}
	fi, err := c.Stat("f.txt")
	if err != nil || !fi.ModTime().Equal(want) {
		t.Fatalf("stat after chtimes: %v %v, want %s", fi.ModTime(), err, want)
	}
	after, err := e.d.Files.Stat(context.Background(), e.admin, storepath.MustParse("/home/alice/f.txt"))
	if err != nil || after.Version != before.Version || after.SHA256 != before.SHA256 || !after.ModTime.Equal(want) {
		t.Fatalf("stored: %+v %v, was %+v", after, err, before)
	}
	fis, err := c.ReadDir(".")
	if err != nil || len(fis) != 1 || !fis[0].ModTime().Equal(want) {
		t.Fatalf("listing: %v %v", fis, err)
	}

	// A truncation is refused, clearly; the size it has is fine.
	var se *sftp.StatusError
	if err := c.Truncate("f.txt", 3); !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxOpUnsupported || !strings.Contains(err.Error(), "upload it whole") {
		t.Fatalf("truncate: %v", err)
	}
	if err := c.Truncate("f.txt", 7); err != nil {
		t.Fatalf("truncate to its size: %v", err)
	}
	if got := e.stored("/home/alice/f.txt"); string(got) != "content" {
		t.Fatalf("content after truncate: %q", got)
	}
	// Modes and owners are not kept, and not refused; nor a folder's time.
	if err := c.Chmod("f.txt", 0o600); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	if err := c.Chown("f.txt", 1000, 1000); err != nil {
		t.Fatalf("chown: %v", err)
	}
	if err := c.Mkdir("dir"); err != nil {
		t.Fatal(err)
	}
	if err := c.Chtimes("dir", want, want); err != nil {
		t.Fatalf("chtimes of a folder: %v", err)
	}
	if err := c.Chtimes("missing.txt", want, want); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("chtimes of a missing file: %v", err)
	}
	e.put("/home/bob/b.txt", []byte("bob's"))
	if err := c.Chtimes("/home/bob/b.txt", want, want); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("chtimes of bob's file: %v", err)
	}
	if e.storedTime("/home/bob/b.txt").Equal(want) {
		t.Fatal("bob's file took alice's time")
	}
}

// A file being written takes a time set on its handle before it is closed
// (an fsetstat: OpenSSH's put -p) once it is stored; a size set on it
// other than what was written gives the upload up.
func TestSFTPSetstatWhileWriting(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	c := e.sftp("alice")
	f, err := c.Create("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(random(100 << 10)); err != nil {
		t.Fatal(err)
	}
	// Truncate on the handle is the fsetstat of a size.
	if err := f.Truncate(100 << 10); err != nil {
		t.Fatalf("the size written: %v", err)
	}
	if err := f.Truncate(10); err == nil || !strings.Contains(err.Error(), "nothing was stored") {
		t.Fatalf("another size: %v", err)
	}
	if err := f.Close(); err == nil {
		t.Fatal("the upload given up closed fine")
	}
	if e.stored("/home/alice/big.bin") != nil {
		t.Fatal("the upload given up was stored")
	}

	// OpenSSH's sftp put -p: the time is set on the handle before close.
	args := e.openSSH(t, "alice")
	src := filepath.Join(t.TempDir(), "kept.txt")
	if err := os.WriteFile(src, []byte("kept times"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2012, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(src, want, want); err != nil {
		t.Fatal(err)
	}
	runOpenSSH(t, args, "put -p "+src+" /home/alice/kept.txt")
	if got := e.storedTime("/home/alice/kept.txt"); !got.Equal(want) {
		t.Fatalf("put -p kept %s, want %s", got, want)
	}
	if got := e.stored("/home/alice/kept.txt"); string(got) != "kept times" {
		t.Fatalf("content %q", got)
	}
}
