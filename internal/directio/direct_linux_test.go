package directio

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/strata-storage/strata/internal/directio/directiotest"
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
	mib := Buffer(1 << 20)
	rand.Read(mib)
	small := make([]byte, 1000)
	rand.Read(small)
	// A whole MiB (length and offset aligned) at an address that is not.
	offAddr := Buffer(2 << 20)[512 : 512+1<<20]
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
			w := NewWriter(f, 0, refused)
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

// TestDirectWriterFromAnOffset: a writer that continues a file (a resumed
// download) writes direct from an aligned offset, and through the page
// cache from one that is not.
func TestDirectWriterFromAnOffset(t *testing.T) {
	mib := Buffer(1 << 20)
	rand.Read(mib)
	for _, tc := range []struct {
		name   string
		before int // bytes in the file already
		direct bool
	}{
		{"aligned", 8192, true},
		{"not aligned", 1000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			supported := directSupported(t, dir)
			head := make([]byte, tc.before)
			rand.Read(head)
			name := filepath.Join(dir, "f")
			if err := os.WriteFile(name, head, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(name, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(int64(tc.before), 0); err != nil {
				t.Fatal(err)
			}
			w := NewWriter(f, int64(tc.before), new(atomic.Bool))
			if n, err := w.Write(mib); err != nil || n != len(mib) {
				t.Fatalf("write: %d, %v", n, err)
			}
			if got := isDirect(t, f); supported && got != tc.direct {
				t.Errorf("O_DIRECT %v, want %v", got, tc.direct)
			}
			got, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append(head, mib...)) {
				t.Fatalf("file has %d bytes, not the %d written", len(got), len(head)+len(mib))
			}
		})
	}
}

// TestDirectWriterRefused: once a file refused O_DIRECT, the others sharing
// its flag do not try.
func TestDirectWriterRefused(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	refused := new(atomic.Bool)
	refused.Store(true)
	mib := Buffer(1 << 20)
	if _, err := NewWriter(f, 0, refused).Write(mib); err != nil {
		t.Fatal(err)
	}
	if isDirect(t, f) {
		t.Error("O_DIRECT set on a file whose store gave it up")
	}
}

func TestBuffer(t *testing.T) {
	for _, n := range []int{4096, 1 << 20, 3} {
		b := Buffer(n)
		if len(b) != n || cap(b) != n || !aligned(b) {
			t.Errorf("Buffer(%d): len %d cap %d aligned %v", n, len(b), cap(b), aligned(b))
		}
	}
}

// TestSupportedOnlyOnDiskFileSystems: tmpfs, like any file system but ext4
// and XFS, is written through the page cache.
func TestSupportedOnlyOnDiskFileSystems(t *testing.T) {
	f, err := os.Open(directiotest.TmpfsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Supported(f) {
		t.Error("tmpfs is said to take direct writes")
	}
}
