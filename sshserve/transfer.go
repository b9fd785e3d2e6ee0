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
	// maxFreeChunks bounds the dropped chunks kept for reuse.
	maxFreeChunks = 8
	// maxEarlyWrites bounds the writes of one upload held for their turn.
	maxEarlyWrites = 16 << 20
)

// rangeReader reads a file for ReadAt, through the API. Every download
// it opens is of the version the first one read, so a file replaced
// meanwhile is not read half one version and half the other.
//
// A request for what comes next in the download (most of them: OpenSSH
// asks in order) is read straight into its buffer. A request that comes
// early makes the download read ahead to it, and what it reads on the way
// is kept, in chunks of readChunk tagged with their offset, for the
// requests that come after it; the chunks more than a window behind the
// download are dropped whole, without moving bytes.
type rangeReader struct {
	ctx     context.Context
	c       *client.Client
	path    string
	mu      sync.Mutex
	size    int64
	version int64
	body    io.ReadCloser
	pos     int64       // where the download is
	chunks  []keptChunk // by offset, all before pos; holes between them
	free    [][]byte    // chunks dropped, for reuse
}

// keptChunk is what a download read at off, kept for requests.
type keptChunk struct {
	off int64
	b   []byte
}

// end is the offset just past the chunk's bytes.
func (c keptChunk) end() int64 { return c.off + int64(len(c.b)) }

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
	end := min(off+int64(len(p)), r.size)
	if r.body != nil && off < r.pos && !r.kept(off, min(end, r.pos)) {
		// It comes so late that what it asks for was handed to another
		// request: a download of its own, beside the one under way
		// (starting that one again here would leave the requests after
		// it waiting for it to come back).
		version := r.version
		r.mu.Unlock()
		n, err := r.readRange(p[:end-off], off, version)
		r.mu.Lock()
		if err == nil && n < len(p) {
			err = io.EOF
		}
		return n, err
	}
	if r.body == nil || off > r.pos+readWindow {
		// Too far ahead to read to. The first download starts at the
		// start unless the request is far from it: the client's first
		// requests are for the start, whichever of them comes first.
		at := off
		if r.body == nil && r.version == 0 && off <= readWindow {
			at = 0
		}
		if err := r.open(at); err != nil {
			return 0, err
		}
		if off >= r.size {
			return 0, io.EOF
		}
		end = min(off+int64(len(p)), r.size)
	}
	// What comes before the download's position was kept; what comes
	// after it is read: up to the request kept for others, the request
	// itself straight into p.
	n := 0
	if off < r.pos {
		n = r.copyOut(p[:min(end, r.pos)-off], off)
	}
	for r.pos < off {
		if err := r.fill(off); err != nil {
			return 0, err
		}
	}
	if off+int64(n) < end {
		k, err := r.readNext(p[n : end-off])
		if err != nil {
			return 0, err
		}
		n += k
	}
	r.trim()
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// kept says whether the chunks hold all of off to end.
func (r *rangeReader) kept(off, end int64) bool {
	for _, c := range r.chunks {
		if off >= end {
			break
		}
		if c.off > off {
			return false // a hole
		}
		off = max(off, c.end())
	}
	return off >= end
}

// copyOut copies what is kept from off on into p (all of it is kept).
func (r *rangeReader) copyOut(p []byte, off int64) int {
	n := 0
	for _, c := range r.chunks {
		if n == len(p) {
			break
		}
		if at := off + int64(n) - c.off; at >= 0 && at < int64(len(c.b)) {
			n += copy(p[n:], c.b[at:])
		}
	}
	return n
}

// readNext reads the next len(p) bytes of the download into p.
func (r *rangeReader) readNext(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := r.body.Read(p[n:])
		n += k
		if k > 0 {
			continue
		}
		// An EOF here is before the end of the file; what was read is in
		// no one's hands.
		return 0, r.broken(err, true)
	}
	r.pos += int64(n)
	return n, nil
}

// readRange reads len(p) bytes at off of the file's version into p, in a
// download of its own.
func (r *rangeReader) readRange(p []byte, off, version int64) (int, error) {
	d, err := r.c.Get(r.ctx, r.path, client.GetOptions{Offset: off, Length: int64(len(p)), Version: version})
	if err != nil {
		return 0, sftpError(err)
	}
	defer d.Body.Close()
	n, err := io.ReadFull(d.Body, p)
	if err != nil {
		return 0, sftpError(fmt.Errorf("read %s: %w", r.path, err))
	}
	return n, nil
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
	r.drop(len(r.chunks))
	r.body, r.pos = d.Body, off
	return nil
}

