// Package local is the embedded blob.Store: objects are files in a directory
// on a local disk.
//
// # Layout
//
//	objects/<shard>/<key>              object written by Put: one regular file
//	objects/<shard>/<key>/p<n>-<tag>   object written by Complete: a directory of
//	                                   its part files, which sort in part order
//	tmp/                               writes in progress, and objects being removed
//	uploads/<id>/key                   the key a multipart upload will become
//	uploads/<id>/parts/p<n>-<tag>      the parts acknowledged so far
//	uploads/<id>/sealed-<random>/      the parts while Complete installs them
//
// <shard> is the first two bytes of the key (the whole key if it has one
// byte), which spreads objects over up to 1,520 directories and lets List
// read only the shards its prefix can match. A key has at most 128 bytes, so
// it is always a valid file name. <n> is the part number in five digits and
// <tag> the tag PutPart returned: the part's size and its CRC-32C, in hex. Part files therefore say what they hold, so Stat and Get
// size a multipart object from one directory read, and Complete can tell a
// stale tag from a current one without reading any data.
//
// # Atomicity and durability
//
// Every object is written whole elsewhere (a temp file in tmp/, or an upload's
// parts directory) and fsynced, then renamed under its key and the directory
// fsynced, so a key is either absent or whole. On ext4 and XFS a large
// object is written with O_DIRECT, around the page cache, but for its tail
// (internal/directio): the fsync that follows makes it as durable as the
// rest. Complete renames the upload's parts directory into place: it reads
// one directory, removes the parts it was not given and renames once, and
// never copies data. A crash before that rename leaves the parts sealed in
// the upload, and a retried Complete finishes the job. Complete sets the directory's modification time, which
// Stat and List report, to the time of Complete: the collector judges an
// unreferenced object's age by it, and parts may have been written days
// earlier. Directory objects are never changed in place; Delete and
// replacement first rename them away under tmp/, which is what lets readers
// detect a listing taken while one was being removed.
//
// rename(2) replaces a file with a file but cannot replace a directory, nor
// put a directory where a file is. So when a key holding a multipart object is
// overwritten, or a plain object is overwritten by Complete, the old object is
// first moved aside into tmp/, the new one renamed in, and the old one
// removed. Such a replacement is not atomic: a reader (or a crash) in between
// sees the key absent, never partial. The core never reuses keys, so it never
// does this.
//
// # Limits
//
// Every name the store creates is lowercase, so a case-insensitive filesystem
// serves as well as any. A crash can leave temp files and half-removed
// objects in tmp/; Sweep removes them. Uploads are not collected here: the
// core aborts the ones it no longer needs.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/internal/directio"
)

const (
	objectsDir = "objects"
	tmpDir     = "tmp"
	uploadsDir = "uploads"

	dirPerm  = 0o700
	filePerm = 0o600

	// bufSize is the copy buffer when the kernel cannot move the data itself:
	// big enough that a write costs few syscalls and fsync has large extents.
	bufSize = 1 << 20
	// zeroCopyChunk bounds one copy_file_range/splice run, so that a
	// cancelled ctx stops a long zero-copy write within one chunk.
	zeroCopyChunk = 8 << 20
)

// Store is a blob.Store in a directory on local disk. It is safe for
// concurrent use. Nothing outside its directory is ever touched: every path is
// resolved through an os.Root, or is a single name under a directory the
// Store holds open, resolved without following links (dirfd_linux.go), so
// not even a symbolic link planted inside the store can lead out of it.
type Store struct {
	dir  string
	root *os.Root
	crc  *crc32.Table
	bufs sync.Pool // *[]byte of bufSize

	// tmp and objects are tmp/ and objects/, held open for the Store's
	// life so that a Put names its files relative to them (see dirfd_linux.go)
	// rather than walking the root's path for every create, rename and
	// directory fsync.
	tmp, objects *os.File
	// direct: tmp/ is on a file system where large objects are written
	// with O_DIRECT (internal/directio); directRefused: a file refused it
	// all the same, and the store no longer tries.
	direct        bool
	directRefused atomic.Bool

	// shardsSynced holds the shard directories whose entry in objects/
	// this Store has fsynced: a writer that renames into a shard another
	// writer has just made must not return before the shard itself is
	// durable, whoever made it.
	shardsSynced sync.Map // string → struct{}

	// minPartSize is blob.MinPartSize. It is a field only so that this
	// package's tests can build multipart objects out of many small parts.
	minPartSize int64

	// cold is the archive tier of a store opened with OpenWith; nil
	// otherwise (the stores the cold tier is made of have none).
	cold *coldTier
}

