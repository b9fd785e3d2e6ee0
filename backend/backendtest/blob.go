// Package backendtest holds the conformance suites that every driver of the
// core's storage interfaces runs unchanged, so that the core can rely on the
// documented contract and not on one engine's habits.
package backendtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/blob"
)

// RunBlob runs the conformance suite of blob.Store, testing only what
// package blob documents.
//
// open must return a new, empty store each time it is called. It is called
// once per subtest with that subtest's t (so it can register cleanups), and
// the subtests run in parallel. The whole suite writes a few tens of MiB: an
// upload it completes has parts of blob.MinPartSize but its last, and it
// writes such parts only where a test needs them.
func RunBlob(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"RoundTrip", blobTestRoundTrip},
		{"PutReplaces", blobTestPutReplaces},
		{"PutUnknownSize", blobTestPutUnknownSize},
		{"PutSizeMismatch", blobTestPutSizeMismatch},
		{"PutReaderError", blobTestPutReaderError},
		{"PutCancelled", blobTestPutCancelled},
		{"ConcurrentPutsSameKey", blobTestConcurrentPuts},
		{"GetRanges", blobTestGetRanges},
		{"GetRangesEmptyObject", blobTestGetRangesEmpty},
		{"GetInvalidRange", blobTestGetInvalidRange},
		{"GetMissing", blobTestGetMissing},
		{"GetCancelled", blobTestGetCancelled},
		{"StatMissing", blobTestStatMissing},
		{"Delete", blobTestDelete},
		{"ListPrefix", blobTestListPrefix},
		{"ListStopsOnError", blobTestListStops},
		{"ValidKeys", blobTestValidKeys},
		{"InvalidKeys", blobTestInvalidKeys},
		{"Multipart", blobTestMultipart},
		{"MultipartReuploadedPart", blobTestReuploadedPart},
		{"MultipartCompleteRejects", blobTestCompleteRejects},
		{"MultipartRefusedCompleteRetried", blobTestCompleteRetried},
		{"MultipartUnnamedPartsDiscarded", blobTestUnnamedParts},
		{"MultipartAbort", blobTestAbort},
		{"MultipartUnknownUpload", blobTestUnknownUpload},
		{"MultipartPartNumbers", blobTestPartNumbers},
		{"MultipartPartSizeMismatch", blobTestPartSizeMismatch},
		{"MultipartIndependentUploads", blobTestIndependentUploads},
		{"MultipartPendingNotListed", blobTestPendingNotListed},
		{"MultipartReplacesAcrossKinds", blobTestAcrossKinds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func blobTestRoundTrip(t *testing.T, s blob.Store) {
	for _, size := range []int{0, 1, 4096, 1<<20 + 7} {
		t.Run(fmt.Sprintf("Size%d", size), func(t *testing.T) {
			key := fmt.Sprintf("round-trip-%d", size)
			data := blobData(uint64(size), size)
			before := time.Now()
			blobPut(t, s, key, data)
			blobWantObject(t, s, key, data)
			info, err := s.Stat(t.Context(), key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			// Loose: the engine's clock is not ours.
			if d := info.ModTime.Sub(before); d < -time.Hour || d > time.Hour {
				t.Errorf("Stat: ModTime %v, %v from the time of the Put", info.ModTime, d)
			}
		})
	}
}

func blobTestPutReplaces(t *testing.T, s blob.Store) {
	blobPut(t, s, "replaced", blobData(1, 4096))
	small := blobData(2, 100)
	blobPut(t, s, "replaced", small)
	blobWantObject(t, s, "replaced", small)
}

func blobTestPutUnknownSize(t *testing.T, s blob.Store) {
	for _, size := range []int{0, 100003} {
		t.Run(fmt.Sprintf("Size%d", size), func(t *testing.T) {
			key := fmt.Sprintf("unknown-size-%d", size)
			data := blobData(3, size)
			if err := s.Put(t.Context(), key, blobOnlyReader(data), -1); err != nil {
				t.Fatalf("Put(size -1): %v", err)
			}
			blobWantObject(t, s, key, data)
		})
	}
}

func blobTestPutSizeMismatch(t *testing.T, s blob.Store) {
	cases := []struct {
		name       string
		have, size int
	}{
		{"Shorter", 4095, 4096},
		{"Longer", 4097, 4096},
		{"EmptyForOne", 0, 1},
		{"OneForEmpty", 1, 0},
	}
	for _, c := range cases {
		blobEachPriorState(t, s, c.name, "size-mismatch-"+strings.ToLower(c.name), func(t *testing.T, key string) error {
			err := s.Put(t.Context(), key, blobOnlyReader(blobData(5, c.have)), int64(c.size))
			if !errors.Is(err, blob.ErrSizeMismatch) {
				t.Errorf("Put(%d bytes, size %d): err = %v, want ErrSizeMismatch", c.have, c.size, err)
			}
			return err
		})
	}
}

func blobTestPutReaderError(t *testing.T, s blob.Store) {
	errRead := errors.New("backendtest: read failed")
	for _, size := range []int64{-1, 256 << 10} {
		name := "KnownSize"
		if size < 0 {
			name = "UnknownSize"
		}
		blobEachPriorState(t, s, name, "reader-error-"+strings.ToLower(name), func(t *testing.T, key string) error {
			r := &blobFailingReader{data: blobData(6, 64<<10), err: errRead}
			return s.Put(t.Context(), key, r, size)
		})
	}
}

func blobTestPutCancelled(t *testing.T, s blob.Store) {
	data := blobData(7, 3<<20)
	for _, size := range []int64{-1, int64(len(data))} {
		name := "KnownSize"
		if size < 0 {
			name = "UnknownSize"
		}
		blobEachPriorState(t, s, name, "cancel-"+strings.ToLower(name), func(t *testing.T, key string) error {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &blobCancellingReader{data: data, after: 64 << 10, cancel: cancel}
			return s.Put(ctx, key, r, size)
		})
	}
	blobEachPriorState(t, s, "BeforeStart", "cancel-before", func(t *testing.T, key string) error {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		return s.Put(ctx, key, bytes.NewReader(data[:1000]), 1000)
	})
}

// blobEachPriorState runs put, which must fail, on a key that is absent and
// on one that holds an object, and checks that the key is left as it was.
func blobEachPriorState(t *testing.T, s blob.Store, name, key string, put func(t *testing.T, key string) error) {
	t.Helper()
	t.Run(name+"/Absent", func(t *testing.T) {
		if err := put(t, key+"-absent"); err == nil {
			t.Fatal("Put succeeded, want an error")
		}
		blobWantAbsent(t, s, key+"-absent")
	})
	t.Run(name+"/Existing", func(t *testing.T) {
		old := blobData(8, 5000)
		blobPut(t, s, key+"-existing", old)
		if err := put(t, key+"-existing"); err == nil {
			t.Fatal("Put succeeded, want an error")
		}
		blobWantObject(t, s, key+"-existing", old)
	})
}

// blobTestConcurrentPuts checks atomicity under contention: while writers
// replace one key, readers only ever see one whole version.
func blobTestConcurrentPuts(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "contended"
	versions := make([][]byte, 4)
	for i := range versions {
		versions[i] = blobData(uint64(50+i), 64<<10)
	}
	var writers sync.WaitGroup
	for _, v := range versions {
		writers.Go(func() {
			for range 3 {
				if err := s.Put(ctx, key, bytes.NewReader(v), int64(len(v))); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			seen := false
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, err := s.Get(ctx, key, 0, -1)
				if errors.Is(err, blob.ErrNotFound) && !seen {
					continue
				}
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("Get: read: %v", err)
					return
				}
				seen = true
				if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, got) }) {
					t.Errorf("Get returned %d bytes that are none of the versions written", len(got))
					return
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	got := blobGet(t, s, key, 0, -1)
	if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, got) }) {
		t.Errorf("after the writers: %d bytes that are none of the versions written", len(got))
	}
}

