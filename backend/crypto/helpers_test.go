package crypto

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
)

func testKey(b byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func testPlain(n int, seed uint64) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// refPartKey derives a part key from the format's definition, independently
// of PartKey.
func refPartKey(dataKey []byte, i uint32) []byte {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte{'p', 'a', 'r', 't', byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
	return m.Sum(nil)
}

// sealStream seals plain with NewSealer and checks the size it reports.
func sealStream(t testing.TB, key []byte, partSize int64, plain []byte) ([]byte, Layout) {
	t.Helper()
	s, err := NewSealer(key, partSize, bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	l := Layout{Size: s.Size(), PartSize: partSize}
	if l.Size != int64(len(plain)) {
		t.Fatalf("Sealer.Size = %d, want %d", l.Size, len(plain))
	}
	if int64(len(sealed)) != l.SealedSize() {
		t.Fatalf("sealed %d bytes, layout says %d", len(sealed), l.SealedSize())
	}
	return sealed, l
}

// sealParts seals every part with SealPart in a shuffled order and joins
// them in part order.
func sealParts(t testing.TB, key []byte, l Layout, plain []byte, rng *rand.Rand) []byte {
	t.Helper()
	parts := make([][]byte, l.Parts())
	for _, i := range rng.Perm(l.Parts()) {
		start := int64(i) * l.PartSize
		r, err := SealPart(key, l, i, bytes.NewReader(plain[start:start+l.PartPlainSize(i)]))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if int64(len(b)) != l.PartSealedSize(i) {
			t.Fatalf("part %d sealed to %d bytes, layout says %d", i, len(b), l.PartSealedSize(i))
		}
		parts[i] = b
	}
	sealed := bytes.Join(parts, nil)
	if int64(len(sealed)) != l.SealedSize() {
		t.Fatalf("sealed %d bytes, layout says %d", len(sealed), l.SealedSize())
	}
	return sealed
}

type span struct{ off, n int64 }

// store serves a sealed blob the way a ranged blob.Store.Get would, clipping
// ranges at the end of what it holds, and records every fetch.
type store struct {
	blob []byte
	mu   sync.Mutex
	got  []span
}

func (s *store) fetch(_ context.Context, off, n int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.got = append(s.got, span{off, n})
	s.mu.Unlock()
	size := int64(len(s.blob))
	off, end := min(off, size), min(off+n, size)
	return io.NopCloser(bytes.NewReader(s.blob[off:end])), nil
}

func (s *store) fetches() []span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]span(nil), s.got...)
}

func readRange(key []byte, l Layout, off, n int64, fetch Fetch) ([]byte, error) {
	rc, err := Open(context.Background(), key, l, off, n, fetch)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// wantSpan computes, package by package, the sealed span a read of plaintext
// [off, off+n) needs: every package that holds a byte of the range.
func wantSpan(l Layout, off, n int64) span {
	if n == 0 {
		return span{}
	}
	start, end := int64(-1), int64(-1)
	sealedOff, plainOff := int64(0), int64(0)
	for i := range l.Parts() {
		left := l.PartPlainSize(i)
		for left > 0 {
			p := min(left, PackageSize)
			if plainOff < off+n && plainOff+p > off {
				if start < 0 {
					start = sealedOff
				}
				end = sealedOff + p + PackageOverhead
			}
			plainOff += p
			sealedOff += p + PackageOverhead
			left -= p
		}
	}
	return span{start, end - start}
}
