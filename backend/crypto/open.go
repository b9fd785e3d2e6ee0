package crypto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/sio"
)

// Fetch returns the sealed bytes [off, off+n) of a blob, typically a ranged
// blob.Store.Get. The reader must yield exactly n bytes; fewer or more is
// reported as ErrTampered.
type Fetch func(ctx context.Context, off, n int64) (io.ReadCloser, error)

// Open returns a reader of the plaintext bytes [off, off+n) of the blob with
// layout l (n == -1 reads to the end). A range outside [0, l.Size] is
// ErrInvalidRange; an invalid layout is ErrInvalidLayout.
//
// Open calls fetch once, before returning, for the smallest contiguous
// sealed span holding the DARE packages that cover the range, and never
// fetches or decrypts any other package; an empty range fetches nothing.
// Errors from fetch are returned wrapped. The reader then decrypts lazily,
// one package at a time, with memory bounded by a couple of packages.
//
// Bytes are returned only from packages that authenticated. Any
// authentication failure, a package that is or is not final where the layout
// says otherwise, and a fetched stream shorter or longer than asked for are
// reported by Read as an error wrapping ErrTampered (and io.ErrUnexpectedEOF
// when the stream ended early). Errors reading the fetched stream itself,
// such as a dropped connection, are returned wrapped and are not ErrTampered.
// Errors are sticky. Close closes the fetched stream.
func Open(ctx context.Context, dataKey []byte, l Layout, off, n int64, fetch Fetch) (io.ReadCloser, error) {
	if err := checkDataKey(dataKey); err != nil {
		return nil, err
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if n == -1 && off >= 0 && off <= l.Size {
		n = l.Size - off
	}
	if off < 0 || off > l.Size || n < 0 || n > l.Size-off {
		return nil, fmt.Errorf("%w: bytes [%d, +%d) of a %d-byte blob", ErrInvalidRange, off, n, l.Size)
	}
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}

	r := &reader{l: l, left: n, pos: off}
	// Plan: the first package holding off and the last holding off+n-1.
	r.part, r.pkg = locate(l, off)
	r.skip = off - (int64(r.part)*l.PartSize + r.pkg*PackageSize)
	lastPart, lastPkg := locate(l, off+n-1)
	start := l.PartSealedOffset(r.part) + r.pkg*sealedPackageSize
	end := l.PartSealedOffset(lastPart) + lastPkg*sealedPackageSize +
		SealedSize(min(PackageSize, l.PartPlainSize(lastPart)-lastPkg*PackageSize))
	r.lastPart, r.lastPkg = lastPart, lastPkg

	body, err := fetch(ctx, start, end-start)
	if err != nil {
		return nil, fmt.Errorf("crypto: fetching sealed bytes [%d, %d): %w", start, end, err)
	}
	if body == nil {
		return nil, fmt.Errorf("crypto: fetching sealed bytes [%d, %d): no reader and no error", start, end)
	}
	r.body = body
	r.key = bytes.Clone(dataKey)
	return r, nil
}

// locate returns the part holding plaintext offset off and the package
// holding it within that part.
func locate(l Layout, off int64) (part int, pkg int64) {
	part = int(off / l.PartSize)
	return part, (off - int64(part)*l.PartSize) / PackageSize
}

// reader decrypts the fetched span part by part. For each part it covers it
// runs one sio decrypter (a "section") over exactly that part's share of the
// span, starting at the sequence number of its first package, and asks it for
// exactly the plaintext the section should yield, so sio never reads past the
// section and never sees a stream that stops short of its final package.
type reader struct {
	l    Layout
	key  []byte // copy of the data key, wiped once the last section starts
	body io.ReadCloser

	part     int   // part of the current (or next) section
	pkg      int64 // first package of the current (or next) section
	lastPart int   // part and package the range ends in
	lastPkg  int64

	sec     section   // the current section's share of body
	dec     io.Reader // sio decrypter of sec; nil between sections
	final   bool      // whether sec's last package must carry the final flag
	skip    int64     // plaintext to discard at the start of the first section
	secLeft int64     // plaintext still to return from sec
	left    int64     // plaintext still to return overall
	pos     int64     // plaintext offset of the next byte returned

	buf []byte // WriteTo's buffer, allocated on first use
	err error  // sticky: io.EOF at the end, errClosed after Close
}

