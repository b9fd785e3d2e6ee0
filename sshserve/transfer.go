package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"github.com/strata-storage/strata/server/client"
)

// SFTP clients read and write a file in small requests at offsets, several
// at a time, and the request server hands them to its workers, so they
// arrive a little out of order. Reads are served from one download of the
// file at a time, with a window of what was read kept for requests that
// come late; writes become one streaming upload, with writes that come
// early held until their turn.
const (
	// readWindow is how much of a download is kept for late requests,
	// and how far ahead of the download a request may be before the file
	// is opened again at its offset.
	readWindow = 4 << 20
	readChunk  = 256 << 10
	// maxEarlyWrites bounds the writes of one upload held for their turn.
	maxEarlyWrites = 16 << 20
)

// rangeReader reads a file for ReadAt, through the API. Every download
// it opens is of the version the first one read, so a file replaced
// meanwhile is not read half one version and half the other.
type rangeReader struct {
	ctx     context.Context
	c       *client.Client
	path    string
	mu      sync.Mutex
	size    int64
	version int64
	body    io.ReadCloser
	base    int64  // offset of buf[0]
	buf     []byte // what the download has read: [base, base+len(buf))
}

func newRangeReader(ctx context.Context, c *client.Client, path string, size int64) *rangeReader {
	return &rangeReader{ctx: ctx, c: c, path: path, size: size}
}

// ReadAt implements io.ReaderAt.
func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 {
		return 0, statusError(sftp.ErrSSHFxFailure, "negative offset")
	}
	if off >= r.size && r.body != nil || off > r.size {
		return 0, io.EOF
	}
	for {
		end := min(off+int64(len(p)), r.size)
		if r.body != nil && off >= r.base && end <= r.base+int64(len(r.buf)) {
			n := copy(p, r.buf[off-r.base:end-r.base])
			r.trim()
			if n < len(p) {
				return n, io.EOF
			}
			return n, nil
		}
		if r.body == nil || off < r.base || off > r.base+int64(len(r.buf))+readWindow {
			if err := r.open(off); err != nil {
				return 0, err
			}
			if off >= r.size {
				return 0, io.EOF
			}
			continue
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
}

// open starts a download at off.
func (r *rangeReader) open(off int64) error {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	d, err := r.c.Get(r.ctx, r.path, client.GetOptions{Offset: off, Version: r.version})
	if errors.Is(err, client.ErrRange) && off >= r.size {
		return io.EOF
	}
	if err != nil {
		return sftpError(err)
	}
	if r.version == 0 {
		r.version, r.size = d.Version, d.Size
	}
	r.body, r.base, r.buf = d.Body, off, r.buf[:0]
	return nil
}

// fill reads the next chunk of the download.
func (r *rangeReader) fill() error {
	if cap(r.buf)-len(r.buf) < readChunk {
		nb := make([]byte, len(r.buf), len(r.buf)+max(readChunk, len(r.buf)))
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := r.body.Read(r.buf[len(r.buf) : len(r.buf)+readChunk])
	r.buf = r.buf[:len(r.buf)+n]
	if n > 0 {
		return nil
	}
	if errors.Is(err, io.EOF) && r.base+int64(len(r.buf)) < r.size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return sftpError(fmt.Errorf("read %s: %w", r.path, err))
}

// trim forgets what is more than a window behind the end of the download.
func (r *rangeReader) trim() {
	if len(r.buf) <= 2*readWindow {
		return
	}
	drop := len(r.buf) - readWindow
	n := copy(r.buf, r.buf[drop:])
	r.buf = r.buf[:n]
	r.base += int64(drop)
}

// Close implements io.Closer: the request server closes the handle.
func (r *rangeReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.buf = nil
	return nil
}

// uploadWriter turns an SFTP client's writes into one streaming upload
// through the API: nothing is visible until the client closes the file,
// and a file the client does not close whole (a dropped connection, a
// hole) is never stored.
type uploadWriter struct {
	ctx    context.Context // the session's
	c      *client.Client
	path   string
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan struct{}
	err    error // the upload's outcome, once done
	// closed, if set, is called once the file is closed.
	closed func()

	mu     sync.Mutex
	pos    int64
	early  map[int64][]byte
	held   int
	failed error
	// mtime is the file time a setstat asked for while the file was
	// open (zero: none), set once the upload is stored.
	mtime time.Time
}

var (
	_ io.WriterAt        = (*uploadWriter)(nil)
	_ sftp.TransferError = (*uploadWriter)(nil)
)

func newUploadWriter(ctx context.Context, c *client.Client, path string, excl bool) *uploadWriter {
	pr, pw := io.Pipe()
	upCtx, cancel := context.WithCancel(ctx)
	w := &uploadWriter{ctx: ctx, c: c, path: path, pw: pw, cancel: cancel, done: make(chan struct{}), early: map[int64][]byte{}}
	go func() {
		defer close(w.done)
		_, w.err = c.Put(upCtx, path, pr, -1, client.PutOptions{IfNoneMatch: excl})
		pr.CloseWithError(errors.Join(w.err, io.ErrClosedPipe))
	}()
	return w
}

// WriteAt implements io.WriterAt.
func (w *uploadWriter) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return 0, w.failed
	}
	switch {
	case off == w.pos:
		if err := w.write(p); err != nil {
			return 0, err
		}
		for {
			b, ok := w.early[w.pos]
			if !ok {
				break
			}
			delete(w.early, w.pos)
			w.held -= len(b)
			if err := w.write(b); err != nil {
				return 0, err
			}
		}
	case off > w.pos:
		if w.held+len(p) > maxEarlyWrites {
			return 0, w.fail(statusError(sftp.ErrSSHFxFailure,
				"%s: writes more than %d MiB out of order: Strata stores a file written from start to end (nothing was stored)", w.path, maxEarlyWrites>>20))
		}
		if old, ok := w.early[off]; ok {
			w.held -= len(old)
		}
		w.early[off] = append([]byte(nil), p...)
		w.held += len(p)
	default:
		return 0, w.fail(statusError(sftp.ErrSSHFxOpUnsupported,
			"%s: writing again over bytes already written is not supported: upload the file from start to end (nothing was stored)", w.path))
	}
	return len(p), nil
}

