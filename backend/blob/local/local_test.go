package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/blob"
)

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openSmallParts opens a store that accepts parts of any size but empty, so
// that tests about something else can build multipart objects of many small
// parts. TestConformance holds the real store to blob.MinPartSize.
func openSmallParts(t testing.TB, dir string) *Store {
	t.Helper()
	s := openStore(t, dir)
	s.minPartSize = 1
	return s
}

func TestConformance(t *testing.T) {
	backendtest.RunBlob(t, func(t *testing.T) blob.Store {
		return openStore(t, t.TempDir())
	})
}

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "store")
	s := openStore(t, dir)
	if s.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", s.Dir(), dir)
	}
	for _, d := range []string{".", objectsDir, tmpDir, uploadsDir} {
		fi, err := os.Stat(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want a directory with 0700", d, fi.Mode())
		}
	}
	// Opening again finds what is there.
	put(t, s, "kept", []byte("kept"))
	s2 := openStore(t, dir)
	if got := get(t, s2, "kept"); string(got) != "kept" {
		t.Errorf("after reopening: %q", got)
	}
	if entries := readDir(t, filepath.Join(dir, tmpDir)); len(entries) != 0 {
		t.Errorf("tmp/ holds %v after Open", entries)
	}
}

func TestOpenRejectsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(file); err == nil {
		s.Close()
		t.Fatal("Open of a file succeeded")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, objectsDir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir); err == nil {
		s.Close()
		t.Fatal("Open of a store whose objects/ is a file succeeded")
	}
}

