package client

import (
	"hash"
	"io"

	"github.com/strata-storage/strata/internal/directio"
)

// copyHashBufs buffers of copyHashBufSize each are in flight in CopyHashed:
// enough for the writes and the hash to lag a few reads behind without
// stalling them. The buffers are aligned, and as large as a direct write
// needs to go at the disk's pace (directio).
const (
	copyHashBufs    = 4
	copyHashBufSize = 1 << 20
)

// CopyHashed copies src to dst, as io.Copy does, and feeds h the same bytes.
// The writes and the hashing each run on a goroutine of their own: a
// download verifies the SHA-256 of every byte it receives, which costs more
// CPU than receiving them, and a direct write waits for the disk; done in
// turn on one goroutine, the three bound a download to one core at a time.
// When it returns, h has been fed exactly the bytes written to dst, in
// order.
//
// A read error ends the copy once the bytes read before it are written, so
// that a partial file keeps all it received; a write error ends it at once.
func CopyHashed(dst io.Writer, h hash.Hash, src io.Reader) (int64, error) {
	free := make(chan []byte, copyHashBufs)
	for range copyHashBufs {
		free <- directio.Buffer(copyHashBufSize)
	}
	toWrite := make(chan []byte, copyHashBufs)
	toHash := make(chan []byte, copyHashBufs)
	failed := make(chan struct{})
	hashed := make(chan struct{})
	var written int64
	var werr error // the first write's error; read once hashed is closed
	go func() {
		defer close(toHash)
		for p := range toWrite {
			if werr != nil {
				free <- p[:cap(p)]
				continue
			}
			w, err := dst.Write(p)
			if err == nil && w < len(p) {
				err = io.ErrShortWrite
			}
			if w > 0 {
				written += int64(w)
				toHash <- p[:w]
			} else {
				free <- p[:cap(p)]
			}
			if err != nil {
				werr = err
				close(failed)
			}
		}
	}()
	go func() {
		defer close(hashed)
		for p := range toHash {
			h.Write(p)
			free <- p[:cap(p)]
		}
	}()

	var rerr error
	for rerr == nil {
		p := takeFree(free, failed)
		if p == nil {
			break
		}
		// Fill the buffer before handing it on: a network body comes in
		// pieces, and each buffer is one write and one hand-over.
		m := 0
		for m < len(p) && rerr == nil {
			var k int
			k, rerr = src.Read(p[m:])
			m += k
		}
		if m > 0 {
			toWrite <- p[:m]
		} else {
			free <- p
		}
	}
	close(toWrite)
	<-hashed
	switch {
	case werr != nil:
		return written, werr
	case rerr == io.EOF:
		return written, nil
	}
	return written, rerr
}

// takeFree is a buffer to fill, once one is free; nil once a write failed.
// The failure is looked at first: a select picking at random between the
// two could read on for another buffer.
func takeFree(free chan []byte, failed chan struct{}) []byte {
	select {
	case <-failed:
		return nil
	default:
	}
	select {
	case p := <-free:
		return p
	case <-failed:
		return nil
	}
}
