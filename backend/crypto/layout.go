package crypto

import (
	"errors"
	"fmt"
	"math"
)

// PackageSize is the plaintext held by one DARE 2.0 package. Only the last
// package of a part may hold less, which is what makes every offset in a
// sealed blob computable from its Layout.
const PackageSize = 64 << 10

// PackageOverhead is what sealing adds to each package: a 16-byte header
// (version, cipher, length, nonce with final flag) and a 16-byte GCM tag.
const PackageOverhead = 32

// DefaultPartSize is the part size for streamed uploads: large enough that
// per-part costs (key derivation, cipher setup, one store part) vanish,
// small enough that parts can be sealed and sent in parallel.
const DefaultPartSize int64 = 16 << 20

const (
	// sealedPackageSize is the sealed size of a full package.
	sealedPackageSize = PackageSize + PackageOverhead

	// MaxPartSize keeps a part's package count far below DARE's 2^32
	// sequence numbers and its length within what stores accept per part.
	MaxPartSize int64 = 4 << 30

	// maxParts keeps part indexes within int on every platform, and so
	// within the uint32 of the part key derivation.
	maxParts = math.MaxInt32

	// maxSize (1 PiB) is beyond any store's object size and keeps every
	// offset computed here far from int64 overflow.
	maxSize int64 = 1 << 50
)

var (
	// ErrInvalidLayout reports a Size or PartSize no blob can have; it
	// usually means corrupt metadata or a caller bug, never bad content.
	ErrInvalidLayout = errors.New("crypto: invalid blob layout")

	// ErrInvalidRange reports a plaintext range that is not inside the blob.
	ErrInvalidRange = errors.New("crypto: invalid range")

	// ErrTampered reports that sealed data failed authentication or does not
	// match its layout: a flipped bit, truncation, extension, reordering or
	// the wrong key. It never carries key material or plaintext.
	ErrTampered = errors.New("crypto: sealed data is corrupt or tampered with")
)

// Layout is the shape of a sealed blob: its plaintext Size and the plaintext
// PartSize of its parts. It is kept in metadata and is all that is needed to
// locate any part or package in the sealed bytes.
//
// Methods other than Validate treat an invalid layout as having no parts, so
// a corrupt record cannot make them panic; callers that read a layout from
// storage should still Validate it to tell the two apart.
type Layout struct {
	Size     int64 // plaintext bytes in the blob
	PartSize int64 // plaintext bytes per part; the last part may hold less
}

// Validate reports, as ErrInvalidLayout, a PartSize that is not a positive
// multiple of PackageSize up to 4 GiB, or a Size that is negative, above
// 1 PiB, or needs more than 2^31-1 parts.
func (l Layout) Validate() error {
	switch {
	case l.PartSize <= 0 || l.PartSize%PackageSize != 0 || l.PartSize > MaxPartSize:
		return fmt.Errorf("%w: part size %d is not a multiple of %d between %d and %d",
			ErrInvalidLayout, l.PartSize, PackageSize, PackageSize, MaxPartSize)
	case l.Size < 0 || l.Size > maxSize:
		return fmt.Errorf("%w: size %d is not between 0 and %d", ErrInvalidLayout, l.Size, maxSize)
	case l.parts() > maxParts:
		return fmt.Errorf("%w: size %d needs more than %d parts of %d bytes",
			ErrInvalidLayout, l.Size, maxParts, l.PartSize)
	}
	return nil
}

// valid is Validate without building an error, for the accessors below.
func (l Layout) valid() bool {
	return l.PartSize > 0 && l.PartSize%PackageSize == 0 && l.PartSize <= MaxPartSize &&
		l.Size >= 0 && l.Size <= maxSize && l.parts() <= maxParts
}

// parts assumes PartSize > 0 and Size >= 0.
func (l Layout) parts() int64 { return (l.Size + l.PartSize - 1) / l.PartSize }

// Parts returns the number of parts: 0 for an empty blob (or an invalid
// layout), otherwise ceil(Size/PartSize).
func (l Layout) Parts() int {
	if !l.valid() {
		return 0
	}
	return int(l.parts())
}

// PartPlainSize returns the plaintext length of part i: PartSize for all but
// the last part, the remainder for the last. It returns 0 when i is not in
// [0, Parts()).
func (l Layout) PartPlainSize(i int) int64 {
	n := l.Parts()
	switch {
	case i < 0 || i >= n:
		return 0
	case i == n-1:
		return l.Size - int64(i)*l.PartSize
	default:
		return l.PartSize
	}
}

// PartSealedSize returns the sealed length of part i, SealedSize of its
// plaintext length; 0 when i is not in [0, Parts()).
func (l Layout) PartSealedSize(i int) int64 {
	return SealedSize(l.PartPlainSize(i))
}

// PartSealedOffset returns where part i starts in the sealed blob. All parts
// before i are full, so this is i*SealedSize(PartSize). PartSealedOffset
// (Parts()) is SealedSize(), the end of the blob; any other i outside
// [0, Parts()) gives 0.
func (l Layout) PartSealedOffset(i int) int64 {
	n := l.Parts()
	switch {
	case i < 0 || i > n:
		return 0
	case i == n:
		return l.SealedSize()
	default:
		return int64(i) * SealedSize(l.PartSize)
	}
}

// SealedSize returns the length of the whole sealed blob: 0 for an empty
// blob (or an invalid layout).
func (l Layout) SealedSize() int64 {
	n := l.Parts()
	if n == 0 {
		return 0
	}
	return int64(n-1)*SealedSize(l.PartSize) + l.PartSealedSize(n-1)
}

// SealedSize returns the sealed length of one DARE 2.0 stream of plain bytes:
// plain plus PackageOverhead per started package. It returns 0 for plain <= 0,
// as an empty stream is sealed as nothing. Sizes beyond what a Layout allows
// (1 PiB) may overflow.
func SealedSize(plain int64) int64 {
	if plain <= 0 {
		return 0
	}
	return plain + PackageOverhead*((plain+PackageSize-1)/PackageSize)
}

// packages returns the number of DARE packages sealing plain bytes.
func packages(plain int64) int64 { return (plain + PackageSize - 1) / PackageSize }
