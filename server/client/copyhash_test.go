package client

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
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
	for _, tc := range []struct {
		name string
		src  io.Reader
		room int   // of dst
		want int   // bytes written and hashed
		err  error // from CopyHashed
	}{
		{"whole, in small reads", iotest.HalfReader(bytes.NewReader(data)), len(data), len(data), nil},
		{"whole, one byte at a time at the end", io.MultiReader(bytes.NewReader(data[:len(data)-5]), iotest.OneByteReader(bytes.NewReader(data[len(data)-5:]))), len(data), len(data), nil},
		{"empty", bytes.NewReader(nil), 0, 0, nil},
		// What came before a read error is written: a partial file keeps it.
		{"read error", io.MultiReader(bytes.NewReader(data[:700000]), iotest.ErrReader(errCut)), len(data), 700000, errCut},
		{"read error with its last bytes", iotest.DataErrReader(bytes.NewReader(data[:1000])), len(data), 1000, nil},
		{"write error", bytes.NewReader(data), 600000, 600000, errNoRoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := &limitedWriter{room: tc.room}
			h := sha256.New()
			n, err := CopyHashed(dst, h, tc.src)
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