func blobTestGetRanges(t *testing.T, s blob.Store) {
	data := blobData(9, 4096)
	blobPut(t, s, "ranges", data)
	blobCheckRanges(t, s, "ranges", data, []int64{0, 1, 100, 4095, 4096}, 4096)
}

func blobTestGetRangesEmpty(t *testing.T, s blob.Store) {
	blobPut(t, s, "empty", nil)
	blobCheckRanges(t, s, "empty", nil, []int64{0}, 0)
	for _, r := range [][2]int64{{0, 1}, {1, -1}, {1, 0}} {
		blobWantInvalidRange(t, s, "empty", r[0], r[1])
	}
}

// blobCheckRanges reads, from each offset, nothing, one byte, two bytes, to
// the end with -1 and to the exact end, wherever the range fits and is no
// longer than maxRead (reading megabytes over and over adds nothing).
func blobCheckRanges(t *testing.T, s blob.Store, key string, data []byte, offsets []int64, maxRead int64) {
	t.Helper()
	size := int64(len(data))
	for _, off := range offsets {
		for _, length := range []int64{0, 1, 2, -1, size - off} {
			if off+length > size || size-off > maxRead && (length < 0 || length > maxRead) {
				continue
			}
			want := data[off:]
			if length >= 0 {
				want = data[off : off+length]
			}
			got := blobGet(t, s, key, off, length)
			if !bytes.Equal(got, want) {
				t.Errorf("Get(%q, %d, %d): %d bytes, not the %d bytes of the object there%s",
					key, off, length, len(got), len(want), blobFirstDiff(got, want))
			}
		}
	}
}

