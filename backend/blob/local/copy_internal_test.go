package local

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"testing/iotest"
)

// failingWriter fails its writes from the after-th on.
type failingWriter struct {
	bytes.Buffer
	writes, after int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > w.after {
		return 0, errDiskFull
	}
	return w.Buffer.Write(p)
}

func TestCopyBuffered(t *testing.T) {
	data := make([]byte, 5<<10+123)
	rand.Read(data)
	for _, tc := range []struct {
		name   string
		size   int // of the source
		limit  int64
		buf    int
		writes int // expected
		spares int // expected: a small copy needs none
	}{
		{"fits one buffer", 1000, -1, 1024, 1, 0},
		// A full buffer without a limit cannot know that nothing follows.
		{"exactly one buffer", 1024, -1, 1024, 1, 1},
		{"limit within one buffer", 2000, 1024, 1024, 1, 0},
		{"many buffers", len(data), -1, 1024, 6, 1},
		{"many buffers, limit", len(data), 3000, 1024, 3, 1},
		{"many buffers, exact limit past the end", len(data), int64(len(data)) + 1, 1024, 6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := iotest.HalfReader(bytes.NewReader(data[:tc.size]))
			dst := &failingWriter{after: 1 << 30}
			sum := crc32.New(crc32.MakeTable(crc32.Castagnoli))
			spares := 0
			n, err := copyBuffered(context.Background(), dst, src, tc.limit, sum, make([]byte, tc.buf), func() []byte {
				spares++
				return make([]byte, tc.buf)
			})
			want := data[:tc.size]
			if tc.limit >= 0 && int(tc.limit) < tc.size {
				want = want[:tc.limit]
			}
			if err != nil || n != int64(len(want)) || !bytes.Equal(dst.Bytes(), want) {
				t.Fatalf("copied %d bytes (%v), %d match; want %d", n, err, len(dst.Bytes()), len(want))
			}
			if dst.writes != tc.writes {
				t.Errorf("%d writes, want %d (full buffers)", dst.writes, tc.writes)
			}
			if want := crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)); sum.Sum32() != want {
				t.Error("sum is not of the bytes written, in order")
			}
			if spares != tc.spares {
				t.Errorf("asked for %d spare buffers, want %d", spares, tc.spares)
			}
		})
	}
}

func TestCopyBufferedStopsAtFailedWrite(t *testing.T) {
	data := make([]byte, 64<<10)
	src := &countReader{r: bytes.NewReader(data)}
	dst := &failingWriter{after: 2}
	n, err := copyBuffered(context.Background(), dst, src, -1, nil, make([]byte, 1024), func() []byte { return make([]byte, 1024) })
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want the write's", err)
	}
	if n != 2048 || dst.Len() != 2048 {
		t.Errorf("n = %d, %d written; want the 2 KiB written before the failure", n, dst.Len())
	}
	if dst.writes > 3 {
		t.Errorf("%d writes after the first failed", dst.writes-3)
	}
	// The reader runs at most the two buffers ahead of the failure.
	if src.n > 6<<10 {
		t.Errorf("read %d bytes after a write failed", src.n)
	}
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += k
	return k, err
}

func TestCopyBufferedReturnsReadError(t *testing.T) {
	errBroken := errors.New("connection reset")
	src := io.MultiReader(bytes.NewReader(make([]byte, 3000)), iotest.ErrReader(errBroken))
	dst := &failingWriter{after: 1 << 30}
	_, err := copyBuffered(context.Background(), dst, src, -1, nil, make([]byte, 1024), func() []byte { return make([]byte, 1024) })
	if !errors.Is(err, errBroken) {
		t.Fatalf("err = %v, want the reader's", err)
	}
	if dst.Len() != 3000 {
		t.Errorf("%d bytes written before the error, want 3000 (all writes done when it returns)", dst.Len())
	}
}

func TestCopyBufferedCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := &cancelAfter{r: bytes.NewReader(make([]byte, 10<<10)), after: 2048, cancel: cancel}
	dst := &failingWriter{after: 1 << 30}
	_, err := copyBuffered(ctx, dst, src, -1, nil, make([]byte, 1024), func() []byte { return make([]byte, 1024) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += k
	if c.n >= c.after {
		c.cancel()
	}
	return k, err
}