// TestFailuresLeaveNoTemp drives every way a write can fail, and the
// replacements that move objects aside, and checks that tmp/ ends empty.
func TestFailuresLeaveNoTemp(t *testing.T) {
	ctx := t.Context()
	s := openSmallParts(t, t.TempDir())
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	errRead := errors.New("read failed")

	put(t, s, "k", []byte("old"))
	fails := map[string]error{
		"short":       s.Put(ctx, "k", onlyReader(data[:100]), 101),
		"long":        s.Put(ctx, "k", onlyReader(data[:102]), 101),
		"reader":      s.Put(ctx, "k", io.MultiReader(bytes.NewReader(data), failReader{errRead}), -1),
		"cancelled":   s.Put(cancelledCtx(t), "k", bytes.NewReader(data), int64(len(data))),
		"cancel-mid":  putCancelledMidway(t, s, "k", data),
		"file-short":  s.Put(ctx, "k", tempFile(t, data[:100]), 101),
		"file-long":   s.Put(ctx, "k", tempFile(t, data[:102]), 101),
		"invalid-key": s.Put(ctx, "../k", bytes.NewReader(data), int64(len(data))),
	}
	id, err := s.Begin(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	part, err := s.PutPart(ctx, "m", id, 1, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	_, fails["part-short"] = s.PutPart(ctx, "m", id, 2, onlyReader(data[:5]), 6)
	_, fails["part-reader"] = s.PutPart(ctx, "m", id, 2, failReader{errRead}, 6)
	fails["complete-stale"] = s.Complete(ctx, "m", id, []blob.Part{{Number: 1, Tag: "1-00000000"}})
	fails["complete-missing"] = s.Complete(ctx, "m", id, []blob.Part{part, {Number: 2, Tag: part.Tag}})
	for name, err := range fails {
		if err == nil {
			t.Errorf("%s: succeeded", name)
		}
	}
	wantTmpEmpty(t, s)

	// Replacements across kinds move the old object through tmp/.
	if err := s.Complete(ctx, "k", mustBegin(t, s, "k"), nil); err == nil {
		t.Error("Complete with no parts succeeded")
	}
	complete(t, s, "k", [][]byte{data, []byte("tail")})
	put(t, s, "k", []byte("plain again"))
	complete(t, s, "k", [][]byte{[]byte("multipart again")})
	complete(t, s, "k", [][]byte{[]byte("and again")})
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "m", id, []blob.Part{part}); err != nil {
		t.Fatal(err)
	}
	if err := s.Abort(ctx, "m", mustBegin(t, s, "m")); err != nil {
		t.Fatal(err)
	}
	wantTmpEmpty(t, s)
	if entries := readDir(t, filepath.Join(s.Dir(), uploadsDir)); len(entries) != 1 {
		t.Errorf("uploads/ = %v, want only the upload begun for the no-parts Complete", entries)
	}
}

func putCancelledMidway(t *testing.T, s *Store, key string, data []byte) error {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancelReader{r: bytes.NewReader(data), after: 1000, cancel: cancel}
	return s.Put(ctx, key, r, int64(len(data)))
}

// TestNothingOutsideTouched points every method at keys, upload IDs, tags and
// prefixes that try to leave the store, and at a symbolic link planted inside
// it, and checks that a directory next to the store is unchanged.
func TestNothingOutsideTouched(t *testing.T) {
	ctx := t.Context()
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	canary := filepath.Join(outside, "canary")
	if err := os.WriteFile(canary, []byte("tweet"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, filepath.Join(parent, "store"))

	// A link in a shard directory, as if planted: keys "ev..." would go
	// through it without os.Root.
	if err := os.Symlink(outside, filepath.Join(s.Dir(), objectsDir, "ev")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../outside", filepath.Join(s.Dir(), objectsDir, "rl")); err != nil {
		t.Fatal(err)
	}

	id := mustBegin(t, s, "owner")
	part, err := s.PutPart(ctx, "owner", id, 1, strings.NewReader("p"), 1)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"../outside/canary", "../../outside/canary", "/" + canary, "..", ".", "canary",
		"ev", "evil", "evcanary", "rl", "rlcanary", "a/../../outside/canary", strings.Repeat("../", 100)}
	ids := []string{"../../outside", "../outside/canary", "/" + outside, id + "/../../../outside", ""}
	tags := []string{"../../../outside/canary", "1-00000000/../../x", "/" + canary}
	for _, key := range keys {
		s.Put(ctx, key, strings.NewReader("overwritten"), 11)
		if rc, err := s.Get(ctx, key, 0, -1); err == nil {
			if b, _ := io.ReadAll(rc); string(b) == "tweet" {
				t.Errorf("Get(%q) read the canary", key)
			}
			rc.Close()
		}
		s.Stat(ctx, key)
		s.Begin(ctx, key)
		s.List(ctx, key, func(info blob.Info) error {
			if info.Key == "canary" && info.Size == 5 {
				t.Errorf("List(%q) shows the canary", key)
			}
			return nil
		})
		s.Delete(ctx, key)
		for _, uid := range append(ids, id) {
			s.PutPart(ctx, key, uid, 1, strings.NewReader("x"), 1)
			s.Complete(ctx, key, uid, []blob.Part{part})
			s.Abort(ctx, key, uid)
		}
	}
	for _, uid := range ids {
		if _, err := s.PutPart(ctx, "owner", uid, 1, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("PutPart(upload %q): err = %v, want ErrNotFound", uid, err)
		}
		s.Complete(ctx, "owner", uid, []blob.Part{part})
		s.Abort(ctx, "owner", uid)
	}
	for _, tag := range tags {
		err := s.Complete(ctx, "owner", id, []blob.Part{{Number: 1, Size: 1, Tag: tag}})
		if !errors.Is(err, blob.ErrInvalidPart) {
			t.Errorf("Complete(tag %q): err = %v, want ErrInvalidPart", tag, err)
		}
	}
	// The planted links lead out of the store, so writes through them fail.
	for _, key := range []string{"evil", "rlx"} {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) through a link out of the store succeeded", key)
		}
	}

	if b, err := os.ReadFile(canary); err != nil || string(b) != "tweet" {
		t.Errorf("canary: %q, %v", b, err)
	}
	if entries := readDir(t, outside); !slices.Equal(entries, []string{"canary"}) {
		t.Errorf("outside holds %v", entries)
	}
	if entries := readDir(t, parent); !slices.Equal(entries, []string{"outside", "store"}) {
		t.Errorf("the store's parent holds %v", entries)
	}
	// The upload used throughout is still whole.
	if err := s.Complete(ctx, "owner", id, []blob.Part{part}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

func TestMapNoSpace(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		orig := &fs.PathError{Op: "write", Path: "/store/tmp/x", Err: errno}
		err := opError("put", "key", orig)
		if !errors.Is(err, blob.ErrNoSpace) {
			t.Errorf("%v: not ErrNoSpace: %v", errno, err)
		}
		if !errors.Is(err, errno) {
			t.Errorf("%v: the original error is lost: %v", errno, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe != orig {
			t.Errorf("%v: the *PathError is lost: %v", errno, err)
		}
		if !strings.HasPrefix(err.Error(), "local: put key: ") {
			t.Errorf("message %q does not name the operation and key", err)
		}
	}
	other := &fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}
	if err := mapNoSpace(other); err != other {
		t.Errorf("mapNoSpace(EIO) = %v, want it unchanged", err)
	}
	if err := mapNoSpace(nil); err != nil {
		t.Errorf("mapNoSpace(nil) = %v", err)
	}
}

// TestCompleteMovesParts checks that Complete renames the part files into
// place rather than copying them, and the layout it leaves.
func TestCompleteMovesParts(t *testing.T) {
	ctx := t.Context()
	s := openSmallParts(t, t.TempDir())
	id := mustBegin(t, s, "moved")
	var parts []blob.Part
	var before []os.FileInfo
	for n, data := range []string{"one", "two", "three"} {
		p, err := s.PutPart(ctx, "moved", id, n+1, strings.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
		fi, err := os.Stat(filepath.Join(s.Dir(), uploadsDir, id, partsDir, partName(n+1, p.Tag)))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, fi)
	}
	if err := s.Complete(ctx, "moved", id, parts); err != nil {
		t.Fatal(err)
	}
	objDir := filepath.Join(s.Dir(), objectsDir, "mo", "moved")
	names := readDir(t, objDir)
	if len(names) != 3 {
		t.Fatalf("object directory holds %v", names)
	}
	for i, name := range names {
		if want := partName(i+1, parts[i].Tag); name != want {
			t.Errorf("entry %d is %q, want %q", i, name, want)
		}
		fi, err := os.Stat(filepath.Join(objDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(fi, before[i]) {
			t.Errorf("part %d was copied, not moved", i+1)
		}
	}
	if entries := readDir(t, filepath.Join(s.Dir(), uploadsDir)); len(entries) != 0 {
		t.Errorf("uploads/ holds %v after Complete", entries)
	}
	if got := get(t, s, "moved"); string(got) != "onetwothree" {
		t.Errorf("Get = %q", got)
	}
}

// TestKeyLayout: every key, the longest and the shortest included, is one
// name in its shard directory.
func TestKeyLayout(t *testing.T) {
	s := openStore(t, t.TempDir())
	for _, c := range []struct{ key, shard string }{
		{strings.Repeat("lk", 64), "lk"},
		{"x", "x"},
		{"-.", "-."},
	} {
		put(t, s, c.key, []byte(c.key))
		want := filepath.Join(s.Dir(), objectsDir, c.shard, c.key)
		if fi, err := os.Stat(want); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("object %q not a file at %s: %v", c.key, want, err)
		}
		if got := get(t, s, c.key); string(got) != c.key {
			t.Errorf("Get(%q) = %q", c.key, got)
		}
	}
}

// TestUploadResumesAfterReopen: acknowledged parts survive a restart of the
// process, and so does a Complete cut short after it sealed the parts.
func TestUploadResumesAfterReopen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openSmallParts(t, dir)
	id := mustBegin(t, s, "resumed")
	p1, err := s.PutPart(ctx, "resumed", id, 1, strings.NewReader("before "), 7)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openSmallParts(t, dir)
	p2, err := s.PutPart(ctx, "resumed", id, 2, strings.NewReader("after"), 5)
	if err != nil {
		t.Fatal(err)
	}
	// As if a Complete had sealed the parts and the process died.
	up := filepath.Join(dir, uploadsDir, id)
	if err := os.Rename(filepath.Join(up, partsDir), filepath.Join(up, sealPrefix+"crashed")); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openSmallParts(t, dir)
	if err := s.Complete(ctx, "resumed", id, []blob.Part{p1, p2}); err != nil {
		t.Fatalf("Complete after a crashed Complete: %v", err)
	}
	if got := get(t, s, "resumed"); string(got) != "before after" {
		t.Errorf("Get = %q", got)
	}
}

func TestUploadBelongsToKey(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir())
	id := mustBegin(t, s, "owner")
	p, err := s.PutPart(ctx, "owner", id, 1, strings.NewReader("x"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPart(ctx, "other", id, 1, strings.NewReader("y"), 1); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("PutPart under another key: err = %v, want ErrNotFound", err)
	}
	if err := s.Complete(ctx, "other", id, []blob.Part{p}); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Complete under another key: err = %v, want ErrNotFound", err)
	}
	if err := s.Abort(ctx, "other", id); err != nil {
		t.Errorf("Abort under another key: %v", err)
	}
	if err := s.Complete(ctx, "owner", id, []blob.Part{p}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if _, err := s.Stat(ctx, "other"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(other): %v", err)
	}
}

// TestDirectoryObjectNeverPartial races readers against Delete and
// replacement of multipart objects: a reader sees the whole object or none.
func TestDirectoryObjectNeverPartial(t *testing.T) {
	ctx := t.Context()
	s := openSmallParts(t, t.TempDir())
	var parts [][]byte
	for i := range 5 {
		parts = append(parts, bytes.Repeat([]byte{byte('a' + i)}, 100+i))
	}
	whole := slices.Concat(parts...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if info, err := s.Stat(ctx, "churn"); err == nil && info.Size != int64(len(whole)) {
					t.Errorf("Stat: size %d of %d", info.Size, len(whole))
				}
				rc, err := s.Get(ctx, "churn", 0, -1)
				if err != nil {
					continue
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err == nil && !bytes.Equal(got, whole) {
					t.Errorf("Get: %d wrong bytes", len(got))
				}
			}
		})
	}
	for i := range 20 {
		complete(t, s, "churn", parts)
		if i%2 == 0 {
			if err := s.Delete(ctx, "churn"); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
}

func TestGetDetectsDamagedPart(t *testing.T) {
	s := openSmallParts(t, t.TempDir())
	complete(t, s, "damaged", [][]byte{[]byte("first part"), []byte("second part")})
	objDir := filepath.Join(s.Dir(), objectsDir, "da", "damaged")
	if err := os.Truncate(filepath.Join(objDir, readDir(t, objDir)[1]), 3); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(t.Context(), "damaged", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err == nil {
		t.Errorf("read %q from a damaged object without an error", got)
	}
}

func TestZeroCopyPut(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir())
	data := bytes.Repeat([]byte("zero copy "), 3<<20/10)
	for _, size := range []int64{int64(len(data)), -1} {
		if err := s.Put(ctx, "file", tempFile(t, data), size); err != nil {
			t.Fatalf("Put(size %d) from a file: %v", size, err)
		}
		if got := get(t, s, "file"); !bytes.Equal(got, data) {
			t.Errorf("Put(size %d) from a file stored %d bytes, want %d", size, len(got), len(data))
		}
	}
	// The file's offset is where reading starts, as for any reader.
	f := tempFile(t, data)
	if _, err := f.Seek(10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "offset", f, int64(len(data)-10)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "offset"); !bytes.Equal(got, data[10:]) {
		t.Errorf("stored %d bytes, want %d", len(got), len(data)-10)
	}
	if err := s.Put(cancelledCtx(t), "cancelled", tempFile(t, data), int64(len(data))); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled ctx: %v", err)
	}
}