func blobTestGetInvalidRange(t *testing.T, s blob.Store) {
	const n = 4096
	blobPut(t, s, "invalid-range", blobData(10, n))
	for _, r := range [][2]int64{
		{n + 1, -1}, {n + 1, 0}, {n, 1}, {n - 1, 2}, {0, n + 1}, {1, n},
		{-1, -1}, {-1, 1}, {0, -2},
	} {
		blobWantInvalidRange(t, s, "invalid-range", r[0], r[1])
	}
}

func blobWantInvalidRange(t *testing.T, s blob.Store, key string, off, length int64) {
	t.Helper()
	rc, err := s.Get(t.Context(), key, off, length)
	if rc != nil {
		rc.Close()
	}
	if !errors.Is(err, blob.ErrInvalidRange) {
		t.Errorf("Get(%q, %d, %d): err = %v, want ErrInvalidRange", key, off, length, err)
	}
}

func blobTestGetMissing(t *testing.T, s blob.Store) {
	blobPut(t, s, "present", []byte("x"))
	for _, r := range [][2]int64{{0, -1}, {0, 0}, {10, 5}} {
		rc, err := s.Get(t.Context(), "missing", r[0], r[1])
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Get(missing, %d, %d): err = %v, want ErrNotFound", r[0], r[1], err)
		}
	}
}

// blobTestGetCancelled: the reader Get returns fails once its ctx is done,
// for plain and multipart objects alike, and a Get whose ctx is already done
// fails, at once or through its reader.
func blobTestGetCancelled(t *testing.T, s blob.Store) {
	data := blobData(91, 256<<10)
	blobPut(t, s, "get-cancel-plain", data)
	id := blobBegin(t, s, "get-cancel-multipart")
	part := blobPutPart(t, s, "get-cancel-multipart", id, 1, data)
	if err := s.Complete(t.Context(), "get-cancel-multipart", id, []blob.Part{part}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	for _, kind := range []string{"plain", "multipart"} {
		key := "get-cancel-" + kind
		t.Run(kind+"/WhileReading", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			rc, err := s.Get(ctx, key, 0, -1)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			defer rc.Close()
			if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
				t.Fatalf("read before cancel: %v", err)
			}
			cancel()
			rest, err := io.ReadAll(rc)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("read after cancel: %d more bytes, err = %v; want an error wrapping context.Canceled", len(rest), err)
			}
		})
		t.Run(kind+"/DoneBeforeGet", func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			rc, err := s.Get(ctx, key, 0, -1)
			if err == nil {
				defer rc.Close()
				var got []byte
				got, err = io.ReadAll(rc)
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Get with a cancelled ctx: read %d bytes, err = %v; want an error wrapping context.Canceled", len(got), err)
				}
				return
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Get with a cancelled ctx: err = %v, want one wrapping context.Canceled", err)
			}
		})
	}
}

func blobTestStatMissing(t *testing.T, s blob.Store) {
	blobPut(t, s, "present", []byte("x"))
	if _, err := s.Stat(t.Context(), "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(missing): err = %v, want ErrNotFound", err)
	}
}