// write sends p to the upload, in order.
func (w *uploadWriter) write(p []byte) error {
	if _, err := w.pw.Write(p); err != nil {
		// The upload ended early: the server refused it (its answer is
		// the reason) or it was cancelled.
		<-w.done
		e := sftpError(w.err)
		if w.err == nil {
			e = sftpError(err)
		}
		return w.fail(e)
	}
	w.pos += int64(len(p))
	return nil
}

// fail gives up the upload: nothing is stored.
func (w *uploadWriter) fail(err error) error {
	if w.failed == nil {
		w.failed = err
		w.pw.CloseWithError(err)
		w.cancel()
	}
	return w.failed
}

// TransferError implements sftp.TransferError: the connection failed
// with the file open.
func (w *uploadWriter) TransferError(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fail(statusError(sftp.ErrSSHFxConnectionLost, "%s: the transfer failed (%v): nothing was stored", w.path, err))
}

// setAttrs is a setstat of the file while it is written: a file time to
// set once it is stored, and a size that must be what was written (a
// client that set another would expect what Strata does not store: the
// upload is given up).
func (w *uploadWriter) setAttrs(flags sftp.FileAttrFlags, attrs *sftp.FileStat) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return w.failed
	}
	if flags.Size && (int64(attrs.Size) != w.pos || len(w.early) > 0) {
		return w.fail(statusError(sftp.ErrSSHFxOpUnsupported,
			"%s: setting the size to %d bytes after writing %d is not supported: upload the file whole (nothing was stored)", w.path, attrs.Size, w.pos))
	}
	if flags.Acmodtime {
		w.mtime = time.Unix(int64(attrs.Mtime), 0)
	}
	return nil
}

// Close implements io.Closer: the client closed the file, which is then
// stored whole, or not at all; then it takes the file time a setstat
// asked for meanwhile.
func (w *uploadWriter) Close() error {
	if w.closed != nil {
		defer w.closed()
	}
	w.mu.Lock()
	if w.failed == nil && len(w.early) > 0 {
		w.fail(statusError(sftp.ErrSSHFxFailure, "%s: closed with nothing written at offset %d: nothing was stored", w.path, w.pos))
	}
	failed, mtime := w.failed, w.mtime
	if failed == nil {
		w.pw.Close()
	}
	w.mu.Unlock()
	<-w.done
	w.cancel()
	if failed != nil {
		return failed
	}
	if w.err == nil && !mtime.IsZero() {
		_, err := w.c.SetMTime(w.ctx, w.path, mtime)
		return sftpError(err)
	}
	return sftpError(w.err)
}
