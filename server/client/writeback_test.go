package client

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWritebackWriterStartsEachStretch(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "download"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const have = 3 << 10 // a resumed download's bytes already there
	if _, err := f.Write(bytes.Repeat([]byte{1}, have)); err != nil {
		t.Fatal(err)
	}
	var started [][2]int64
	w := &writebackWriter{f: f, off: have, started: have, stretch: 8 << 10, start: func(_ *os.File, off, n int64) {
		started = append(started, [2]int64{off, n})
	}}
	chunk := bytes.Repeat([]byte{2}, 3<<10)
	for range 6 { // 18 KiB
		if n, err := w.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	want := [][2]int64{{have, 9 << 10}, {have + 9<<10, 9 << 10}}
	if !slices.Equal(started, want) {
		t.Fatalf("writeback started for %v, want %v", started, want)
	}
	if fi, _ := f.Stat(); fi.Size() != have+18<<10 {
		t.Fatalf("file is %d bytes, want %d", fi.Size(), have+18<<10)
	}
}