var errClosed = errors.New("crypto: read from closed blob reader")

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.left == 0 {
			return 0, r.fail(r.checkEnd())
		}
		if r.dec == nil {
			if err := r.startSection(); err != nil {
				return 0, r.fail(err)
			}
		}
		q := p
		if int64(len(q)) > r.secLeft {
			q = q[:r.secLeft]
		}
		n, err := r.dec.Read(q)
		r.secLeft -= int64(n)
		r.left -= int64(n)
		r.pos += int64(n)
		if err != nil && (err != io.EOF || r.secLeft > 0) {
			return n, r.fail(r.decryptError(err))
		}
		if r.secLeft == 0 {
			if err := r.endSection(); err != nil {
				return 0, r.fail(err)
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

// WriteTo writes the rest of the plaintext to w; io.Copy uses it. Its reads
// are package-sized and package-aligned, so sio decrypts straight into the
// buffer instead of into its own and copying.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if r.buf == nil {
		r.buf = make([]byte, max(1, min(2*PackageSize, r.left)))
	}
	var total int64
	for {
		q := r.buf
		if rem := r.pos % PackageSize; rem != 0 && int64(len(q)) > PackageSize-rem {
			q = q[:PackageSize-rem]
		}
		n, err := r.Read(q)
		if n > 0 {
			m, werr := w.Write(q[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m != n {
				return total, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close closes the fetched stream. Reads after Close fail.
func (r *reader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	r.dec = nil
	clear(r.key)
	if r.err == nil || r.err == io.EOF {
		r.err = errClosed
	}
	return err
}

// startSection sets up decryption of the current part's share of the span.
func (r *reader) startSection() error {
	plain := r.l.PartPlainSize(r.part)
	lastPkg := packages(plain) - 1
	if r.part == r.lastPart {
		lastPkg = r.lastPkg
	}
	lastLen := min(PackageSize, plain-lastPkg*PackageSize)
	r.final = lastPkg == packages(plain)-1
	r.sec = section{
		r:      r.body,
		left:   (lastPkg-r.pkg)*sealedPackageSize + SealedSize(lastLen),
		hdrOff: (lastPkg - r.pkg) * sealedPackageSize,
	}
	partPlainOff := int64(r.part) * r.l.PartSize
	sectionEnd := partPlainOff + lastPkg*PackageSize + lastLen
	sectionStart := partPlainOff + r.pkg*PackageSize + r.skip
	r.secLeft = min(sectionEnd-sectionStart, r.left)

	key := PartKey(r.key, r.part)
	dec, err := sio.DecryptReader(&r.sec, partConfig(key, uint32(r.pkg)))
	clear(key)
	if r.part == r.lastPart {
		clear(r.key)
	}
	if err != nil {
		return fmt.Errorf("crypto: opening part %d: %w", r.part, err)
	}
	r.dec = dec
	if r.skip > 0 {
		// The range starts inside this package; it must be decrypted whole to
		// be authenticated, and its leading bytes dropped.
		if _, err := io.CopyN(io.Discard, r.dec, r.skip); err != nil {
			return r.decryptError(err)
		}
		r.skip = 0
	}
	return nil
}

// endSection runs once the current section has yielded all its plaintext:
// sio has then read and authenticated all its packages, so the captured
// header of the last one is genuine and its final flag can be trusted.
func (r *reader) endSection() error {
	if r.sec.left != 0 {
		return fmt.Errorf("%w: part %d: packages shorter than the layout says", ErrTampered, r.part)
	}
	if final := r.sec.hdr[4]&0x80 != 0; final != r.final {
		if final {
			return fmt.Errorf("%w: part %d ends before the layout says", ErrTampered, r.part)
		}
		return fmt.Errorf("%w: part %d is missing its final package: %w", ErrTampered, r.part, io.ErrUnexpectedEOF)
	}
	r.dec = nil
	r.part++
	r.pkg = 0
	return nil
}

// checkEnd runs when all plaintext has been returned and makes sure the
// store did not send more than was asked for.
func (r *reader) checkEnd() error {
	var b [1]byte
	n, err := io.ReadFull(r.body, b[:])
	switch {
	case n > 0:
		return fmt.Errorf("%w: sealed stream is longer than the layout says", ErrTampered)
	case err == io.EOF:
		return io.EOF
	default:
		return fmt.Errorf("crypto: reading sealed blob: %w", err)
	}
}

// decryptError classifies an error from sio: its own errors are
// authentication or format failures; source errors come from section.Read
// and are already classified.
func (r *reader) decryptError(err error) error {
	var serr sio.Error
	switch {
	case errors.Is(err, ErrTampered), errors.Is(err, errBody):
		return err
	case errors.As(err, &serr):
		return fmt.Errorf("%w: part %d: %w", ErrTampered, r.part, err)
	case err == io.EOF:
		// sio saw the final package and the end of the section with
		// plaintext still owed.
		return fmt.Errorf("%w: part %d ends before the layout says: %w", ErrTampered, r.part, io.ErrUnexpectedEOF)
	default:
		return fmt.Errorf("crypto: decrypting part %d: %w", r.part, err)
	}
}

func (r *reader) fail(err error) error {
	r.err = err
	r.dec = nil
	clear(r.key)
	return err
}

// errBody marks errors from reading the fetched stream, as opposed to its
// content.
var errBody = errors.New("crypto: reading sealed blob")

// section is one part's share of the fetched span: it reads exactly left
// bytes of r, and keeps a copy of the header of the section's last package
// (at hdrOff) as it goes by, so its final flag can be checked once sio has
// authenticated it.
//
// A body that ends early is reported as ErrTampered wrapping
// io.ErrUnexpectedEOF, and every other error is wrapped, so that sio never
// sees a bare io.ErrUnexpectedEOF, which it would take for a short final
// package and try to open.
type section struct {
	r      io.Reader
	left   int64
	pos    int64
	hdrOff int64
	hdr    [16]byte
}

func (s *section) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	if end := s.pos + int64(n); end > s.hdrOff && s.pos < s.hdrOff+int64(len(s.hdr)) {
		from := max(s.hdrOff, s.pos)
		to := min(s.hdrOff+int64(len(s.hdr)), end)
		copy(s.hdr[from-s.hdrOff:to-s.hdrOff], p[from-s.pos:to-s.pos])
	}
	s.pos += int64(n)
	s.left -= int64(n)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF && s.left == 0:
		return n, nil // sections of later parts follow on the same body
	case err == io.EOF:
		return n, fmt.Errorf("%w: sealed stream ends %d bytes early: %w", ErrTampered, s.left, io.ErrUnexpectedEOF)
	default:
		return n, fmt.Errorf("%w: %w", errBody, err)
	}
}

var _ interface {
	io.ReadCloser
	io.WriterTo
} = (*reader)(nil)