var (
	_ blob.Store   = (*Store)(nil)
	_ blob.Sweeper = (*Store)(nil)
)

// Open opens the store in dir, creating dir (mode 0700) and its layout if
// they are missing.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("local: open %s: %w", abs, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("local: open %s: %w", abs, err)
	}
	s := &Store{dir: abs, root: root, crc: crc32.MakeTable(crc32.Castagnoli), minPartSize: blob.MinPartSize}
	s.bufs.New = func() any {
		b := directio.Buffer(bufSize)
		return &b
	}
	if err := s.init(); err != nil {
		root.Close()
		return nil, fmt.Errorf("local: open %s: %w", abs, err)
	}
	return s, nil
}

func (s *Store) init() error {
	created := false
	for _, d := range []string{objectsDir, tmpDir, uploadsDir} {
		err := s.root.Mkdir(d, dirPerm)
		switch {
		case err == nil:
			created = true
		case errors.Is(err, fs.ErrExist):
			fi, err := s.root.Lstat(d)
			if err != nil {
				return err
			}
			if !fi.IsDir() {
				return fmt.Errorf("%s is not a directory", d)
			}
		default:
			return err
		}
	}
	if created {
		if err := s.syncDir("."); err != nil {
			return err
		}
	}
	var err error
	if s.tmp, err = s.openDir(tmpDir); err != nil {
		return err
	}
	if s.objects, err = s.openDir(objectsDir); err != nil {
		s.tmp.Close()
		return err
	}
	s.direct = directio.Supported(s.tmp)
	return nil
}

// openDir opens dir, a directory of the store's own layout (where the
// system can say so, refusing anything else in its place).
func (s *Store) openDir(dir string) (*os.File, error) {
	return s.root.OpenFile(dir, os.O_RDONLY|openDirFlags, 0)
}

// Close releases the store's directory handle. The Store must not be used
// afterwards.
func (s *Store) Close() error {
	if s.cold != nil {
		s.cold.close()
	}
	s.tmp.Close()
	s.objects.Close()
	return s.root.Close()
}

// Dir returns the absolute path of the store's directory.
func (s *Store) Dir() string {
	return s.dir
}

// Put implements blob.Store. It honours ctx between buffers of the copy (a
// Read that blocks forever is not interrupted) and once more before the
// object is renamed into place. If r is an *os.File or a network connection
// the kernel moves the data (copy_file_range, splice) where it can.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if !blob.ValidKey(key) {
		return opError("put", key, blob.ErrInvalidKey)
	}
	if size < -1 {
		return opError("put", key, fmt.Errorf("invalid size %d", size))
	}
	if err := s.put(ctx, key, r, size); err != nil {
		return opError("put", key, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmp, err := s.writeTemp(ctx, r, size, nil)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		s.root.Remove(tmp)
		return err
	}
	if err := s.installFile(tmp, key); err != nil {
		s.root.Remove(tmp)
		return err
	}
	return nil
}

// Get implements blob.Store. The reader fails once ctx is done, with an error
// wrapping ctx.Err(). Reading a multipart object opens one part file at a
// time.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if !blob.ValidKey(key) {
		return nil, opError("get", key, blob.ErrInvalidKey)
	}
	if offset < 0 || length < -1 {
		return nil, opError("get", key, fmt.Errorf("%w: offset %d, length %d", blob.ErrInvalidRange, offset, length))
	}
	if err := ctx.Err(); err != nil {
		return nil, opError("get", key, err)
	}
	obj, err := s.open(objectPath(key), true)
	if errors.Is(err, blob.ErrNotFound) && s.cold != nil {
		rc, err := s.getCold(ctx, key, offset, length)
		if err != nil {
			return nil, opError("get", key, err)
		}
		return rc, nil
	}
	if err != nil {
		return nil, opError("get", key, err)
	}
	if offset > obj.size || (length >= 0 && length > obj.size-offset) {
		obj.close()
		return nil, opError("get", key, fmt.Errorf("%w: offset %d, length %d, size %d", blob.ErrInvalidRange, offset, length, obj.size))
	}
	if length < 0 {
		length = obj.size - offset
	}
	rc, err := obj.reader(ctx, key, offset, length)
	if err != nil {
		obj.close()
		return nil, opError("get", key, err)
	}
	return rc, nil
}

