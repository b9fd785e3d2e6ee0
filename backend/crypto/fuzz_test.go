package crypto

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpen seals a random blob, optionally damages it (flipped bits, cut
// short) or reads it with a wrong layout, and reads a random range. It must
// never panic; a read that succeeds must return exactly the plaintext, and a
// read whose fetched span holds a damaged byte must fail with ErrTampered.
func FuzzOpen(f *testing.F) {
	// seed, size, part packages, off, n, flip position, flip mask, cut, layout change
	f.Add(uint64(1), uint32(0), uint8(1), int64(0), int64(-1), uint32(0), uint8(0), uint32(0), int32(0))
	f.Add(uint64(2), uint32(1), uint8(1), int64(0), int64(1), uint32(0), uint8(0), uint32(0), int32(0))
	f.Add(uint64(3), uint32(65537), uint8(1), int64(65535), int64(2), uint32(0), uint8(0), uint32(0), int32(0))
	f.Add(uint64(4), uint32(300000), uint8(2), int64(100000), int64(-1), uint32(131140), uint8(1), uint32(0), int32(0))
	f.Add(uint64(5), uint32(300000), uint8(2), int64(0), int64(-1), uint32(0), uint8(0), uint32(70), int32(0))
	f.Add(uint64(6), uint32(262144), uint8(2), int64(131072), int64(65536), uint32(4), uint8(0x80), uint32(0), int32(0))
	f.Add(uint64(7), uint32(200000), uint8(1), int64(0), int64(-1), uint32(0), uint8(0), uint32(0), int32(-65536))
	f.Add(uint64(8), uint32(200000), uint8(3), int64(5), int64(10), uint32(0), uint8(0), uint32(0), int32(1))
	f.Add(uint64(9), uint32(131072), uint8(1), int64(-1), int64(-2), uint32(0), uint8(0), uint32(0), int32(0))
	f.Fuzz(func(t *testing.T, seed uint64, size uint32, partPkgs uint8, off, n int64,
		flipAt uint32, flip uint8, cut uint32, resize int32) {
		// Keep blobs small enough for many iterations a second.
		partSize := int64(1+partPkgs%3) * PackageSize
		l := Layout{Size: int64(size % (5 * PackageSize)), PartSize: partSize}
		key := testKey(byte(seed))
		plain := testPlain(int(l.Size), seed)
		sealed, _ := sealStream(t, key, partSize, plain)

		flipped, kept := -1, len(sealed) // damage: a flipped byte, a cut
		if flip != 0 && len(sealed) > 0 {
			flipped = int(flipAt) % len(sealed)
			sealed[flipped] ^= flip
		}
		if cut != 0 && len(sealed) > 0 {
			kept = len(sealed) - int(cut)%len(sealed)
			sealed = sealed[:kept]
		}
		damaged := func(spans []span) bool {
			for _, s := range spans {
				if s.off+s.n > int64(kept) || int64(flipped) >= s.off && int64(flipped) < s.off+s.n {
					return true
				}
			}
			return false
		}
		read := l
		switch resize % 3 {
		case 1:
			read.Size += int64(resize / 3)
		case 2:
			read.PartSize = int64(1+(resize/3)%4) * PackageSize
		}

		st := &store{blob: sealed}
		got, err := readRange(key, read, off, n, st.fetch)
		if n == -1 {
			n = read.Size - off
		}
		valid := read.Validate() == nil
		inRange := valid && off >= 0 && n >= 0 && off <= read.Size && n <= read.Size-off
		switch {
		case !valid:
			if !errors.Is(err, ErrInvalidLayout) {
				t.Fatalf("layout %+v: %v, want ErrInvalidLayout", read, err)
			}
			return
		case !inRange:
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("[%d, +%d) of %d: %v, want ErrInvalidRange", off, n, read.Size, err)
			}
			return
		case err != nil:
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("[%d, +%d): %v, want ErrTampered", off, n, err)
			}
			if read == l && !damaged(st.fetches()) {
				t.Fatalf("[%d, +%d): intact span rejected: %v", off, n, err)
			}
			return
		}
		// Success must mean the true plaintext, even under a wrong layout.
		if n > 0 && (off+n > l.Size || !bytes.Equal(got, plain[off:off+n])) || n == 0 && len(got) != 0 {
			t.Fatalf("[%d, +%d): wrong plaintext accepted (layout %+v)", off, n, read)
		}
		if damaged(st.fetches()) {
			t.Fatalf("[%d, +%d): damage inside the fetched span went unnoticed", off, n)
		}
		if read == l {
			if f := st.fetches(); n > 0 && (len(f) != 1 || f[0] != wantSpan(l, off, n)) {
				t.Fatalf("[%d, +%d): fetched %v, want %v", off, n, f, wantSpan(l, off, n))
			}
		}
	})
}

// FuzzLayout checks the layout arithmetic against its definition for any
// Size and PartSize, and that no input panics.
func FuzzLayout(f *testing.F) {
	f.Add(int64(0), int64(PackageSize))
	f.Add(int64(1), int64(PackageSize))
	f.Add(int64(65537), int64(PackageSize))
	f.Add(int64(3*DefaultPartSize), DefaultPartSize)
	f.Add(int64(1<<50), int64(4<<30))
	f.Add(int64(-1), int64(0))
	f.Add(int64(1<<62), int64(-1<<62))
	f.Fuzz(func(t *testing.T, size, partSize int64) {
		l := Layout{Size: size, PartSize: partSize}
		if l.Validate() != nil {
			if l.Parts() != 0 || l.SealedSize() != 0 || l.PartPlainSize(0) != 0 || l.PartSealedOffset(0) != 0 {
				t.Fatalf("invalid %+v has parts", l)
			}
			return
		}
		parts := l.Parts()
		if (parts == 0) != (size == 0) || int64(parts-1)*partSize >= max(size, 1) || int64(parts)*partSize < size {
			t.Fatalf("%+v: %d parts", l, parts)
		}
		if l.SealedSize() < size || parts <= 1 && l.SealedSize() != SealedSize(size) {
			t.Fatalf("%+v: sealed size %d", l, l.SealedSize())
		}
		// Parts can number billions; check the first two and last two.
		sum := int64(0)
		for _, i := range []int{0, 1, parts - 2, parts - 1} {
			if i < 0 || i >= parts {
				continue
			}
			p := l.PartPlainSize(i)
			if p <= 0 || p > partSize || (i < parts-1 && p != partSize) {
				t.Fatalf("%+v: part %d holds %d", l, i, p)
			}
			if l.PartSealedOffset(i+1)-l.PartSealedOffset(i) != l.PartSealedSize(i) {
				t.Fatalf("%+v: part %d offsets do not add up", l, i)
			}
			if i == parts-1 {
				sum = int64(i)*partSize + p
			}
		}
		if sum != size || l.PartSealedOffset(parts) != l.SealedSize() {
			t.Fatalf("%+v: parts hold %d bytes, end at %d", l, sum, l.PartSealedOffset(parts))
		}
	})
}