func blobTestDelete(t *testing.T, s blob.Store) {
	ctx := t.Context()
	blobPut(t, s, "doomed", blobData(11, 1000))
	blobPut(t, s, "doomed-not", []byte("stays"))
	if err := s.Delete(ctx, "doomed"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	blobWantAbsent(t, s, "doomed")
	blobWantObject(t, s, "doomed-not", []byte("stays"))
	if err := s.Delete(ctx, "doomed"); err != nil {
		t.Errorf("Delete of a deleted key: %v", err)
	}
	if err := s.Delete(ctx, "never-was"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	// A key can be written again after a Delete.
	blobPut(t, s, "doomed", []byte("again"))
	blobWantObject(t, s, "doomed", []byte("again"))
}

func blobTestListPrefix(t *testing.T, s blob.Store) {
	long := "ab" + strings.Repeat("x", 126)
	keys := []string{"a", "ab", "abc", "abd", "b", "ba", "x-1", long}
	all := map[string]int64{}
	for i, key := range keys {
		blobPut(t, s, key, blobData(uint64(i), i+1))
		all[key] = int64(i + 1)
	}
	// A multipart object is listed with its whole size.
	id := blobBegin(t, s, "abm")
	part := blobPutPart(t, s, "abm", id, 1, blobData(12, 777))
	if err := s.Complete(t.Context(), "abm", id, []blob.Part{part}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	all["abm"] = 777

	pick := func(prefix string) map[string]int64 {
		m := map[string]int64{}
		for k, v := range all {
			if strings.HasPrefix(k, prefix) {
				m[k] = v
			}
		}
		return m
	}
	// Prefixes no valid key has (uppercase, too long, a path) match nothing.
	for _, prefix := range []string{"", "a", "ab", "abc", "abcd", "ab" + "xxx", long, long + "x", "A", "aB", "b", "x-", "z", "../", "a/", ".", "a b"} {
		blobWantList(t, s, prefix, pick(prefix))
	}
}

func blobTestListStops(t *testing.T, s blob.Store) {
	for _, key := range []string{"s1", "s2", "s3", "t1"} {
		blobPut(t, s, key, []byte(key))
	}
	errStop := errors.New("backendtest: stop")
	calls := 0
	err := s.List(t.Context(), "", func(blob.Info) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List: err = %v, want fn's error", err)
	}
	if calls != 1 {
		t.Errorf("List called fn %d times after it failed, want 1", calls)
	}
}

func blobTestValidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	keys := []string{
		"a", "z", "0", "-", "_", "a.", "a..b", "-._", "abc-xyz_09.",
		strings.Repeat("m", 127),
		strings.Repeat("n", 128),
		strings.Repeat("ab0._-", 22)[:128],
	}
	want := map[string]int64{}
	for _, key := range keys {
		if !blob.ValidKey(key) {
			t.Fatalf("ValidKey(%q) = false", key)
		}
		blobPut(t, s, key, []byte(key))
		want[key] = int64(len(key))
	}
	for _, key := range keys {
		blobWantObject(t, s, key, []byte(key))
	}
	blobWantList(t, s, "", want)

	// The longest key works for uploads too.
	long := strings.Repeat("u", 128)
	id := blobBegin(t, s, long)
	part := blobPutPart(t, s, long, id, 1, []byte("multipart"))
	if err := s.Complete(ctx, long, id, []blob.Part{part}); err != nil {
		t.Fatalf("Complete(128-byte key): %v", err)
	}
	blobWantObject(t, s, long, []byte("multipart"))
	keys = append(keys, long)

	for _, key := range keys {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	blobWantList(t, s, "", nil)
}

func blobTestInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const owner = "upload-owner"
	id := blobBegin(t, s, owner)
	part := blobPutPart(t, s, owner, id, 1, []byte("x"))
	keys := []struct{ name, key string }{
		{"Empty", ""},
		{"DotDotSlash", "../x"},
		{"Slash", "a/b"},
		{"LeadingSlash", "/a"},
		{"Backslash", `a\b`},
		{"Hidden", ".hidden"},
		{"Dot", "."},
		{"DotDot", ".."},
		{"TooLong", strings.Repeat("k", 129)},
		{"WayTooLong", strings.Repeat("k", 256)},
		{"Uppercase", "A"},
		{"MixedCase", "aBc"},
		{"UppercaseLast", strings.Repeat("k", 127) + "K"},
		{"Space", "a b"},
		{"NUL", "a\x00b"},
		{"Newline", "a\nb"},
		{"NonASCII", "é"},
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			key := k.key
			if blob.ValidKey(key) {
				t.Fatalf("ValidKey(%q) = true", key)
			}
			check := func(method string, err error) {
				t.Helper()
				if !errors.Is(err, blob.ErrInvalidKey) {
					t.Errorf("%s(%q): err = %v, want ErrInvalidKey", method, key, err)
				}
			}
			check("Put", s.Put(ctx, key, strings.NewReader("x"), 1))
			rc, err := s.Get(ctx, key, 0, -1)
			if rc != nil {
				rc.Close()
			}
			check("Get", err)
			_, err = s.Stat(ctx, key)
			check("Stat", err)
			check("Delete", s.Delete(ctx, key))
			_, err = s.Begin(ctx, key)
			check("Begin", err)
			_, err = s.PutPart(ctx, key, id, 2, strings.NewReader("y"), 1)
			check("PutPart", err)
			check("Complete", s.Complete(ctx, key, id, []blob.Part{part}))
			check("Abort", s.Abort(ctx, key, id))
		})
	}
	// Nothing was created, and the upload the calls named is untouched.
	blobWantList(t, s, "", nil)
	if err := s.Complete(ctx, owner, id, []blob.Part{part}); err != nil {
		t.Fatalf("Complete of the upload named by the invalid calls: %v", err)
	}
	blobWantObject(t, s, owner, []byte("x"))
}