// Stat implements blob.Store. The ModTime of a multipart object is that of
// its directory, which Complete set to the time of Complete.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !blob.ValidKey(key) {
		return blob.Info{}, opError("stat", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, opError("stat", key, err)
	}
	obj, err := s.open(objectPath(key), false)
	if errors.Is(err, blob.ErrNotFound) && s.cold != nil {
		info, err := s.statCold(ctx, key)
		if err != nil {
			return blob.Info{}, opError("stat", key, err)
		}
		return info, nil
	}
	if err != nil {
		return blob.Info{}, opError("stat", key, err)
	}
	return blob.Info{Key: key, Size: obj.size, ModTime: obj.mod}, nil
}

// Delete implements blob.Store. It does not fsync: a delete that a crash
// undoes only leaves an unreferenced object, which the collector removes
// again.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return opError("delete", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return opError("delete", key, err)
	}
	if err := s.deleteHot(ctx, key); err != nil {
		return opError("delete", key, err)
	}
	if s.cold != nil {
		if err := s.deleteCold(ctx, key); err != nil {
			return opError("delete", key, err)
		}
	}
	return nil
}

// deleteHot removes key from the hot tier.
func (s *Store) deleteHot(ctx context.Context, key string) error {
	rel := objectPath(key)
	// Remove cannot take a directory that has entries, so it removes a
	// plain object or nothing.
	err := s.root.Remove(rel)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
		return nil
	case !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST):
		return err
	}
	return s.removeAside(rel)
}

// removeAside removes a directory object by first renaming it into tmp/, so
// that no reader ever lists it half removed.
func (s *Store) removeAside(rel string) error {
	aside := s.tempName()
	if err := s.root.Rename(rel, aside); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return s.root.RemoveAll(aside)
}

// List implements blob.Store. It reads only the shard directories that can
// hold keys with the prefix; fn may call other methods, Delete included.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	// A non-empty prefix of a valid key is itself a valid key, so any other
	// prefix matches nothing (and never becomes part of a path).
	if prefix != "" && !blob.ValidKey(prefix) {
		return nil
	}
	l := lister{s: s, ctx: ctx, prefix: prefix, fn: fn}
	var shards []string
	if len(prefix) >= 2 {
		shards = []string{prefix[:2]}
	} else {
		names, err := s.readDirNames(objectsDir)
		if err != nil {
			return l.fail(err)
		}
		for _, name := range names {
			if len(name) <= 2 && blob.ValidKey(name) && strings.HasPrefix(name, prefix) {
				shards = append(shards, name)
			}
		}
	}
	for _, sh := range shards {
		if err := l.shard(sh); err != nil {
			return err
		}
	}
	if s.cold != nil {
		return s.listCold(ctx, prefix, fn)
	}
	return nil
}

// lister walks objects/ for List. Its methods return fn's error as it is and
// their own wrapped, so List can return either unchanged.
type lister struct {
	s      *Store
	ctx    context.Context
	prefix string
	fn     func(blob.Info) error
}

func (l *lister) fail(err error) error {
	return fmt.Errorf("local: list %q: %w", l.prefix, mapNoSpace(err))
}

func (l *lister) shard(sh string) error {
	dir := filepath.Join(objectsDir, sh)
	return l.eachName(dir, func(name string) error {
		if !blob.ValidKey(name) || shard(name) != sh || !strings.HasPrefix(name, l.prefix) {
			return nil
		}
		return l.emit(name, filepath.Join(dir, name))
	})
}

