package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-storage/strata/internal/directio"
	"github.com/strata-storage/strata/internal/directio/directiotest"
	"github.com/strata-storage/strata/server/client"
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
	dest, content := uploadAndDownload(t, dir, 9<<20+123)
	if got := directiotest.CachedPages(t, dest); got > 2 {
		t.Errorf("%d pages of the download are in the page cache, want at most its tail", got)
	}
	checkFile(t, dest, content)
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
	dest, content := uploadAndDownload(t, directiotest.TmpfsDir(t), 3<<20+5)
	checkFile(t, dest, content)
}

// uploadAndDownload puts size random bytes into a new server and downloads
// them into dir with DownloadFile: the local file and the bytes.
func uploadAndDownload(t *testing.T, dir string, size int) (string, []byte) {
	t.Helper()
	s := startServer(t, t.TempDir())
	c := s.client(t, adminToken)
	content := randomBytes(size, 5)
	if _, err := c.Put(bg(), "/home/admin/f.bin", bytes.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "f.bin")
	if _, err := c.DownloadFile(bg(), "/home/admin/f.bin", dest, client.DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	return dest, content
}

// checkFile fails the test unless the file at path holds want.
func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("the download differs")
	}
}
