package server

import (
	"errors"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		h       string
		size    int64
		off, n  int64
		wantErr bool
	}{
		{"bytes=0-0", 10, 0, 1, false},
		{"bytes=0-9", 10, 0, 10, false},
		{"bytes=0-99", 10, 0, 10, false},
		{"bytes=9-", 10, 9, 1, false},
		{"bytes=3-5", 10, 3, 3, false},
		{"bytes=-1", 10, 9, 1, false},
		{"bytes=-10", 10, 0, 10, false},
		{"bytes=-11", 10, 0, 10, false},
		{"bytes= 2 - 4 ", 10, 2, 3, false},
		{"bytes=10-", 10, 0, 0, true},
		{"bytes=10-20", 10, 0, 0, true},
		{"bytes=0-", 0, 0, 0, true},
		{"bytes=-1", 0, 0, 0, true},
		{"bytes=-0", 10, 0, 0, true},
		{"bytes=5-4", 10, 0, 0, true},
		{"bytes=0-1,3-4", 10, 0, 0, true},
		{"bytes=a-b", 10, 0, 0, true},
		{"bytes=-", 10, 0, 0, true},
		{"bytes=+1-2", 10, 0, 0, true},
		{"bytes=1", 10, 0, 0, true},
		{"items=0-1", 10, 0, 0, true},
		{"bytes=99999999999999999999-", 10, 0, 0, true},
		{"", 10, 0, 0, true},
	} {
		off, n, err := parseRange(c.h, c.size)
		if c.wantErr {
			if !errors.Is(err, errRange) {
				t.Errorf("parseRange(%q, %d) = %d, %d, %v; want errRange", c.h, c.size, off, n, err)
			}
			continue
		}
		if err != nil || off != c.off || n != c.n {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v; want %d, %d", c.h, c.size, off, n, err, c.off, c.n)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add("bytes=0-10", int64(100))
	f.Add("bytes=-5", int64(3))
	f.Add("bytes=7-", int64(0))
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		off, n, err := parseRange(h, size)
		if err != nil {
			if !errors.Is(err, errRange) {
				t.Fatalf("error not errRange: %v", err)
			}
			return
		}
		if off < 0 || n <= 0 || off+n > size {
			t.Fatalf("parseRange(%q, %d) = %d, %d: outside the file", h, size, off, n)
		}
	})
}
