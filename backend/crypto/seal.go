package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/minio/sio"
)

// dataKeySize is the length of a data key: keys.Service hands out 256-bit
// keys, and anything else is almost certainly a wrapped key passed by mistake.
const dataKeySize = 32

// PartKey returns the 32-byte key sealing part i of a blob:
// HMAC-SHA256(dataKey, "part" || uint32 big-endian i). Distinct parts get
// unrelated keys, so parts can be sealed independently and in any order, and
// a part moved to another index fails authentication.
//
// PartKey panics if i is negative or above math.MaxUint32: truncating the
// index would silently reuse another part's key.
func PartKey(dataKey []byte, i int) []byte {
	if i < 0 || uint64(i) > math.MaxUint32 {
		panic(fmt.Sprintf("crypto: part index %d out of range", i))
	}
	var msg [8]byte
	copy(msg[:4], "part")
	binary.BigEndian.PutUint32(msg[4:], uint32(i))
	m := hmac.New(sha256.New, dataKey)
	m.Write(msg[:])
	return m.Sum(nil)
}

func checkDataKey(dataKey []byte) error {
	if len(dataKey) != dataKeySize {
		return fmt.Errorf("crypto: data key is %d bytes, want %d", len(dataKey), dataKeySize)
	}
	return nil
}

// partConfig is the only DARE configuration Strata writes or accepts:
// version 2.0 with AES-256-GCM. Pinning both ends keeps sio from falling back
// to 1.0 or ChaCha20 on some machine, which would change the format.
func partConfig(partKey []byte, seq uint32) sio.Config {
	return sio.Config{
		MinVersion:     sio.Version20,
		MaxVersion:     sio.Version20,
		CipherSuites:   []byte{sio.AES_256_GCM},
		Key:            partKey,
		SequenceNumber: seq,
	}
}

// newPartEncrypter seals plain as part i. sio expands the key into its cipher
// at once, so the derived key is wiped before returning.
func newPartEncrypter(dataKey []byte, i int, plain io.Reader) (io.Reader, error) {
	key := PartKey(dataKey, i)
	defer clear(key)
	enc, err := sio.EncryptReader(plain, partConfig(key, 0))
	if err != nil {
		return nil, fmt.Errorf("crypto: sealing part %d: %w", i, err)
	}
	return enc, nil
}

// SealPart returns a reader yielding the sealed form of part i of a blob with
// layout l: exactly l.PartSealedSize(i) bytes. It reads exactly
// l.PartPlainSize(i) bytes from plain; if plain ends early, reading fails with
// an error wrapping io.ErrUnexpectedEOF, and if plain has more bytes, with an
// error saying it is too long — a wrong length is never sealed. Any other
// error from plain is returned wrapped. Errors are sticky.
//
// Parts are independent, so they may be sealed concurrently and in any order;
// the blob is their sealed forms concatenated in part order.
func SealPart(dataKey []byte, l Layout, i int, plain io.Reader) (io.Reader, error) {
	if err := checkDataKey(dataKey); err != nil {
		return nil, err
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	if i < 0 || i >= l.Parts() {
		return nil, fmt.Errorf("%w: no part %d in a blob of %d parts", ErrInvalidLayout, i, l.Parts())
	}
	src := &exactReader{r: plain, left: l.PartPlainSize(i), want: l.PartPlainSize(i), part: i}
	enc, err := newPartEncrypter(dataKey, i, src)
	if err != nil {
		return nil, err
	}
	return &stickyReader{r: enc}, nil
}

// exactReader passes on exactly want bytes of r, then EOF, and fails if r
// holds fewer or more.
//
// Every error it returns is wrapped, never io.ErrUnexpectedEOF itself: sio
// takes a bare io.ErrUnexpectedEOF from its io.ReadFull as "short read, seal
// the final package", which would quietly seal a truncated part.
type exactReader struct {
	r    io.Reader
	left int64
	want int64
	part int
	err  error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		// The part is complete; r must be exhausted too.
		var b [1]byte
		n, err := io.ReadFull(e.r, b[:])
		switch {
		case n > 0:
			e.err = fmt.Errorf("crypto: part %d: plaintext is too long: more than %d bytes", e.part, e.want)
		case err == io.EOF:
			e.err = io.EOF
		default:
			e.err = fmt.Errorf("crypto: reading plaintext of part %d: %w", e.part, err)
		}
		return 0, e.err
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == nil:
	case err == io.EOF && e.left == 0:
		e.err = io.EOF
		return n, nil // this call's bytes first; EOF on the next
	case err == io.EOF:
		e.err = fmt.Errorf("crypto: part %d: plaintext ended after %d of %d bytes: %w",
			e.part, e.want-e.left, e.want, io.ErrUnexpectedEOF)
		return n, e.err
	default:
		e.err = fmt.Errorf("crypto: reading plaintext of part %d: %w", e.part, err)
		return n, e.err
	}
	return n, nil
}