// eachName calls fn for each entry of dir, reading it in batches so that a
// big shard never sits in memory whole. A missing dir has no entries.
func (l *lister) eachName(dir string, fn func(name string) error) error {
	f, err := l.s.root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return l.fail(err)
	}
	defer f.Close()
	for {
		if err := l.ctx.Err(); err != nil {
			return l.fail(err)
		}
		names, err := f.Readdirnames(256)
		for _, name := range names {
			if err := fn(name); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return l.fail(err)
		}
	}
}

func (l *lister) emit(key, rel string) error {
	obj, err := l.s.open(rel, false)
	if errors.Is(err, blob.ErrNotFound) {
		return nil // deleted since the directory was read
	}
	if err != nil {
		return l.fail(fmt.Errorf("%s: %w", key, err))
	}
	return l.fn(blob.Info{Key: key, Size: obj.size, ModTime: obj.mod})
}

// Sweep implements blob.Sweeper. It removes entries of tmp/ last modified
// more than olderThan ago: temp files of writes cut short by a crash, and
// objects whose removal a crash interrupted. A Put rewrites its temp file as
// data arrives, so only one that stalled longer than olderThan loses its file,
// and it then fails rather than storing anything. Give olderThan a wide
// margin over the slowest single write.
//
// Sweep leaves uploads/ alone, however old: an upload is an open session that
// can last days between its parts and its Complete, and only the core knows
// which it still needs (it aborts the others).
func (s *Store) Sweep(ctx context.Context, olderThan time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: sweep: %w", err)
	}
	names, err := s.readDirNames(tmpDir)
	if err != nil {
		return fmt.Errorf("local: sweep: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("local: sweep: %w", err)
		}
		rel := filepath.Join(tmpDir, name)
		fi, err := s.root.Lstat(rel)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("local: sweep: %w", err)
		}
		if fi.ModTime().After(cutoff) {
			continue
		}
		if err := s.root.RemoveAll(rel); err != nil {
			return fmt.Errorf("local: sweep: %w", err)
		}
	}
	if s.cold != nil {
		return s.sweepCold(ctx, olderThan)
	}
	return nil
}

// writeTemp copies r into a new file in tmp/ and makes it durable. With a
// known size it reads one byte more than size, to tell a reader that is too
// long from one that is exact. If sum is not nil it is fed every byte.
func (s *Store) writeTemp(ctx context.Context, r io.Reader, size int64, sum io.Writer) (_ string, err error) {
	if r == nil {
		r = strings.NewReader("")
	}
	tmp := s.tempName()
	f, err := s.createTemp(tmp)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			s.root.Remove(tmp)
		}
	}()
	limit := int64(-1)
	if size >= 0 {
		limit = size + 1
	}
	n, err := s.copy(ctx, f, r, limit, sum)
	if err != nil {
		return "", err
	}
	if size >= 0 && n != size {
		if n > size {
			return "", fmt.Errorf("%w: reader has more than %d bytes", blob.ErrSizeMismatch, size)
		}
		return "", fmt.Errorf("%w: reader has %d bytes, want %d", blob.ErrSizeMismatch, n, size)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return tmp, nil
}

