package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-storage/strata/internal/directio"
	"github.com/strata-storage/strata/internal/directio/directiotest"
	"github.com/strata-storage/strata/server/client"
	"golang.org/x/sys/unix"
)

// TestDownloadAroundThePageCache: on ext4 or XFS a download's blocks go
// straight to the disk, and the file is whole and verified all the same.
func TestDownloadAroundThePageCache(t *testing.T) {
	dir := t.TempDir()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	supported := directio.Supported(d)
	d.Close()
	if !supported {
		t.Skip("the test directory is not on ext4 or XFS")
	}
	s := startServer(t, t.TempDir())
	c := s.client(t, adminToken)
	content := randomBytes(9<<20+123, 5)
	if _, err := c.Put(bg(), "/home/admin/big.bin", bytes.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "big.bin")
	if _, err := c.DownloadFile(bg(), "/home/admin/big.bin", dest, client.DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := directiotest.CachedPages(t, dest); got > 2 {
		t.Errorf("%d pages of the download are in the page cache, want at most its tail", got)
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, content) {
		t.Fatal("the download differs")
	}
	// The control: a file written through the page cache is there, so
	// mincore is not blind.
	control := filepath.Join(dir, "control")
	if err := os.WriteFile(control, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := directiotest.CachedPages(t, control); got < len(content)/os.Getpagesize()/2 {
		t.Fatalf("only %d pages of a file just written are in the page cache: mincore tells nothing here", got)
	}
}

// TestDownloadToTmpfs: where the destination's file system is not one for
// direct writes (tmpfs), a download goes through the page cache, whole and
// verified.
func TestDownloadToTmpfs(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "strata-download-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	s := startServer(t, t.TempDir())
	c := s.client(t, adminToken)
	content := randomBytes(3<<20+5, 6)
	if _, err := c.Put(bg(), "/home/admin/f.bin", bytes.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "f.bin")
	if _, err := c.DownloadFile(bg(), "/home/admin/f.bin", dest, client.DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, content) {
		t.Fatal("the download differs")
	}
}