func TestSweep(t *testing.T) {
	s := openStore(t, t.TempDir())
	tmp := filepath.Join(s.Dir(), tmpDir)
	old, fresh := filepath.Join(tmp, "old"), filepath.Join(tmp, "fresh")
	if err := os.MkdirAll(filepath.Join(old, "p00001-1-00000000"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fresh, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := readDir(t, tmp); !slices.Equal(got, []string{"fresh"}) {
		t.Errorf("tmp/ holds %v after Sweep, want [fresh]", got)
	}
	if err := s.Sweep(cancelledCtx(t), time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sweep with a cancelled ctx: %v", err)
	}
}

// TestSweepLeavesUploads: an upload is a session that can outlast any grace
// period, so Sweep leaves it alone however old its files are.
func TestSweepLeavesUploads(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, t.TempDir())
	id := mustBegin(t, s, "slow")
	p, err := s.PutPart(ctx, "slow", id, 1, strings.NewReader("slow part"), 9)
	if err != nil {
		t.Fatal(err)
	}
	backdate(t, filepath.Join(s.Dir(), uploadsDir), time.Now().Add(-30*24*time.Hour))
	if err := s.Sweep(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(ctx, "slow", id, []blob.Part{p}); err != nil {
		t.Fatalf("Complete after Sweep: %v", err)
	}
	if got := get(t, s, "slow"); string(got) != "slow part" {
		t.Errorf("Get = %q", got)
	}
}

// TestCompleteSetsModTime: the age of a multipart object, by which the
// collector judges unreferenced ones, counts from Complete, however long ago
// its parts were written.
func TestCompleteSetsModTime(t *testing.T) {
	ctx := t.Context()
	s := openSmallParts(t, t.TempDir())
	const key = "late"
	id := mustBegin(t, s, key)
	var parts []blob.Part
	for n, data := range []string{"written ", "days ago"} {
		p, err := s.PutPart(ctx, key, id, n+1, strings.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	// Everything the upload holds, the parts directory (which becomes the
	// object) included. Complete is given every part, so it removes none,
	// which would touch the directory anyway.
	backdate(t, filepath.Join(s.Dir(), uploadsDir, id), time.Now().Add(-72*time.Hour))
	before := time.Now()
	if err := s.Complete(ctx, key, id, parts); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	recent := func(what string, mod time.Time) {
		t.Helper()
		// A second of slack for filesystems with coarse timestamps.
		if mod.Before(before.Add(-time.Second)) || mod.After(after.Add(time.Second)) {
			t.Errorf("%s: ModTime %v, want the time of Complete (%v)", what, mod, before)
		}
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	recent("Stat", info.ModTime)
	found := false
	err = s.List(ctx, key, func(info blob.Info) error {
		found = found || info.Key == key
		recent("List", info.ModTime)
		return nil
	})
	if err != nil || !found {
		t.Errorf("List: found %v, err %v", found, err)
	}
}

// TestCompleteMinPartSize checks the boundary of the part size rule, which
// the conformance suite can afford to cross only once at full size, and that
// a refused Complete discards no part.
func TestCompleteMinPartSize(t *testing.T) {
	if s := openStore(t, t.TempDir()); s.minPartSize != blob.MinPartSize {
		t.Fatalf("Open: minPartSize %d, want blob.MinPartSize", s.minPartSize)
	}
	ctx := t.Context()
	s := openStore(t, t.TempDir())
	s.minPartSize = 10
	const key = "sized"
	id := mustBegin(t, s, key)
	upload := func(n int, data string) blob.Part {
		t.Helper()
		p, err := s.PutPart(ctx, key, id, n, strings.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	short, exact, empty, tail := upload(1, "123456789"), upload(2, "0123456789"), upload(3, ""), upload(4, "t")
	for _, list := range [][]blob.Part{{short, exact}, {short, tail}, {exact, empty, tail}, {short, exact, tail}} {
		if err := s.Complete(ctx, key, id, list); !errors.Is(err, blob.ErrInvalidPart) {
			t.Errorf("Complete(parts of %s): err = %v, want ErrInvalidPart", partSizes(list), err)
		}
	}
	if got := readDir(t, filepath.Join(s.Dir(), uploadsDir, id, partsDir)); len(got) != 4 {
		t.Errorf("after refused Completes the upload holds %v, want its 4 parts", got)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{exact, tail}); err != nil {
		t.Fatalf("Complete(parts of 10 and 1 bytes): %v", err)
	}
	if got := get(t, s, key); string(got) != "0123456789t" {
		t.Errorf("Get = %q", got)
	}
}

func partSizes(parts []blob.Part) string {
	var sizes []string
	for _, p := range parts {
		sizes = append(sizes, fmt.Sprint(p.Size))
	}
	return strings.Join(sizes, ", ") + " bytes"
}

// backdate sets the times of dir and everything under it to when.
func backdate(t *testing.T, dir string, when time.Time) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(path, when, when)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTags(t *testing.T) {
	for _, tag := range []string{"0-00000000", "a-0123abcd", "7fffffffffffffff-ffffffff"} {
		if _, ok := parseTag(tag); !ok {
			t.Errorf("parseTag(%q) rejected a tag makeTag can make", tag)
		}
	}
	for _, tag := range []string{"", "-", "0-", "1-0000000", "1-000000000", "01-00000000", "A-00000000",
		"1-0000000G", "8000000000000000-00000000", "1-00000000-", "1-00000000/x", "../1-00000000"} {
		if _, ok := parseTag(tag); ok {
			t.Errorf("parseTag(%q) accepted it", tag)
		}
	}
	if got := makeTag(0x500000, 0xabc); got != "500000-00000abc" {
		t.Errorf("makeTag = %q", got)
	}
	if n, size, ok := parsePartName(partName(blob.MaxParts, "ff-00000001")); !ok || n != blob.MaxParts || size != 255 {
		t.Errorf("parsePartName(partName(MaxParts)) = %d, %d, %v", n, size, ok)
	}
}

func BenchmarkPut1MiB(b *testing.B) {
	data := bytes.Repeat([]byte("benchmark data. "), 1<<16)
	b.Run("Reader", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		b.SetBytes(int64(len(data)))
		for i := 0; b.Loop(); i++ {
			if err := s.Put(b.Context(), fmt.Sprintf("k%d", i), bytes.NewReader(data), int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("File", func(b *testing.B) {
		s := openStore(b, b.TempDir())
		f := tempFile(b, data)
		b.SetBytes(int64(len(data)))
		for i := 0; b.Loop(); i++ {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if err := s.Put(b.Context(), fmt.Sprintf("k%d", i), f, int64(len(data))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	data := bytes.Repeat([]byte("benchmark data. "), 1<<16)
	s := openSmallParts(b, b.TempDir())
	put(b, s, "plain", data)
	var parts [][]byte
	for i := range 16 {
		parts = append(parts, data[i<<16:(i+1)<<16])
	}
	complete(b, s, "multipart", parts)
	for _, key := range []string{"plain", "multipart"} {
		b.Run(key, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				rc, err := s.Get(b.Context(), key, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}

func put(t testing.TB, s *Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t testing.TB, s *Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key, 0, -1)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return b
}

func mustBegin(t testing.TB, s *Store, key string) string {
	t.Helper()
	id, err := s.Begin(t.Context(), key)
	if err != nil {
		t.Fatalf("Begin(%q): %v", key, err)
	}
	return id
}

func complete(t testing.TB, s *Store, key string, data [][]byte) {
	t.Helper()
	id := mustBegin(t, s, key)
	var parts []blob.Part
	for i, d := range data {
		p, err := s.PutPart(t.Context(), key, id, i+1, bytes.NewReader(d), int64(len(d)))
		if err != nil {
			t.Fatalf("PutPart(%q, %d): %v", key, i+1, err)
		}
		parts = append(parts, p)
	}
	if err := s.Complete(t.Context(), key, id, parts); err != nil {
		t.Fatalf("Complete(%q): %v", key, err)
	}
}

func wantTmpEmpty(t *testing.T, s *Store) {
	t.Helper()
	if entries := readDir(t, filepath.Join(s.Dir(), tmpDir)); len(entries) != 0 {
		t.Errorf("tmp/ holds %v", entries)
	}
}

func readDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func tempFile(t testing.TB, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "src")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	return f
}

func cancelledCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func onlyReader(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} }

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

// cancelReader cancels a context once it has yielded after bytes.
type cancelReader struct {
	r      io.Reader
	n      int
	after  int
	cancel context.CancelFunc
}

func (r *cancelReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p[:min(len(p), 4096)])
	r.n += n
	if r.n >= r.after {
		r.cancel()
	}
	return n, err
}

func TestArchiver(t *testing.T) {
	backendtest.RunArchiver(t, func(t *testing.T) blob.Store {
		s, err := OpenWith(t.TempDir(), Options{ArchiveDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRestoreDelay: a restore takes its tier's delay by the store's clock,
// the copy reads until its days run out, and the object is archived again
// afterwards, its copy gone from the hot directory.
func TestRestoreDelay(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dir, cold := t.TempDir(), t.TempDir()
	s, err := OpenWith(dir, Options{ArchiveDir: cold, Now: clock.Now,
		RestoreDelay: map[blob.RestoreTier]time.Duration{blob.TierStandard: 3 * time.Hour, blob.TierBulk: 12 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	data := []byte("cold data")
	put(t, s, "k1", data)
	if err := s.Archive(ctx, "k1", blob.ClassGlacier); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cold, "glacier", objectsDir, "k1", "k1")); err != nil {
		t.Errorf("archived object not in the archive directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, objectPath("k1"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("archived object still in the hot directory: %v", err)
	}
	if err := s.Restore(ctx, "k1", 2, blob.TierStandard); err != nil {
		t.Fatal(err)
	}
	// A second request at another tier does not replace the first.
	if err := s.Restore(ctx, "k1", 5, blob.TierBulk); err != nil {
		t.Fatal(err)
	}
	wantState := func(want blob.ArchiveState) {
		t.Helper()
		st, err := s.ArchiveState(ctx, "k1")
		if err != nil || !st.RestoredUntil.Equal(want.RestoredUntil) || st.Class != want.Class || st.Restoring != want.Restoring {
			t.Fatalf("ArchiveState at %v = %+v, %v; want %+v", clock.Now(), st, err, want)
		}
	}
	wantArchived := func() {
		t.Helper()
		if _, err := s.Get(ctx, "k1", 0, -1); !errors.Is(err, blob.ErrArchived) {
			t.Fatalf("Get at %v: %v, want ErrArchived", clock.Now(), err)
		}
	}
	clock.Advance(3*time.Hour - time.Second)
	wantState(blob.ArchiveState{Class: blob.ClassGlacier, Restoring: true})
	wantArchived()
	clock.Advance(time.Second)
	ready := clock.Now()
	until := ready.Add(2 * 24 * time.Hour)
	// Get finds the delay over and makes the copy itself.
	if got := get(t, s, "k1"); !bytes.Equal(got, data) {
		t.Errorf("restored copy = %q", got)
	}
	wantState(blob.ArchiveState{Class: blob.ClassGlacier, RestoredUntil: until})
	clock.Advance(24 * time.Hour)
	// Restoring a restored object extends its copy to days from now.
	if err := s.Restore(ctx, "k1", 3, blob.TierBulk); err != nil {
		t.Fatal(err)
	}
	until = clock.Now().Add(3 * 24 * time.Hour)
	wantState(blob.ArchiveState{Class: blob.ClassGlacier, RestoredUntil: until})
	clock.Advance(3 * 24 * time.Hour)
	wantArchived()
	wantState(blob.ArchiveState{Class: blob.ClassGlacier})
	if entries := readDir(t, filepath.Join(dir, restoredDir, objectsDir, "k1")); len(entries) != 0 {
		t.Errorf("expired copy still in restored/: %v", entries)
	}
	if err := s.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "k1"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete: %v", err)
	}
}

// TestArchiveAfterCrash: a crash between the copy into the cold tier and
// the removal from the hot one leaves the object in both; it is listed once,
// reads as archived, and a retried Archive finishes the move.
func TestArchiveAfterCrash(t *testing.T) {
	ctx := t.Context()
	s, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put(t, s, "k2", []byte("both"))
	cs, err := s.cold.class(blob.ClassDeepArchive)
	if err != nil {
		t.Fatal(err)
	}
	if err := copyObject(ctx, s, cs, "k2"); err != nil {
		t.Fatal(err)
	}
	if got := blobKeys(t, s); !slices.Equal(got, []string{"k2"}) {
		t.Errorf("List = %v, want k2 once", got)
	}
	if st, err := s.ArchiveState(ctx, "k2"); err != nil || st.Class != blob.ClassDeepArchive {
		t.Errorf("ArchiveState = %+v, %v", st, err)
	}
	if err := s.Archive(ctx, "k2", blob.ClassDeepArchive); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), objectPath("k2"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hot copy left after a retried Archive: %v", err)
	}
	if _, err := s.Get(ctx, "k2", 0, -1); !errors.Is(err, blob.ErrArchived) {
		t.Errorf("Get: %v, want ErrArchived", err)
	}
}

func blobKeys(t *testing.T, s *Store) []string {
	t.Helper()
	var keys []string
	if err := s.List(t.Context(), "", func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}