// stickyReader repeats the first error (or EOF) of r forever. sio's readers
// do not always remember a failure, and a later Read could otherwise end in
// a clean EOF after a failed part.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}

// Sealer seals a plaintext stream of unknown length as a blob, part after
// part. Create it with NewSealer.
type Sealer struct {
	key      []byte // copy of the data key, wiped when sealing ends
	partSize int64
	src      io.Reader
	part     int       // index of the part being sealed
	chunk    partChunk // the current part's window on src
	enc      io.Reader // sealer of the current part; nil between parts
	size     int64     // plaintext bytes in finished parts
	buf      []byte    // WriteTo's buffer, allocated on first use
	err      error     // sticky: io.EOF when done
}

// NewSealer returns a reader of the sealed blob for plain, whose length need
// not be known: it cuts plain into parts of partSize and seals each in turn
// under its part key. After Read returns io.EOF, Size returns the plaintext
// length and Layout{Size: s.Size(), PartSize: partSize} describes exactly the
// bytes produced. Memory stays at a couple of packages whatever the length.
//
// Errors from plain are returned wrapped and are sticky: a failed stream never
// ends in io.EOF, so a half-read input cannot be committed as a whole blob.
func NewSealer(dataKey []byte, partSize int64, plain io.Reader) (*Sealer, error) {
	if err := checkDataKey(dataKey); err != nil {
		return nil, err
	}
	if err := (Layout{PartSize: partSize}).Validate(); err != nil {
		return nil, err
	}
	return &Sealer{key: bytes.Clone(dataKey), partSize: partSize, src: plain}, nil
}

// Size returns the plaintext bytes sealed so far; after Read has returned
// io.EOF, the length of the whole plaintext.
func (s *Sealer) Size() int64 {
	if s.enc != nil {
		return s.size + s.chunk.read
	}
	return s.size
}

// Read reads sealed bytes. Give it at least 65568 bytes at a time to let sio
// seal straight into p.
func (s *Sealer) Read(p []byte) (int, error) {
	if len(p) == 0 && s.err == nil {
		return 0, nil // sio would return 0, nil forever and this loop with it
	}
	for s.err == nil {
		if s.enc == nil {
			s.chunk = partChunk{r: s.src, left: s.partSize}
			enc, err := newPartEncrypter(s.key, s.part, &s.chunk)
			if err != nil {
				return 0, s.fail(err)
			}
			s.enc = enc
		}
		n, err := s.enc.Read(p)
		switch {
		case err == io.EOF:
			s.size += s.chunk.read
			s.enc = nil
			if s.chunk.read < s.partSize {
				s.finish()
			} else {
				s.part++
			}
		case err != nil:
			if !errors.Is(err, errSource) {
				err = fmt.Errorf("crypto: sealing part %d: %w", s.part, err)
			}
			return n, s.fail(err)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, s.err
}

// WriteTo writes the whole sealed blob to w, sealing straight into its own
// buffer; io.Copy uses it.
func (s *Sealer) WriteTo(w io.Writer) (int64, error) {
	if s.buf == nil {
		s.buf = make([]byte, 2*sealedPackageSize)
	}
	return writeTo(w, s, s.buf)
}

// finish ends the stream, refusing to report a layout that could not be
// stored.
func (s *Sealer) finish() {
	if err := (Layout{Size: s.size, PartSize: s.partSize}).Validate(); err != nil {
		s.fail(fmt.Errorf("crypto: plaintext stream too long: %w", err))
		return
	}
	s.fail(io.EOF)
}

func (s *Sealer) fail(err error) error {
	s.err = err
	s.enc = nil
	clear(s.key)
	return err
}

// errSource marks errors from the plaintext source, which are reported as
// they are rather than as sealing failures.
var errSource = errors.New("crypto: reading plaintext")

// partChunk passes on at most left bytes of r and counts them. Source errors
// are wrapped for the same reason as in exactReader.
type partChunk struct {
	r    io.Reader
	left int64
	read int64
}

func (c *partChunk) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	c.read += int64(n)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", errSource, err)
	}
	return n, err
}

// writeTo copies r to w through buf. It exists because io.CopyBuffer would
// call r's own WriteTo and recurse.
func writeTo(w io.Writer, r io.Reader, buf []byte) (int64, error) {
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
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
