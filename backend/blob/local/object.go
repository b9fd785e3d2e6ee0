package local

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/strata-storage/strata/backend/blob"
)

// object is an object found under its key: a plain file, or the directory of
// a completed multipart upload.
type object struct {
	size int64
	mod  time.Time

	// Set only when the object was opened for reading.
	file  *os.File // a plain object
	dir   *os.Root // a multipart object: its parts are opened through it
	parts []partFile
}

type partFile struct {
	name string
	size int64
}

// errMoved: the directory listed is no longer under the key.
var errMoved = errors.New("object replaced while being read")

// open finds the object at rel. For a multipart object the part list must be
// complete: directory objects are never changed in place, only renamed away
// before their parts are removed, so a listing is complete if the key still
// names the same directory once it has been read. The directory is held
// open until then, so its inode cannot be freed and given to a replacement
// meanwhile. If it does not, the object was deleted or replaced and open
// looks again.
func (s *Store) open(rel string, read bool) (*object, error) {
	for range 3 {
		obj, err := s.tryOpen(rel, read)
		if !errors.Is(err, errMoved) {
			return obj, err
		}
	}
	return nil, errMoved
}

func (s *Store) tryOpen(rel string, read bool) (*object, error) {
	f, err := s.root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Mode().IsRegular() {
		obj := &object{size: fi.Size(), mod: fi.ModTime()}
		if read {
			obj.file = f
		} else {
			f.Close()
		}
		return obj, nil
	}
	// Held open until the key is checked against it (see open).
	defer f.Close()
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is neither a file nor a directory", rel)
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errMoved
	}
	parts, size, err := parseParts(names)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	obj := &object{size: size, mod: fi.ModTime()}
	if !read {
		cur, err := s.root.Lstat(rel)
		if err != nil {
			return nil, movedOr(err)
		}
		if !os.SameFile(fi, cur) {
			return nil, errMoved
		}
		return obj, nil
	}
	dir, err := s.root.OpenRoot(rel)
	if err != nil {
		return nil, movedOr(err)
	}
	cur, err := dir.Stat(".")
	if err != nil || !os.SameFile(fi, cur) {
		dir.Close()
		return nil, cmp.Or(err, errMoved)
	}
	obj.dir, obj.parts = dir, parts
	return obj, nil
}

// movedOr turns the errors of looking up a key that no longer names a
// directory into errMoved.
func movedOr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return errMoved
	}
	return err
}

// parseParts sorts the entries of a directory object into part order and
// sizes them from their names.
func parseParts(names []string) ([]partFile, int64, error) {
	if len(names) == 0 {
		return nil, 0, errors.New("multipart object has no parts")
	}
	slices.Sort(names)
	parts := make([]partFile, 0, len(names))
	var total int64
	prev := 0
	for _, name := range names {
		n, size, ok := parsePartName(name)
		if !ok || n <= prev {
			return nil, 0, fmt.Errorf("unexpected entry %q in multipart object", name)
		}
		prev = n
		parts = append(parts, partFile{name: name, size: size})
		total += size
	}
	return parts, total, nil
}

func (o *object) close() {
	if o.file != nil {
		o.file.Close()
	}
	if o.dir != nil {
		o.dir.Close()
	}
}

// reader returns a reader of length bytes from offset, which Get has checked
// against the object's size. It takes over the object's open handles.
func (o *object) reader(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if o.file != nil {
		if _, err := o.file.Seek(offset, io.SeekStart); err != nil {
			return nil, err
		}
		return &fileReader{ctx: ctx, key: key, f: o.file, r: io.LimitedReader{R: o.file, N: length}}, nil
	}
	parts := o.parts
	for len(parts) > 0 && offset >= parts[0].size {
		offset -= parts[0].size
		parts = parts[1:]
	}
	return &partsReader{ctx: ctx, key: key, dir: o.dir, parts: parts, skip: offset, remain: length}, nil
}

// ctxError is the error of a Read after ctx is done. A local read never
// blocks for long, so checking before each one is enough for the contract's
// "the reader fails once its ctx is done", even at the end of the range.
func ctxError(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: read %s: %w", key, err)
	}
	return nil
}

type fileReader struct {
	ctx context.Context
	key string
	f   *os.File
	r   io.LimitedReader
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := ctxError(r.ctx, r.key); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	if err == io.EOF && r.r.N > 0 {
		// Objects are never truncated in place: the file is damaged.
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *fileReader) Close() error {
	return r.f.Close()
}

// partsReader reads a range of a multipart object, one part file at a time.
type partsReader struct {
	ctx    context.Context
	key    string
	dir    *os.Root
	parts  []partFile // parts not opened yet
	cur    *os.File
	skip   int64 // where to start in the next part opened
	left   int64 // bytes of cur still to read
	remain int64 // bytes of the range still to read
}

func (r *partsReader) Read(p []byte) (int, error) {
	if err := ctxError(r.ctx, r.key); err != nil {
		return 0, err
	}
	if r.remain == 0 {
		return 0, io.EOF
	}
	for r.cur == nil || r.left == 0 {
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	p = p[:min(int64(len(p)), r.left, r.remain)]
	n, err := r.cur.Read(p)
	r.left -= int64(n)
	r.remain -= int64(n)
	if err == io.EOF {
		err = nil
		if r.left > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	return n, err
}

// next closes the current part and opens the next one.
func (r *partsReader) next() error {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	if len(r.parts) == 0 {
		return io.ErrUnexpectedEOF
	}
	part := r.parts[0]
	r.parts = r.parts[1:]
	if part.size == r.skip {
		r.skip = 0
		r.left = 0
		return nil // an empty part
	}
	f, err := r.dir.Open(part.name)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != part.size {
		err = fmt.Errorf("part %s has %d bytes, its name says %d", part.name, fi.Size(), part.size)
	}
	if err == nil && r.skip > 0 {
		_, err = f.Seek(r.skip, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return err
	}
	r.cur, r.left, r.skip = f, part.size-r.skip, 0
	return nil
}

func (r *partsReader) Close() error {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	return r.dir.Close()
}
