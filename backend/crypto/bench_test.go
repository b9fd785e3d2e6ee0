package crypto

import (
	"bytes"
	"context"
	"io"
	"testing"
)

const benchSize = 16 << 20

// onlyReader hides WriteTo, to measure the plain Read path with io.Copy's
// 32 KiB buffer.
type onlyReader struct{ io.Reader }

func BenchmarkSeal(b *testing.B) {
	key := testKey(1)
	plain := testPlain(benchSize, 1)
	for _, c := range []struct {
		name string
		seal func() (io.Reader, error)
	}{
		{"Sealer/WriteTo", func() (io.Reader, error) {
			return NewSealer(key, DefaultPartSize, bytes.NewReader(plain))
		}},
		{"Sealer/Read32K", func() (io.Reader, error) {
			s, err := NewSealer(key, DefaultPartSize, bytes.NewReader(plain))
			return onlyReader{s}, err
		}},
		{"SealPart", func() (io.Reader, error) {
			return SealPart(key, Layout{benchSize, DefaultPartSize}, 0, bytes.NewReader(plain))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				r, err := c.seal()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	key := testKey(1)
	plain := testPlain(benchSize, 1)
	sealed, l := sealStream(b, key, DefaultPartSize, plain)
	fetch := func(_ context.Context, off, n int64) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(sealed[off : off+n])), nil
	}
	for _, c := range []struct {
		name   string
		off, n int64
		wrap   func(io.Reader) io.Reader
	}{
		{"WriteTo", 0, -1, nil},
		{"Read32K", 0, -1, func(r io.Reader) io.Reader { return onlyReader{r} }},
		{"Unaligned", 12345, benchSize - 2*12345, nil},
		{"Range4K", 5 << 20, 4 << 10, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := c.n
			if n == -1 {
				n = l.Size - c.off
			}
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				rc, err := Open(context.Background(), key, l, c.off, c.n, fetch)
				if err != nil {
					b.Fatal(err)
				}
				var r io.Reader = rc
				if c.wrap != nil {
					r = c.wrap(rc)
				}
				if got, err := io.Copy(io.Discard, r); err != nil || got != n {
					b.Fatal(got, err)
				}
				rc.Close()
			}
		})
	}
}
