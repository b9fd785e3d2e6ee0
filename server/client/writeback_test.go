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
	const have = 3 << 20 // a resumed download's bytes already there
	if _, err := f.Write(bytes.Repeat([]byte{1}, have)); err != nil {
		t.Fatal(err)
	}
	var started [][2]int64
	w := &writebackWriter{f: f, off: have, started: have, start: func(_ *os.File, off, n int64) {
		started = append(started, [2]int64{off, n})
	}}
	chunk := bytes.Repeat([]byte{2}, 3<<20)
	for range 6 { // 18 MiB
		if n, err := w.Write(chunk); err != nil || n != len(chunk) {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	want := [][2]int64{{have, 9 << 20}, {have + 9<<20, 9 << 20}}
	if !slices.Equal(started, want) {
		t.Fatalf("writeback started for %v, want %v", started, want)
	}
	if fi, _ := f.Stat(); fi.Size() != have+18<<20 {
		t.Fatalf("file is %d bytes, want %d", fi.Size(), have+18<<20)
	}
}

// The real call on a real file: it must not disturb what is written.
func TestStartWritebackOnFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "download"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := bytes.Repeat([]byte("strata"), 3<<20)
	w := &writebackWriter{f: f}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want %d", len(got), err, len(data))
	}
}