// blobTestMultipart completes a three-part upload whose parts arrived out of
// order and in parallel, and checks the object it makes.
func blobTestMultipart(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "multipart"
	parts := [][]byte{blobData(21, blob.MinPartSize), blobData(22, blob.MinPartSize), blobData(23, 1<<20)}
	want := slices.Concat(parts...)
	id := blobBegin(t, s, key)
	got := blobUploadParts(t, s, key, id, parts)

	t.Run("NothingVisibleBeforeComplete", func(t *testing.T) {
		blobWantAbsent(t, s, key)
	})
	completed := time.Now()
	if err := s.Complete(ctx, key, id, got); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	t.Run("Concatenation", func(t *testing.T) {
		blobWantObject(t, s, key, want)
		blobWantList(t, s, "", map[string]int64{key: int64(len(want))})
		info, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		// Loose, as in RoundTrip: the engine's clock is not ours.
		if d := info.ModTime.Sub(completed); d < -time.Hour || d > time.Hour {
			t.Errorf("Stat: ModTime %v, %v from the time of the Complete", info.ModTime, d)
		}
	})
	t.Run("RangesAcrossParts", func(t *testing.T) {
		const b1, b2 = blob.MinPartSize, 2 * blob.MinPartSize
		n := int64(len(want))
		blobCheckRanges(t, s, key, want, []int64{0, 1, b1 - 2, b1 - 1, b1, b1 + 1, b2 - 1, b2, n - 1, n}, 2<<20)
		// Ranges that span whole parts.
		for _, r := range [][2]int64{{b1 - 1, b1 + 2}, {1, n - 2}, {b1, b1}, {b1 - 10, 20}} {
			if g := blobGet(t, s, key, r[0], r[1]); !bytes.Equal(g, want[r[0]:r[0]+r[1]]) {
				t.Errorf("Get(%d, %d): wrong bytes%s", r[0], r[1], blobFirstDiff(g, want[r[0]:r[0]+r[1]]))
			}
		}
		blobWantInvalidRange(t, s, key, n+1, -1)
		blobWantInvalidRange(t, s, key, b1, n)
	})
	t.Run("UploadEnded", func(t *testing.T) {
		_, err := s.PutPart(ctx, key, id, 4, strings.NewReader("late"), 4)
		if !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("PutPart after Complete: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		blobWantAbsent(t, s, key)
	})
}

func blobTestReuploadedPart(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "reuploaded"
	first, second, last := blobData(31, blob.MinPartSize), blobData(32, blob.MinPartSize), blobData(33, 1000)
	id := blobBegin(t, s, key)
	stale := blobPutPart(t, s, key, id, 1, first)
	tail := blobPutPart(t, s, key, id, 2, last)
	fresh := blobPutPart(t, s, key, id, 1, second)
	if fresh.Tag == stale.Tag {
		t.Fatalf("part 1 uploaded again with other bytes kept its tag %q", fresh.Tag)
	}
	t.Run("StaleTagRejected", func(t *testing.T) {
		err := s.Complete(ctx, key, id, []blob.Part{stale, tail})
		if !errors.Is(err, blob.ErrInvalidPart) {
			t.Errorf("Complete with the replaced part's tag: err = %v, want ErrInvalidPart", err)
		}
		blobWantAbsent(t, s, key)
	})
	t.Run("NewTagAccepted", func(t *testing.T) {
		if err := s.Complete(ctx, key, id, []blob.Part{fresh, tail}); err != nil {
			t.Fatalf("Complete after a rejected Complete: %v", err)
		}
		blobWantObject(t, s, key, slices.Concat(second, last))
	})
}

// blobTestCompleteRejects sends Complete part lists that break each rule of
// the contract, each of which must fail with ErrInvalidPart and leave the key
// absent, then completes the upload they all named.
func blobTestCompleteRejects(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "rejected"
	// A part one byte short of MinPartSize and one of exactly that size, so
	// that both sides of the limit are tried with two large parts only.
	parts := [][]byte{
		blobData(41, blob.MinPartSize-1),
		blobData(42, blob.MinPartSize),
		blobData(43, 1000),
		blobData(44, 2000),
	}
	id := blobBegin(t, s, key)
	got := blobUploadParts(t, s, key, id, parts)
	short, full, small, tail := got[0], got[1], got[2], got[3]
	cases := []struct {
		name  string
		parts []blob.Part
	}{
		{"NoParts", nil},
		{"EmptyList", []blob.Part{}},
		{"ShortPartFirst", []blob.Part{short, full}},
		{"ShortPartFirstOfThree", []blob.Part{short, full, tail}},
		{"SmallPartInMiddle", []blob.Part{full, small, tail}},
		// Each part of these but the last is large enough: only the order is
		// wrong.
		{"Descending", []blob.Part{full, short}},
		{"RepeatedPart", []blob.Part{full, full}},
		{"RepeatedNumber", []blob.Part{full, full, tail}},
		{"WrongTag", []blob.Part{full, {Number: 4, Size: tail.Size, Tag: "not-the-tag"}}},
		{"EmptyTag", []blob.Part{full, {Number: 4, Size: tail.Size}}},
		{"TagOfAnotherPart", []blob.Part{full, {Number: 4, Size: small.Size, Tag: small.Tag}}},
		// Part 5 follows a large part, so that S3 cannot answer EntityTooSmall
		// before it notices the part is missing.
		{"MissingPart", []blob.Part{full, {Number: 5, Size: tail.Size, Tag: tail.Tag}}},
		{"PartZero", []blob.Part{{Number: 0, Size: full.Size, Tag: full.Tag}, tail}},
		{"PartAboveMax", []blob.Part{full, {Number: blob.MaxParts + 1, Size: tail.Size, Tag: tail.Tag}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Complete(ctx, key, id, c.parts); !errors.Is(err, blob.ErrInvalidPart) {
				t.Errorf("Complete: err = %v, want ErrInvalidPart", err)
			}
			blobWantAbsent(t, s, key)
		})
	}
	t.Run("UploadSurvives", func(t *testing.T) {
		if err := s.Complete(ctx, key, id, []blob.Part{full, tail}); err != nil {
			t.Fatalf("Complete after rejected ones: %v", err)
		}
		blobWantObject(t, s, key, slices.Concat(parts[1], parts[3]))
	})
}

// blobTestCompleteRetried is a client that gets its part list wrong, twice,
// and fixes it: a refused Complete leaves the upload open, to new parts too.
func blobTestCompleteRetried(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "retried"
	id := blobBegin(t, s, key)
	small := blobPutPart(t, s, key, id, 1, blobData(45, 1000))
	last := blobData(46, 500)
	p2 := blobPutPart(t, s, key, id, 2, last)
	if err := s.Complete(ctx, key, id, []blob.Part{small, p2}); !errors.Is(err, blob.ErrInvalidPart) {
		t.Errorf("Complete with a small first part: err = %v, want ErrInvalidPart", err)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{{Number: 1, Size: p2.Size, Tag: p2.Tag}}); !errors.Is(err, blob.ErrInvalidPart) {
		t.Errorf("Complete with the tag of another part: err = %v, want ErrInvalidPart", err)
	}
	blobWantAbsent(t, s, key)
	first := blobData(47, blob.MinPartSize)
	p1, err := s.PutPart(ctx, key, id, 1, bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatalf("PutPart after refused Completes: %v", err)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{p1, p2}); err != nil {
		t.Fatalf("Complete with the list fixed: %v", err)
	}
	blobWantObject(t, s, key, slices.Concat(first, last))
}

func blobTestUnnamedParts(t *testing.T, s blob.Store) {
	const key = "unnamed"
	parts := [][]byte{blobData(51, blob.MinPartSize), blobData(52, 2000), blobData(53, 3000)}
	id := blobBegin(t, s, key)
	got := blobUploadParts(t, s, key, id, parts)
	if err := s.Complete(t.Context(), key, id, []blob.Part{got[0], got[2]}); err != nil {
		t.Fatalf("Complete(parts 1 and 3): %v", err)
	}
	blobWantObject(t, s, key, slices.Concat(parts[0], parts[2]))
}

func blobTestAbort(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "aborted"
	id := blobBegin(t, s, key)
	part := blobPutPart(t, s, key, id, 1, []byte("abandoned"))
	if err := s.Abort(ctx, key, id); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if _, err := s.PutPart(ctx, key, id, 2, strings.NewReader("late"), 4); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("PutPart after Abort: err = %v, want ErrNotFound", err)
	}
	if err := s.Complete(ctx, key, id, []blob.Part{part}); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Complete after Abort: err = %v, want ErrNotFound", err)
	}
	blobWantAbsent(t, s, key)
	if err := s.Abort(ctx, key, id); err != nil {
		t.Errorf("second Abort: %v", err)
	}
}

