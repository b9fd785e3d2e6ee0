package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// directSupported reports whether dir's file system takes O_DIRECT.
func directSupported(t *testing.T, dir string) bool {
	t.Helper()
	fd, err := unix.Open(filepath.Join(dir, "probe"), unix.O_WRONLY|unix.O_CREAT|unix.O_DIRECT, 0o600)
	if err != nil {
		t.Logf("%s does not take O_DIRECT (%v): checking the bytes only", dir, err)
		return false
	}
	unix.Close(fd)
	return true
}

func isDirect(t *testing.T, f *os.File) bool {
	t.Helper()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return flags&unix.O_DIRECT != 0
}

func TestDirectWriter(t *testing.T) {
	mib := alignedBuffer(1 << 20)
	rand.Read(mib)
	small := make([]byte, 1000)
	rand.Read(small)
	// A whole MiB (length and offset aligned) at an address that is not.
	offAddr := alignedBuffer(2 << 20)[512 : 512+1<<20]
	rand.Read(offAddr)
	for _, tc := range []struct {
		name   string
		writes [][]byte
		direct []bool // O_DIRECT set after each write (where supported)
	}{
		{"blocks then a tail", [][]byte{mib, mib, small}, []bool{true, true, false}},
		{"a tail of whole blocks", [][]byte{mib, mib[:8192]}, []bool{true, false}},
		{"unaligned offset", [][]byte{small, mib}, []bool{false, false}},
		{"unaligned address", [][]byte{offAddr, mib}, []bool{false, true}},
		{"a tail of 256 KiB is written direct", [][]byte{mib, mib[:256<<10], small}, []bool{true, true, false}},
		{"back to blocks after a tail is not possible", [][]byte{mib, small, mib}, []bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			supported := directSupported(t, dir)
			f, err := os.Create(filepath.Join(dir, "f"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			refused := new(atomic.Bool)
			w := newDirectWriter(f, refused)
			var want bytes.Buffer
			for i, p := range tc.writes {
				n, err := w.Write(p)
				if err != nil || n != len(p) {
					t.Fatalf("write %d: %d, %v", i, n, err)
				}
				want.Write(p)
				if got := isDirect(t, f); supported && got != tc.direct[i] {
					t.Errorf("after write %d: O_DIRECT %v, want %v", i, got, tc.direct[i])
				}
			}
			if refused.Load() {
				t.Error("the writer gave up O_DIRECT")
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("file has %d bytes, not the %d written", len(got), want.Len())
			}
		})
	}
}

// TestDirectWriterRefusedStore: once a file of the store refused O_DIRECT,
// its other files do not try.
func TestDirectWriterRefusedStore(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	refused := new(atomic.Bool)
	refused.Store(true)
	mib := alignedBuffer(1 << 20)
	if _, err := newDirectWriter(f, refused).Write(mib); err != nil {
		t.Fatal(err)
	}
	if isDirect(t, f) {
		t.Error("O_DIRECT set on a file of a store that gave it up")
	}
}

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
	if got := cachedPages(t, path); got > 2 {
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
	if got := cachedPages(t, control); got < len(data)/os.Getpagesize()/2 {
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

// cachedPages counts the pages of the file at path in the page cache.
func cachedPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

func TestAlignedBuffer(t *testing.T) {
	for _, n := range []int{4096, 1 << 20, 3} {
		b := alignedBuffer(n)
		if len(b) != n || cap(b) != n || !aligned(b) {
			t.Errorf("alignedBuffer(%d): len %d cap %d aligned %v", n, len(b), cap(b), aligned(b))
		}
	}
}

// TestDirectOnlyOnDiskFileSystems: tmpfs, like any file system but ext4
// and XFS, is written through the page cache.
func TestDirectOnlyOnDiskFileSystems(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "strata-direct-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(dir)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.direct {
		t.Error("a store on tmpfs writes with O_DIRECT")
	}
}