// copy copies at most limit bytes (all, if limit < 0) from src to dst.
func (s *Store) copy(ctx context.Context, dst *os.File, src io.Reader, limit int64, sum io.Writer) (int64, error) {
	// *os.File and net connections implement syscall.Conn; those are what
	// File.ReadFrom can hand to copy_file_range or splice.
	if _, ok := src.(syscall.Conn); ok && sum == nil {
		return copyZero(ctx, dst, src, limit)
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	var spare *[]byte
	defer func() {
		if spare != nil {
			s.bufs.Put(spare)
		}
	}()
	var w io.Writer = dst
	if s.direct && !s.directRefused.Load() {
		w = directio.NewWriter(dst, 0, &s.directRefused)
	}
	return copyBuffered(ctx, w, src, limit, sum, *bp, func() []byte {
		spare = s.bufs.Get().(*[]byte)
		return *spare
	})
}

// copyZero leaves the copy to dst.ReadFrom, in chunks so that ctx is checked
// between them. io.CopyN passes an *io.LimitedReader, which ReadFrom unwraps.
func copyZero(ctx context.Context, dst *os.File, src io.Reader, limit int64) (int64, error) {
	var n int64
	for limit < 0 || n < limit {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		chunk := int64(zeroCopyChunk)
		if limit >= 0 {
			chunk = min(chunk, limit-n)
		}
		m, err := io.CopyN(dst, src, chunk)
		n += m
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// copyBuffered fills buf before each write, so a reader that returns small
// pieces still makes few, large writes. It does not use io.ReadFull, which
// would turn a reader's own io.ErrUnexpectedEOF (a truncated HTTP body) into
// a clean end.
//
// What does not fit in one buffer is written by a goroutine of its own
// while the next buffer is filled (from spare, asked for then): a sealed
// upload's reader hashes, seals and copies, and writing into the page
// cache costs as much again, so done in turn on one goroutine the two
// left a core idle while an SFTP upload, which arrives as one stream, was
// bound by them. The writes still go in order, each whole before the
// next, and all of them are done (or given up after the first that
// failed) when copyBuffered returns.
func copyBuffered(ctx context.Context, dst io.Writer, src io.Reader, limit int64, sum io.Writer, buf []byte, spare func() []byte) (int64, error) {
	var n int64
	var w *bufWriter
	for limit < 0 || n < limit {
		if err := ctx.Err(); err != nil {
			return w.finish(n, err)
		}
		p := buf
		if w != nil {
			p = w.free()
			if p == nil {
				return w.finish(n, nil) // a write failed
			}
		}
		if limit >= 0 && limit-n < int64(len(p)) {
			p = p[:limit-n]
		}
		m := 0
		var rerr error
		for m < len(p) && rerr == nil {
			var k int
			k, rerr = src.Read(p[m:])
			m += k
		}
		switch {
		case m > 0 && w == nil && rerr == nil && (limit < 0 || n+int64(m) < limit):
			// More is coming: the writes go on their own goroutine from
			// here.
			w = startBufWriter(dst, sum, p[:m], spare())
		case m > 0 && w == nil:
			if err := writeSum(dst, sum, p[:m]); err != nil {
				return n, err
			}
		case m > 0:
			w.full <- p[:m]
		case w != nil:
			w.idle <- p[:cap(p)]
		}
		n += int64(m)
		if rerr == io.EOF {
			return w.finish(n, nil)
		}
		if rerr != nil {
			return w.finish(n, rerr)
		}
	}
	return w.finish(n, nil)
}

// bufWriter writes the buffers handed to it in full, in order, and hands
// each back in idle once written. After a write fails it writes no more.
type bufWriter struct {
	full   chan []byte // to write
	idle   chan []byte // written, to fill again
	failed chan struct{}
	done   chan struct{}
	n      int64 // written, once done
	err    error // the first write's error, once done
}

func startBufWriter(dst io.Writer, sum io.Writer, first, second []byte) *bufWriter {
	w := &bufWriter{full: make(chan []byte, 1), idle: make(chan []byte, 2), failed: make(chan struct{}), done: make(chan struct{})}
	w.idle <- second
	w.full <- first
	go func() {
		defer close(w.done)
		for p := range w.full {
			if w.err == nil {
				if err := writeSum(dst, sum, p); err != nil {
					w.err = err
					close(w.failed)
				} else {
					w.n += int64(len(p))
				}
			}
			w.idle <- p[:cap(p)]
		}
	}()
	return w
}

// writeSum writes p to dst whole and, once written, feeds it to sum (if
// not nil).
func writeSum(dst, sum io.Writer, p []byte) error {
	if _, err := dst.Write(p); err != nil {
		return err
	}
	if sum != nil {
		sum.Write(p)
	}
	return nil
}

// free is a buffer to fill, once one is written; nil once a write failed.
func (w *bufWriter) free() []byte {
	// A failed write hands its buffer back too: looked at first, the
	// failure stops the reading at once, where a select picking at random
	// between the two could read on for another buffer or more.
	select {
	case <-w.failed:
		return nil
	default:
	}
	select {
	case p := <-w.idle:
		return p
	case <-w.failed:
		return nil
	}
}

// finish waits for the writes and returns what copyBuffered does: n (read)
// and err when nothing was handed to a writer, else what was written and
// the first error of the writes, or err.
func (w *bufWriter) finish(n int64, err error) (int64, error) {
	if w == nil {
		return n, err
	}
	close(w.full)
	<-w.done
	if w.err != nil {
		return w.n, w.err
	}
	return w.n, err
}

// install renames src (a file or a directory) to dst, creating dst's parent
// directories, and makes the rename durable. If dst holds an object of the
// other kind, or a directory object, it is moved aside and removed (see the
// package comment). src is left in place if install fails.
func (s *Store) install(src, dst string) error {
	parent := filepath.Dir(dst)
	err := s.root.Rename(src, dst)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.mkShard(parent); err != nil {
			return err
		}
		err = s.root.Rename(src, dst)
	}
	var aside []string
	// A writer racing on the same key can put something back in between;
	// a few rounds settle it, and last writer wins as for any Put.
	for i := 0; i < 3 && replaceNeedsMove(err); i++ {
		old := s.tempName()
		if merr := s.root.Rename(dst, old); merr == nil {
			aside = append(aside, old)
		} else if !errors.Is(merr, fs.ErrNotExist) {
			err = merr
			break
		}
		err = s.root.Rename(src, dst)
	}
	if err != nil {
		if n := len(aside); n > 0 {
			// Best effort: bring back the object this write displaced.
			if s.root.Rename(aside[n-1], dst) == nil {
				aside = aside[:n-1]
			}
		}
		for _, old := range aside {
			s.root.RemoveAll(old)
		}
		return err
	}
	err = s.syncDir(parent)
	if err == nil {
		err = s.syncShard(parent)
	}
	for _, old := range aside {
		s.root.RemoveAll(old)
	}
	return err
}

// syncShard makes the shard directory's own entry durable, once per Store
// for each shard: after mkShard's Mkdir, and before a rename into the
// shard returns (another writer's Mkdir may not be durable yet).
func (s *Store) syncShard(shard string) error {
	if _, ok := s.shardsSynced.Load(shard); ok {
		return nil
	}
	if err := s.objects.Sync(); err != nil {
		return err
	}
	s.shardsSynced.Store(shard, struct{}{})
	return nil
}

// replaceNeedsMove reports whether a rename failed because its target is a
// directory, or is a file where a directory goes: cases rename(2) (and
// os.Root.Rename, which refuses to replace any directory) does not handle.
func replaceNeedsMove(err error) bool {
	return errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) ||
		errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR)
}