func blobTestUnknownUpload(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "no-upload"
	// A part list that is valid but for its upload (a tag this engine could
	// have made), so that a driver that checks the list first still gets to
	// the upload.
	other := blobBegin(t, s, "other-upload")
	part := blobPutPart(t, s, "other-upload", other, 1, []byte("x"))
	for _, id := range []string{"no-such-upload", "0123456789abcdef0123456789abcdef"} {
		if _, err := s.PutPart(ctx, key, id, 1, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("PutPart(upload %q): err = %v, want ErrNotFound", id, err)
		}
		if err := s.Complete(ctx, key, id, []blob.Part{part}); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Complete(upload %q): err = %v, want ErrNotFound", id, err)
		}
		if err := s.Abort(ctx, key, id); err != nil {
			t.Errorf("Abort(upload %q): %v", id, err)
		}
	}
	blobWantAbsent(t, s, key)
}

func blobTestPartNumbers(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "part-numbers"
	id := blobBegin(t, s, key)
	for _, n := range []int{0, -1, blob.MaxParts + 1} {
		if _, err := s.PutPart(ctx, key, id, n, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidPart) {
			t.Errorf("PutPart(part %d): err = %v, want ErrInvalidPart", n, err)
		}
	}
	// Both ends of the range are accepted. (Completing would need part 1 to
	// be 5 MiB on S3.)
	blobPutPart(t, s, key, id, 1, []byte("first"))
	blobPutPart(t, s, key, id, blob.MaxParts, []byte("last"))
	if err := s.Abort(ctx, key, id); err != nil {
		t.Errorf("Abort: %v", err)
	}
}