// fill reads more of the download into the chunks, up to until at most.
//
// A chunk is as large as the gap it fills, up to readChunk: requests that
// come in swapped pairs leave a gap of one request each, and a full chunk
// for each would hold several times the window.
func (r *rangeReader) fill(until int64) error {
	last := len(r.chunks) - 1
	if last < 0 || len(r.chunks[last].b) == cap(r.chunks[last].b) || r.chunks[last].end() != r.pos {
		r.chunks = append(r.chunks, keptChunk{off: r.pos, b: r.chunkFor(int(min(until-r.pos, readChunk)))})
		last = len(r.chunks) - 1
	}
	c := &r.chunks[last]
	n, err := r.body.Read(c.b[len(c.b):min(cap(c.b), len(c.b)+int(until-r.pos))])
	c.b = c.b[:len(c.b)+n]
	r.pos += int64(n)
	if n > 0 {
		return nil
	}
	return r.broken(err, r.pos < r.size)
}

// broken gives the download up after a read that got nothing: err, or no
// progress if nil; an EOF short of the file's end is unexpected. The next
// request opens the file again.
func (r *rangeReader) broken(err error, short bool) error {
	if errors.Is(err, io.EOF) && short {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	r.body.Close()
	r.body = nil
	return sftpError(fmt.Errorf("read %s: %w", r.path, err))
}

// chunkFor is an empty chunk for n bytes: a dropped one of that size at
// most twice over, or a new one.
func (r *rangeReader) chunkFor(n int) []byte {
	for i := len(r.free) - 1; i >= 0; i-- {
		if b := r.free[i]; cap(b) >= n && cap(b) <= 2*n {
			r.free = append(r.free[:i], r.free[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

// trim forgets the chunks that end more than a window behind the
// download.
func (r *rangeReader) trim() {
	n := 0
	for n < len(r.chunks) && r.chunks[n].end() <= r.pos-readWindow {
		n++
	}
	r.drop(n)
}

// drop forgets the first n chunks.
func (r *rangeReader) drop(n int) {
	for _, c := range r.chunks[:n] {
		if len(r.free) < maxFreeChunks {
			r.free = append(r.free, c.b)
		}
	}
	clear(r.chunks[:n])
	r.chunks = r.chunks[n:]
}

// Close implements io.Closer: the request server closes the handle.
func (r *rangeReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.chunks, r.free = nil, nil
	return nil
}

// uploadWriter turns an SFTP client's writes into one streaming upload
// through the API: nothing is visible until the client closes the file,
// and a file the client does not close whole (a dropped connection, a
// hole) is never stored.
//
// The writes (32 KiB each from OpenSSH) are gathered in blocks of
// uploadBlock, and the upload's body hands the API one block at a time, so
// the request goes out in chunks of a block, not of a write: a sixteenth
// of the chunks, system calls and hand-overs between goroutines that a
// pipe of the writes took.
type uploadWriter struct {
	ctx    context.Context // the session's
	c      *client.Client
	path   string
	cancel context.CancelFunc
	done   chan struct{}
	err    error // the upload's outcome, once done
	// onClose, if set, is called once the file is closed.
	onClose func()
	// settled is closed when Close is done.
	settled    chan struct{}
	settleOnce sync.Once

	mu     sync.Mutex
	moved  sync.Cond // a block was queued or taken, or the upload ended
	pos    int64     // bytes written in order so far
	block  []byte    // the block being filled
	queue  [][]byte  // full blocks the upload has not taken yet
	spare  [][]byte  // blocks the upload is done with
	closed bool      // the client closed the file: the queue is all
	ended  bool      // the upload returned (err is its outcome)
	early  map[int64][]byte
	// earlySpare are buffers of early writes done with, for reuse.
	earlySpare [][]byte
	held       int
	failed     error
	// mtime is the file time a setstat asked for while the file was
	// open (zero: none), set once the upload is stored.
	mtime time.Time
}

var (
	_ io.WriterAt        = (*uploadWriter)(nil)
	_ sftp.TransferError = (*uploadWriter)(nil)
	_ io.WriterTo        = (*uploadBody)(nil)
)

// errUploadEnded: the upload's request ended before the file did.
var errUploadEnded = errors.New("the upload ended before the file was closed")

const (
	// uploadBlock is what an SFTP upload is sent to the API in.
	uploadBlock = 512 << 10
	// maxQueuedBlocks is how many full blocks may wait for the upload
	// before writes wait for it. A write fills one block at most (SFTP
	// packets are smaller), so with the one being filled and the one
	// being sent an upload holds four at most, and the writes held early
	// (maxEarlyWrites) when they come in order at last.
	maxQueuedBlocks = 1
)

func newUploadWriter(ctx context.Context, c *client.Client, path string, excl bool) *uploadWriter {
	upCtx, cancel := context.WithCancel(ctx)
	w := &uploadWriter{ctx: ctx, c: c, path: path, cancel: cancel, done: make(chan struct{}), settled: make(chan struct{}), early: map[int64][]byte{}}
	w.moved.L = &w.mu
	go func() {
		defer close(w.done)
		_, err := c.Put(upCtx, path, &uploadBody{w: w}, -1, client.PutOptions{IfNoneMatch: excl})
		w.mu.Lock()
		w.err, w.ended = err, true
		w.moved.Broadcast()
		w.mu.Unlock()
	}()
	return w
}

// WriteAt implements io.WriterAt.
func (w *uploadWriter) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// A write waits for the upload before it changes anything, so what
	// it finds after waiting is what it goes by.
	for len(w.queue) >= maxQueuedBlocks && w.failed == nil && !w.ended {
		w.moved.Wait()
	}
	if err := w.stopped(); err != nil {
		return 0, err
	}
	switch {
	case off == w.pos:
		w.write(p)
		for {
			b, ok := w.early[w.pos]
			if !ok {
				break
			}
			delete(w.early, w.pos)
			w.held -= len(b)
			w.write(b)
			w.keepEarly(b)
		}
	case off > w.pos:
		if w.held+len(p) > maxEarlyWrites {
			return 0, w.fail(statusError(sftp.ErrSSHFxFailure,
				"%s: writes more than %d MiB out of order: Strata stores a file written from start to end (nothing was stored)", w.path, maxEarlyWrites>>20))
		}
		if old, ok := w.early[off]; ok {
			w.held -= len(old)
			w.keepEarly(old)
		}
		w.early[off] = append(w.earlyBuffer(len(p)), p...)
		w.held += len(p)
	default:
		return 0, w.fail(statusError(sftp.ErrSSHFxOpUnsupported,
			"%s: writing again over bytes already written is not supported: upload the file from start to end (nothing was stored)", w.path))
	}
	return len(p), nil
}

// write adds p to the upload, in order; a block it fills is queued for
// the upload.
func (w *uploadWriter) write(p []byte) {
	for len(p) > 0 {
		if w.block == nil {
			w.block = w.newBlock()
		}
		n := copy(w.block[len(w.block):cap(w.block)], p)
		w.block = w.block[:len(w.block)+n]
		p = p[n:]
		w.pos += int64(n)
		if len(w.block) == cap(w.block) {
			w.queue = append(w.queue, w.block)
			w.block = nil
			w.moved.Broadcast()
		}
	}
}

// stopped is why writes cannot go on: the upload failed, or it ended
// before the file did (the server refused it: its answer is the reason).
func (w *uploadWriter) stopped() error {
	if w.failed != nil {
		return w.failed
	}
	if w.ended {
		e := sftpError(w.err)
		if w.err == nil {
			e = statusError(sftp.ErrSSHFxFailure, "%s: the upload ended early", w.path)
		}
		return w.fail(e)
	}
	return nil
}

// earlyBuffer is an empty buffer for a write of n bytes held early: one
// a write held before was copied out of, if there is one (a fresh one per
// write, which came early about every other write, cost mostly page
// faults).
func (w *uploadWriter) earlyBuffer(n int) []byte {
	for i := len(w.earlySpare) - 1; i >= 0; i-- {
		if b := w.earlySpare[i]; cap(b) >= n {
			w.earlySpare = append(w.earlySpare[:i], w.earlySpare[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

// keepEarly keeps b, a write held early that is done with, for another.
func (w *uploadWriter) keepEarly(b []byte) {
	if len(w.earlySpare) < maxEarlySpare {
		w.earlySpare = append(w.earlySpare, b)
	}
}

// maxEarlySpare bounds the buffers of early writes kept for reuse: as many
// as the request server has workers (pkg/sftp's eight) put out of order.
const maxEarlySpare = 8

func (w *uploadWriter) newBlock() []byte {
	if n := len(w.spare); n > 0 {
		b := w.spare[n-1]
		w.spare = w.spare[:n-1]
		return b[:0]
	}
	return make([]byte, 0, uploadBlock)
}

// next is the next block for the upload (nil at the end of the file), or
// why the upload must fail.
func (w *uploadWriter) next() ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// An upload that ended (the API answered early) has no reader to
	// wait for: the transport's body writer is let go at once.
	for len(w.queue) == 0 && !w.closed && w.failed == nil && !w.ended {
		w.moved.Wait()
	}
	if w.failed != nil {
		return nil, w.failed
	}
	if w.ended && !w.closed {
		return nil, errUploadEnded
	}
	if len(w.queue) == 0 {
		return nil, nil
	}
	b := w.queue[0]
	w.queue = w.queue[1:]
	w.moved.Broadcast()
	return b, nil
}

// recycle takes back a block the upload sent.
func (w *uploadWriter) recycle(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.spare) < 2 {
		w.spare = append(w.spare, b)
	}
}

// fail gives up the upload: nothing is stored.
func (w *uploadWriter) fail(err error) error {
	if w.failed == nil {
		w.failed = err
		w.moved.Broadcast()
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
//
// Once the file is closed its time is taken (Close sets it when the file
// is stored): setAttrs then changes nothing and says stored, and the
// caller sets what it asks of the stored file, after wait.
func (w *uploadWriter) setAttrs(flags sftp.FileAttrFlags, attrs *sftp.FileStat) (stored bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return false, w.failed
	}
	if w.closed {
		return true, nil
	}
	if flags.Size && (int64(attrs.Size) != w.pos || len(w.early) > 0) {
		return false, w.fail(statusError(sftp.ErrSSHFxOpUnsupported,
			"%s: setting the size to %d bytes after writing %d is not supported: upload the file whole (nothing was stored)", w.path, attrs.Size, w.pos))
	}
	if flags.Acmodtime {
		w.mtime = time.Unix(int64(attrs.Mtime), 0)
	}
	return false, nil
}

// wait waits for Close to be done with a closed file (stored, with the
// time set before it was closed, or not): nil once it is stored.
func (w *uploadWriter) wait(ctx context.Context) error {
	select {
	case <-w.settled:
	case <-ctx.Done():
		return sftpError(ctx.Err())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return w.failed
	}
	return sftpError(w.err)
}

// Close implements io.Closer: the client closed the file, which is then
// stored whole, or not at all; then it takes the file time a setstat
// asked for meanwhile.
func (w *uploadWriter) Close() error {
	defer w.settle()
	if w.onClose != nil {
		defer w.onClose()
	}
	w.mu.Lock()
	if w.failed == nil && len(w.early) > 0 {
		w.fail(statusError(sftp.ErrSSHFxFailure, "%s: closed with nothing written at offset %d: nothing was stored", w.path, w.pos))
	}
	if w.failed == nil {
		if len(w.block) > 0 {
			w.queue = append(w.queue, w.block)
			w.block = nil
		}
		w.closed = true
		w.moved.Broadcast()
	}
	failed, mtime := w.failed, w.mtime
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

// settle tells wait that Close is done.
func (w *uploadWriter) settle() { w.settleOnce.Do(func() { close(w.settled) }) }

// uploadBody is an upload's request body: the blocks of its writer, in
// order. The HTTP client copies it with WriteTo, a block at a time.
type uploadBody struct {
	w   *uploadWriter
	cur []byte // what Read has not returned of the block it took
	blk []byte // that block, to recycle
}

func (b *uploadBody) Read(p []byte) (int, error) {
	for len(b.cur) == 0 {
		if b.blk != nil {
			b.w.recycle(b.blk)
			b.blk = nil
		}
		blk, err := b.w.next()
		if err != nil {
			return 0, err
		}
		if blk == nil {
			return 0, io.EOF
		}
		b.blk, b.cur = blk, blk
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// WriteTo writes the blocks to dst as they fill, each in one write.
func (b *uploadBody) WriteTo(dst io.Writer) (int64, error) {
	var total int64
	if len(b.cur) > 0 {
		n, err := dst.Write(b.cur)
		total += int64(n)
		if err != nil {
			return total, err
		}
		b.cur = nil
	}
	for {
		if b.blk != nil {
			b.w.recycle(b.blk)
			b.blk = nil
		}
		blk, err := b.w.next()
		if err != nil || blk == nil {
			return total, err
		}
		b.blk = blk
		n, err := dst.Write(blk)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}
