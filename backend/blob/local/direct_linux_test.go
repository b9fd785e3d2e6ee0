package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-storage/strata/internal/directio/directiotest"
)

// TestPutWritesAroundThePageCache: a large object's blocks go straight to
// the disk. Checked by what is left in the page cache: a file written
// through it is all there until written back and evicted.
func TestPutWritesAroundThePageCache(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.direct {
		t.Skip("the test directory is not on ext4 or XFS")
	}
	data := make([]byte, 8<<20+5)
	rand.Read(data)
	ctx := context.Background()
	if err := s.Put(ctx, "big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, objectsDir, shard("big"), "big")
	if got := directiotest.CachedPages(t, path); got > 2 {
		// Also where ext4 does direct I/O through the page cache all the
		// same (data=journal, encrypted directories, DAX).
		t.Errorf("%d pages of the object are in the page cache, want at most its tail", got)
	}
	// The control: the same bytes written through the page cache are
	// there, so mincore is not blind.
	control := filepath.Join(dir, "control")
	if err := os.WriteFile(control, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := directiotest.CachedPages(t, control); got < len(data)/os.Getpagesize()/2 {
		t.Fatalf("only %d pages of a file just written are in the page cache: mincore tells nothing here", got)
	}
	r, err := s.Get(ctx, "big", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("read back differs")
	}
}

// TestDirectOnlyOnDiskFileSystems: tmpfs, like any file system but ext4
// and XFS, is written through the page cache.
func TestDirectOnlyOnDiskFileSystems(t *testing.T) {
	s, err := Open(directiotest.TmpfsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.direct {
		t.Error("a store on tmpfs writes with O_DIRECT")
	}
}