func blobTestPartSizeMismatch(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "part-size"
	id := blobBegin(t, s, key)
	// A part's size must be known: -1 does not mean "to EOF" as for Put.
	for _, c := range [][2]int{{99, 100}, {101, 100}, {0, 1}, {1, 0}, {100, -1}, {0, -1}, {100, -2}} {
		r := blobOnlyReader(blobData(61, c[0]))
		if _, err := s.PutPart(ctx, key, id, 1, r, int64(c[1])); !errors.Is(err, blob.ErrSizeMismatch) {
			t.Errorf("PutPart(%d bytes, size %d): err = %v, want ErrSizeMismatch", c[0], c[1], err)
		}
	}
	if err := s.Abort(ctx, key, id); err != nil {
		t.Errorf("Abort: %v", err)
	}
}

func blobTestIndependentUploads(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "two-uploads"
	id1, id2 := blobBegin(t, s, key), blobBegin(t, s, key)
	if id1 == id2 {
		t.Fatalf("two Begins returned the same upload ID %q", id1)
	}
	blobPutPart(t, s, key, id1, 1, []byte("one"))
	p2 := blobPutPart(t, s, key, id2, 1, []byte("two"))
	if err := s.Abort(ctx, key, id1); err != nil {
		t.Fatalf("Abort(first): %v", err)
	}
	if err := s.Complete(ctx, key, id2, []blob.Part{p2}); err != nil {
		t.Fatalf("Complete(second) after Abort(first): %v", err)
	}
	blobWantObject(t, s, key, []byte("two"))
}

func blobTestPendingNotListed(t *testing.T, s blob.Store) {
	id := blobBegin(t, s, "pending")
	blobPutPart(t, s, "pending", id, 1, blobData(71, 1000))
	blobPut(t, s, "plain", []byte("plain"))
	blobWantList(t, s, "", map[string]int64{"plain": 5})
	blobWantAbsent(t, s, "pending")
}

// blobTestAcrossKinds replaces plain objects with multipart ones and back,
// which engines that store the two differently must still do.
func blobTestAcrossKinds(t *testing.T, s blob.Store) {
	const key = "kinds"
	plain := blobData(81, 3000)
	blobPut(t, s, key, plain)
	t.Run("CompleteReplacesPut", func(t *testing.T) {
		parts := [][]byte{blobData(82, blob.MinPartSize), blobData(83, 1000)}
		blobComplete(t, s, key, parts)
		blobWantObject(t, s, key, slices.Concat(parts...))
	})
	t.Run("CompleteReplacesComplete", func(t *testing.T) {
		parts := [][]byte{blobData(84, 2000)}
		blobComplete(t, s, key, parts)
		blobWantObject(t, s, key, parts[0])
	})
	t.Run("PutReplacesComplete", func(t *testing.T) {
		blobPut(t, s, key, plain)
		blobWantObject(t, s, key, plain)
	})
	t.Run("FailedPutKeepsMultipart", func(t *testing.T) {
		parts := [][]byte{blobData(85, 1500)}
		blobComplete(t, s, key, parts)
		if err := s.Put(t.Context(), key, blobOnlyReader(plain[:10]), 11); !errors.Is(err, blob.ErrSizeMismatch) {
			t.Errorf("Put: err = %v, want ErrSizeMismatch", err)
		}
		blobWantObject(t, s, key, parts[0])
	})
	t.Run("DeleteMultipart", func(t *testing.T) {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		blobWantAbsent(t, s, key)
	})
}

// blobData returns n pseudo-random bytes, the same for the same seed.
func blobData(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func blobPut(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func blobGet(t *testing.T, s blob.Store, key string, off, length int64) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), key, off, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, off, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): read: %v", key, off, length, err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Get(%q, %d, %d): Close: %v", key, off, length, err)
	}
	return b
}

// blobWantObject checks that key holds exactly data, through Stat and Get.
func blobWantObject(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(data)) || info.ModTime.IsZero() {
		t.Errorf("Stat(%q) = {%q, %d, %v}, want {%q, %d, a time}", key, info.Key, info.Size, info.ModTime, key, len(data))
	}
	if got := blobGet(t, s, key, 0, -1); !bytes.Equal(got, data) {
		t.Errorf("Get(%q): %d bytes, not the %d bytes written%s", key, len(got), len(data), blobFirstDiff(got, data))
	}
}

