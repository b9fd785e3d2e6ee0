package client

import (
	"hash"
	"io"

	"github.com/strata-storage/strata/internal/directio"
)

// Up to copyHashBufs buffers of copyHashBufSize each are in flight in
// copyHashed: enough for the writes and the hash to lag a few reads behind
// without stalling them. The buffers are aligned, and as large as a direct
// write needs to go at the disk's pace (directio).
const (
	copyHashBufs    = 4
	copyHashBufSize = 1 << 20
)

// copyHashed copies src to dst, as io.Copy does, and feeds h the same bytes.
// size is how many bytes src is expected to hold, or -1 if unknown.
//
// The writes and the hashing each run on a goroutine of their own: a
// download verifies the SHA-256 of every byte it receives, which costs more
// CPU than receiving them, and a direct write waits for the disk; done in
// turn on one goroutine, the three bound a download to one core at a time.
// A copy expected to fit one buffer is done on the caller's goroutine, in a
// buffer of its size: a small file's download gains nothing from the
// goroutines and would pay for the buffers. When it returns, h has been fed
// exactly the bytes written to dst, in order.
//
// A read error ends the copy once the bytes read before it are written, so
// that a partial file keeps all it received; a write error ends it once the
// read in progress returns (nothing more is written).
func copyHashed(dst io.Writer, h hash.Hash, src io.Reader, size int64) (int64, error) {
	if size >= 0 && size < copyHashBufSize {
		// One byte more than expected, to see the end in the same read.
		return copySmall(dst, h, src, directio.Buffer(int(size+1+directio.Align-1)&^(directio.Align-1)))
	}
	return copyBeside(dst, h, src, copyHashBufs, func() []byte { return directio.Buffer(copyHashBufSize) }, fill)
}

// streamHashed is copyHashed for a stream read by someone as it comes
// (strata cat): each read is handed to dst at once, however short, where
// copyHashed fills a buffer first.
func streamHashed(dst io.Writer, h hash.Hash, src io.Reader) (int64, error) {
	return copyBeside(dst, h, src, streamBufs, func() []byte { return make([]byte, streamBufSize) }, readSome)
}

// Eight buffers of 256 KiB for streamHashed: a read from a connection
// seldom fills one.
const (
	streamBufs    = 8
	streamBufSize = 256 << 10
)

// copyBeside is copyHashed's pipeline: up to bufs buffers from alloc, each
// filled by read on the caller's goroutine, then written and then hashed
// on a goroutine each.
func copyBeside(dst io.Writer, h hash.Hash, src io.Reader, bufs int, alloc func() []byte, read func(io.Reader, []byte) (int, error)) (int64, error) {
	free := make(chan []byte, bufs)
	allocated := 0
	toWrite := make(chan []byte, bufs)
	toHash := make(chan []byte, bufs)
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

	// next is a buffer to fill: a free one, else a new one while fewer
	// than bufs are in use, else the first to come free; nil once
	// a write failed. The failure is looked at first: a select picking at
	// random could read on for another buffer.
	next := func() []byte {
		select {
		case <-failed:
			return nil
		default:
		}
		select {
		case p := <-free:
			return p
		default:
		}
		if allocated < bufs {
			allocated++
			return alloc()
		}
		select {
		case p := <-free:
			return p
		case <-failed:
			return nil
		}
	}
	var rerr error
	for rerr == nil {
		p := next()
		if p == nil {
			break
		}
		var m int
		m, rerr = read(src, p)
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

// copySmall is copyHashed in one buffer, p, on the caller's goroutine.
func copySmall(dst io.Writer, h hash.Hash, src io.Reader, p []byte) (int64, error) {
	var n int64
	for {
		m, rerr := fill(src, p)
		if m > 0 {
			w, err := dst.Write(p[:m])
			if err == nil && w < m {
				err = io.ErrShortWrite
			}
			h.Write(p[:w])
			n += int64(w)
			if err != nil {
				return n, err
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// readSome reads into p until it holds a byte or src ends or fails (or
// keeps returning nothing, as bufio gives up on such a reader).
func readSome(src io.Reader, p []byte) (int, error) {
	for range 100 {
		n, err := src.Read(p)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// fill reads into p until it is full or src ends or fails: a network body
// comes in pieces, and each buffer is one write.
func fill(src io.Reader, p []byte) (int, error) {
	m := 0
	for m < len(p) {
		k, err := src.Read(p[m:])
		m += k
		if err != nil {
			return m, err
		}
	}
	return m, nil
}