// mkShard creates dir, a shard directory of objects/, and makes its entry
// durable (syncShard: once per shard, also when another writer made it).
// Shard directories are never removed, so one that exists stays.
func (s *Store) mkShard(dir string) error {
	if err := s.root.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return s.syncShard(dir)
}

func (s *Store) syncDir(dir string) error {
	f, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) readDirNames(dir string) ([]string, error) {
	f, err := s.root.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func (s *Store) tempName() string {
	return filepath.Join(tmpDir, randomHex(16))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails; it crashes the program instead
	return hex.EncodeToString(b)
}

// shard is the directory under objects/ that holds key.
func shard(key string) string {
	if len(key) < 2 {
		return key
	}
	return key[:2]
}

// objectPath is the path of key's object, relative to the store. key must be
// valid: with no separators and no leading dot it cannot leave its shard.
func objectPath(key string) string {
	return filepath.Join(objectsDir, shard(key), key)
}

// opError names the operation and key, and maps a full disk to
// blob.ErrNoSpace.
func opError(op, key string, err error) error {
	k := key
	if !blob.ValidKey(key) {
		k = strconv.Quote(key)
	}
	return fmt.Errorf("local: %s %s: %w", op, k, mapNoSpace(err))
}

// mapNoSpace wraps err in blob.ErrNoSpace if the filesystem is full or the
// user's quota is spent, keeping the original error in the chain.
func mapNoSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", blob.ErrNoSpace, err)
	}
	return err
}