// blobWantAbsent checks that key holds nothing, through Stat, Get and List.
func blobWantAbsent(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if info, err := s.Stat(t.Context(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
	rc, err := s.Get(t.Context(), key, 0, -1)
	if rc != nil {
		rc.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get(%q): err = %v, want ErrNotFound", key, err)
	}
	got := blobList(t, s, key)
	if _, ok := got[key]; ok {
		t.Errorf("List(%q) shows %q", key, key)
	}
}

func blobList(t *testing.T, s blob.Store, prefix string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := s.List(t.Context(), prefix, func(info blob.Info) error {
		if _, dup := got[info.Key]; dup {
			t.Errorf("List(%q) shows %q twice", prefix, info.Key)
		}
		if info.ModTime.IsZero() {
			t.Errorf("List(%q): %q has no ModTime", prefix, info.Key)
		}
		got[info.Key] = info.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

// blobWantList checks that List(prefix) yields exactly want's keys and sizes.
func blobWantList(t *testing.T, s blob.Store, prefix string, want map[string]int64) {
	t.Helper()
	got := blobList(t, s, prefix)
	if want == nil {
		want = map[string]int64{}
	}
	if !maps.Equal(got, want) {
		t.Errorf("List(%q) = %v, want %v", prefix, blobShortKeys(got), blobShortKeys(want))
	}
}

// blobShortKeys abbreviates long keys so a failure stays readable.
func blobShortKeys(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if len(k) > 20 {
			k = fmt.Sprintf("%s...(%d bytes)", k[:10], len(k))
		}
		out[k] = v
	}
	return out
}

func blobFirstDiff(got, want []byte) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" (first difference at byte %d)", i)
		}
	}
	return ""
}

func blobBegin(t *testing.T, s blob.Store, key string) string {
	t.Helper()
	id, err := s.Begin(t.Context(), key)
	if err != nil {
		t.Fatalf("Begin(%q): %v", key, err)
	}
	if id == "" {
		t.Fatalf("Begin(%q) returned an empty upload ID", key)
	}
	return id
}

func blobPutPart(t *testing.T, s blob.Store, key, id string, n int, data []byte) blob.Part {
	t.Helper()
	p, err := s.PutPart(t.Context(), key, id, n, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("PutPart(%q, part %d, %d bytes): %v", key, n, len(data), err)
	}
	if p.Number != n || p.Size != int64(len(data)) || p.Tag == "" {
		t.Fatalf("PutPart(%q, part %d, %d bytes) = %+v", key, n, len(data), p)
	}
	return p
}

// blobUploadParts uploads parts as parts 1..n of upload id: the last one
// first, then all the others at once, as a client resuming an upload might.
func blobUploadParts(t *testing.T, s blob.Store, key, id string, parts [][]byte) []blob.Part {
	t.Helper()
	n := len(parts)
	got := make([]blob.Part, n)
	got[n-1] = blobPutPart(t, s, key, id, n, parts[n-1])
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Go(func() {
			got[i], errs[i] = s.PutPart(t.Context(), key, id, i+1, bytes.NewReader(parts[i]), int64(len(parts[i])))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PutPart(%q, part %d): %v", key, i+1, err)
		}
		if got[i].Number != i+1 || got[i].Size != int64(len(parts[i])) || got[i].Tag == "" {
			t.Fatalf("PutPart(%q, part %d) = %+v", key, i+1, got[i])
		}
	}
	return got
}

// blobComplete writes parts to key through a whole multipart upload.
func blobComplete(t *testing.T, s blob.Store, key string, parts [][]byte) {
	t.Helper()
	id := blobBegin(t, s, key)
	got := blobUploadParts(t, s, key, id, parts)
	if err := s.Complete(t.Context(), key, id, got); err != nil {
		t.Fatalf("Complete(%q): %v", key, err)
	}
}

// blobOnlyReader hides every method of its reader but Read (bytes.Reader has
// Len, Size, Seek and WriteTo), so a driver must go by the size it is given.
func blobOnlyReader(data []byte) io.Reader {
	return struct{ io.Reader }{bytes.NewReader(data)}
}

// blobFailingReader yields its data, then fails.
type blobFailingReader struct {
	data []byte
	err  error
}

func (r *blobFailingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// blobCancellingReader yields its data, cancelling a context once it has
// yielded the first after bytes: a client that goes away mid-upload.
type blobCancellingReader struct {
	data   []byte
	read   int
	after  int
	cancel context.CancelFunc
}

func (r *blobCancellingReader) Read(p []byte) (int, error) {
	if r.read >= len(r.data) {
		return 0, io.EOF
	}
	p = p[:min(len(p), 32<<10)]
	n := copy(p, r.data[r.read:])
	r.read += n
	if r.read >= r.after {
		r.cancel()
	}
	return n, nil
}
