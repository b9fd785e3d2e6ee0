package local

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// skipWithoutDirectIO skips a test on a file system that refuses O_DIRECT.
func skipWithoutDirectIO(t *testing.T, dir string) {
	t.Helper()
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := setDirect(f, true); err != nil {
		t.Skipf("no direct I/O in %s: %v", dir, err)
	}
}

// residentPages counts the pages of the file at path in the page cache.
func residentPages(t *testing.T, path string) (resident, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec)
}

// TestBigObjectsBypassPageCache: the whole blocks of a big object are
// written past the page cache (only its tail may be left there), and read
// back whole, from a Put and from a part.
func TestBigObjectsBypassPageCache(t *testing.T) {
	dir := t.TempDir()
	skipWithoutDirectIO(t, dir)
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("on tmpfs the page cache is where files are stored")
	}
	s := openStore(t, dir)
	ctx := t.Context()
	data := randomBytes(4<<20+100, 1)
	if err := s.Put(ctx, "big", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "big"); !bytes.Equal(got, data) {
		t.Fatal("Put: read back other bytes")
	}
	// Read back, it is in the page cache now; count a fresh one.
	if err := s.Put(ctx, "big2", bytes.NewReader(data), -1); err != nil {
		t.Fatal(err)
	}
	resident, total := residentPages(t, filepath.Join(dir, objectPath("big2")))
	if resident > 1 {
		t.Errorf("%d of the %d pages of a new object are in the page cache, want the tail's at most", resident, total)
	}
	if got := get(t, s, "big2"); !bytes.Equal(got, data) {
		t.Fatal("Put of unknown size: read back other bytes")
	}
}

// TestDirectWriterAnyWrites: whatever the writes (whole blocks, a buffer
// not aligned in memory, a tail, more after a tail), the file holds exactly
// the bytes written.
func TestDirectWriterAnyWrites(t *testing.T) {
	dir := t.TempDir()
	skipWithoutDirectIO(t, dir)
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &directWriter{f: f}
	buf := alignedBuffer(bufSize + directAlign)
	var want []byte
	write := func(p []byte) {
		t.Helper()
		copy(p, randomBytes(len(p), uint64(len(want))))
		n, err := w.Write(p)
		if err != nil || n != len(p) {
			t.Fatalf("Write(%d bytes): %d, %v", len(p), n, err)
		}
		want = append(want, p...)
	}
	write(buf[:bufSize])
	if w.state != directOn {
		t.Fatalf("after a whole aligned buffer: state %d, want direct", w.state)
	}
	write(buf[:bufSize+100])  // whole blocks, then a tail through the page cache
	write(buf[1 : bufSize+1]) // after the tail: through the page cache
	write(buf[:10])
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(want))
	}

	// A buffer not aligned in memory is never written directly.
	g, err := os.Create(filepath.Join(dir, "g"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	w = &directWriter{f: g}
	if _, err := w.Write(buf[1 : bufSize+1]); err != nil || w.state != directUntried {
		t.Fatalf("unaligned buffer: %v, state %d", err, w.state)
	}
}
