package client

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

// limitedWriter takes at most room bytes, then fails.
type limitedWriter struct {
	bytes.Buffer
	room int
}

var errNoRoom = errors.New("no room")

func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > w.room {
		k, _ := w.Buffer.Write(p[:w.room])
		w.room = 0
		return k, errNoRoom
	}
	w.room -= len(p)
	return w.Buffer.Write(p)
}

func TestCopyHashed(t *testing.T) {
	data := make([]byte, 3*copyHashBufSize*copyHashBufs+12345)
	rand.Read(data)
	errCut := errors.New("connection reset")
	all := int64(len(data))
	for _, tc := range []struct {
		name string
		src  io.Reader
		room int   // of dst
		want int   // bytes written and hashed
		err  error // from copyHashed
		size int64 // the hint
	}{
		{"whole, in small reads", iotest.HalfReader(bytes.NewReader(data)), len(data), len(data), nil, all},
		{"whole, one byte at a time at the end", io.MultiReader(bytes.NewReader(data[:len(data)-5]), iotest.OneByteReader(bytes.NewReader(data[len(data)-5:]))), len(data), len(data), nil, all},
		{"empty, hinted large", bytes.NewReader(nil), 0, 0, nil, all},
		// What came before a read error is written: a partial file keeps it.
		{"read error", io.MultiReader(bytes.NewReader(data[:700000]), iotest.ErrReader(errCut)), len(data), 700000, errCut, all},
		{"read error with its last bytes", iotest.DataErrReader(bytes.NewReader(data[:1000])), len(data), 1000, nil, all},
		{"write error", bytes.NewReader(data), 600000, 600000, errNoRoom, all},
		{"size unknown", iotest.HalfReader(bytes.NewReader(data)), len(data), len(data), nil, -1},
		// One buffer on the caller's goroutine.
		{"small", iotest.HalfReader(bytes.NewReader(data[:5000])), len(data), 5000, nil, 5000},
		{"small, exactly a block", bytes.NewReader(data[:4096]), len(data), 4096, nil, 4096},
		{"small, read error", io.MultiReader(bytes.NewReader(data[:3000]), iotest.ErrReader(errCut)), len(data), 3000, errCut, 5000},
		{"small, write error", bytes.NewReader(data[:5000]), 1000, 1000, errNoRoom, 5000},
		// A hint that is wrong costs buffers, never bytes.
		{"more than the hint said", iotest.HalfReader(bytes.NewReader(data)), len(data), len(data), nil, 100},
		{"empty, as hinted", bytes.NewReader(nil), 0, 0, nil, 0},
		{"ends on a buffer's end", bytes.NewReader(data[:2*copyHashBufSize]), len(data), 2 * copyHashBufSize, nil, 2 * copyHashBufSize},
		{"ends on a buffer's end, size unknown", iotest.HalfReader(bytes.NewReader(data[:2*copyHashBufSize])), len(data), 2 * copyHashBufSize, nil, -1},
		// Buffers are in flight behind the one that fails.
		{"write error after buffers", bytes.NewReader(data), 5*copyHashBufSize + 100, 5*copyHashBufSize + 100, errNoRoom, all},
		{"write error on a buffer's end", bytes.NewReader(data), 3 * copyHashBufSize, 3 * copyHashBufSize, errNoRoom, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := &limitedWriter{room: tc.room}
			h := sha256.New()
			n, err := copyHashed(dst, h, tc.src, tc.size)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if n != int64(tc.want) || !bytes.Equal(dst.Bytes(), data[:tc.want]) {
				t.Fatalf("copied %d bytes, %d in dst; want %d", n, dst.Len(), tc.want)
			}
			if want := sha256.Sum256(data[:tc.want]); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Error("the hash is not of the bytes written, in order")
			}
		})
	}
}

// TestCopyHashedSmallTakesLittle: a small file's download takes a buffer
// of its size, not the large copy's megabytes (a -r download of many small
// files would allocate those for each).
func TestCopyHashedSmallTakesLittle(t *testing.T) {
	data := make([]byte, 4000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := copyHashed(io.Discard, sha256.New(), bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// The large copy's buffers would be 100 MiB at least; the small ones
	// are 800 KiB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 20<<20 {
		t.Errorf("100 copies of 4,000 bytes allocated %d bytes", got)
	}
}

// shortWriter takes half of each write and says nothing of the rest.
type shortWriter struct{ bytes.Buffer }

func (w *shortWriter) Write(p []byte) (int, error) { return w.Buffer.Write(p[:len(p)/2]) }

// TestCopyHashedShortWrite: a write that takes less than it was given
// without an error fails the copy (io.ErrShortWrite), and the hash is of
// what it took.
func TestCopyHashedShortWrite(t *testing.T) {
	data := make([]byte, 3*copyHashBufSize)
	rand.Read(data)
	for _, size := range []int64{int64(len(data)), 5000} {
		dst := &shortWriter{}
		h := sha256.New()
		n, err := copyHashed(dst, h, bytes.NewReader(data[:min(size, int64(len(data)))]), size)
		if !errors.Is(err, io.ErrShortWrite) {
			t.Fatalf("size %d: err %v, want io.ErrShortWrite", size, err)
		}
		if n != int64(dst.Len()) || !bytes.Equal(dst.Bytes(), data[:dst.Len()]) {
			t.Fatalf("size %d: %d bytes said written, %d in dst", size, n, dst.Len())
		}
		if want := sha256.Sum256(dst.Bytes()); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("size %d: the hash is not of the bytes written", size)
		}
	}
}
