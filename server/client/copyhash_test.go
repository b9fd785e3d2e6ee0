package client

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
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

// TestWriteVerified: a whole file's download is written as it comes and
// checked once it ends: the bytes all reach w whatever the outcome, a
// wrong digest or a short body is an error, and a body cut by the network
// ends it with the bytes before the cut written.
func TestWriteVerified(t *testing.T) {
	data := make([]byte, 5*streamBufSize+777)
	rand.Read(data)
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	errCut := errors.New("connection reset")
	for _, tc := range []struct {
		name    string
		body    io.Reader
		size    int64
		sha     string
		partial bool
		want    int // bytes written
		check   func(error) bool
	}{
		{"Good", iotest.HalfReader(bytes.NewReader(data)), int64(len(data)), good, false, len(data), func(err error) bool { return err == nil }},
		{"WrongDigest", bytes.NewReader(data), int64(len(data)), strings.Repeat("0", 64), false, len(data), func(err error) bool { return errors.Is(err, ErrDigestMismatch) }},
		{"Short", bytes.NewReader(data[:1000]), int64(len(data)), good, false, 1000, func(err error) bool { return err != nil && strings.Contains(err.Error(), "got 1000 of") }},
		{"Cut", io.MultiReader(bytes.NewReader(data[:3*streamBufSize]), iotest.ErrReader(errCut)), int64(len(data)), good, false, 3 * streamBufSize, func(err error) bool { return errors.Is(err, errCut) }},
		{"Partial", bytes.NewReader(data), int64(len(data)), good, true, 0, func(err error) bool { return err != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Download{Body: io.NopCloser(tc.body), Size: tc.size, Length: tc.size, SHA256: tc.sha, Partial: tc.partial}
			var w bytes.Buffer
			n, err := d.WriteVerified(&w)
			if !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if n != int64(tc.want) || !bytes.Equal(w.Bytes(), data[:tc.want]) {
				t.Fatalf("wrote %d bytes (n %d), want the first %d", w.Len(), n, tc.want)
			}
		})
	}
}

// TestWriteVerifiedStreams: bytes reach w as they come, not once a
// buffer is full (strata cat of a slow stream shows what has come).
func TestWriteVerifiedStreams(t *testing.T) {
	pr, pw := io.Pipe()
	got := make(chan []byte, 1)
	w := writerFunc(func(p []byte) (int, error) {
		got <- append([]byte(nil), p...)
		return len(p), nil
	})
	d := &Download{Body: pr, Size: 3, Length: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
	done := make(chan error, 1)
	go func() {
		_, err := d.WriteVerified(w)
		done <- err
	}()
	if _, err := pw.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if string(p) != "ab" {
			t.Fatalf("wrote %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first bytes were held back")
	}
	pw.Write([]byte("c"))
	pw.Close()
	if p := <-got; string(p) != "c" {
		t.Fatalf("wrote %q", p)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
