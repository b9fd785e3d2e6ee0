package backendtest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/blob"
)

// ArchiveRestoreTimeout is how long RunArchiver waits for a restore to
// complete. Emulators and a cold directory restore at once or within
// seconds; AWS takes minutes to hours, so the suite is not for real S3.
const ArchiveRestoreTimeout = 30 * time.Second

// RunArchiver runs the conformance suite of blob.Archiver, testing only what
// package blob documents. Each subtest skips itself if the store open
// returns does not implement blob.Archiver.
//
// open must return a new, empty store each time it is called. It is called
// once per subtest with that subtest's t, and the subtests run in parallel.
func RunArchiver(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store, a blob.Archiver)
	}{
		{"ArchiveAndRestore", archiveTestRoundTrip},
		{"ArchiveTwice", archiveTestTwice},
		{"HotObject", archiveTestHot},
		{"RestoreTwice", archiveTestRestoreTwice},
		{"DeleteArchived", archiveTestDelete},
		{"Missing", archiveTestMissing},
		{"InvalidKeys", archiveTestInvalidKeys},
		{"InstantRetrieval", archiveTestInstant},
		{"BadRequests", archiveTestBadRequests},
		{"ChangeClass", archiveTestChangeClass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			a, ok := s.(blob.Archiver)
			if !ok {
				t.Skipf("%T does not implement blob.Archiver", s)
			}
			tt.fn(t, s, a)
		})
	}
}

// archiveClasses are the classes that need a restore.
var archiveClasses = []blob.ArchiveClass{blob.ClassGlacier, blob.ClassDeepArchive}

// archiveTestInstant: an object in GLACIER_IR reports its class, reads at
// once, whole and in part, and needs no restore (which is not an error).
func archiveTestInstant(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(150, 4000)
	blobPut(t, s, "instant", data)
	if err := a.Archive(ctx, "instant", blob.ClassGlacierIR); err != nil {
		t.Fatalf("Archive(GLACIER_IR): %v", err)
	}
	want := blob.ArchiveState{Class: blob.ClassGlacierIR}
	if st, err := a.ArchiveState(ctx, "instant"); err != nil || st != want {
		t.Errorf("ArchiveState = %+v, %v; want %+v", st, err, want)
	}
	blobWantObject(t, s, "instant", data)
	if got := blobGet(t, s, "instant", 10, 20); !bytes.Equal(got, data[10:30]) {
		t.Errorf("Get(10, 20) in GLACIER_IR: wrong bytes%s", blobFirstDiff(got, data[10:30]))
	}
	if err := a.Restore(ctx, "instant", 1, blob.TierStandard); err != nil {
		t.Errorf("Restore of a GLACIER_IR object: %v", err)
	}
	if st, err := a.ArchiveState(ctx, "instant"); err != nil || st != want {
		t.Errorf("ArchiveState after Restore = %+v, %v; want %+v", st, err, want)
	}
	if got := blobList(t, s, "instant"); got["instant"] != int64(len(data)) {
		t.Errorf("List of a GLACIER_IR object = %v", got)
	}
}

// archiveTestBadRequests: an unknown class or tier, days out of range and
// Expedited for DEEP_ARCHIVE fail, and leave the object as it was.
func archiveTestBadRequests(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(160, 500)
	blobPut(t, s, "deep", data)
	for _, class := range []blob.ArchiveClass{"", "STANDARD", "glacier", "COLD"} {
		if err := a.Archive(ctx, "deep", class); err == nil {
			t.Errorf("Archive(%q): no error", class)
		}
	}
	if st, err := a.ArchiveState(ctx, "deep"); err != nil || st != (blob.ArchiveState{}) {
		t.Errorf("ArchiveState after refused Archives = %+v, %v; want hot", st, err)
	}
	if err := a.Archive(ctx, "deep", blob.ClassDeepArchive); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	for _, r := range []struct {
		days int
		tier blob.RestoreTier
	}{{0, blob.TierStandard}, {-1, blob.TierBulk}, {blob.MaxRestoreDays + 1, blob.TierStandard},
		{1, ""}, {1, "standard"}, {1, "Fast"}, {1, blob.TierExpedited}} {
		if err := a.Restore(ctx, "deep", r.days, r.tier); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Restore(%d days, %q) of a DEEP_ARCHIVE object: err = %v, want a refusal", r.days, r.tier, err)
		}
	}
	st, err := a.ArchiveState(ctx, "deep")
	if err != nil || st != (blob.ArchiveState{Class: blob.ClassDeepArchive}) {
		t.Errorf("ArchiveState after refused Restores = %+v, %v; want archived, no restore", st, err)
	}
	archiveWantArchived(t, s, "deep")
}

// archiveTestChangeClass: an object in GLACIER_IR (readable) can go on to
// DEEP_ARCHIVE, and one archived can be read again once restored.
func archiveTestChangeClass(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(170, 700)
	blobPut(t, s, "moved", data)
	if err := a.Archive(ctx, "moved", blob.ClassGlacierIR); err != nil {
		t.Fatalf("Archive(GLACIER_IR): %v", err)
	}
	if err := a.Archive(ctx, "moved", blob.ClassDeepArchive); err != nil {
		t.Fatalf("Archive(DEEP_ARCHIVE) from GLACIER_IR: %v", err)
	}
	if st, err := a.ArchiveState(ctx, "moved"); err != nil || st.Class != blob.ClassDeepArchive {
		t.Errorf("ArchiveState = %+v, %v; want DEEP_ARCHIVE", st, err)
	}
	archiveWantArchived(t, s, "moved")
	if got := blobList(t, s, "moved"); len(got) != 1 || got["moved"] != int64(len(data)) {
		t.Errorf("List after a change of class = %v, want the object once", got)
	}
	if err := a.Restore(ctx, "moved", 1, blob.TierBulk); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	archiveWaitRestored(t, a, "moved")
	blobWantObject(t, s, "moved", data)
	// Archived again in another class, it is a new object there, with
	// no restored copy.
	if err := a.Archive(ctx, "moved", blob.ClassGlacier); err != nil {
		t.Fatalf("Archive(GLACIER) of a restored object: %v", err)
	}
	if st, err := a.ArchiveState(ctx, "moved"); err != nil || st != (blob.ArchiveState{Class: blob.ClassGlacier}) {
		t.Errorf("ArchiveState after a change of class = %+v, %v; want GLACIER with no restore", st, err)
	}
	archiveWantArchived(t, s, "moved")
}

// archiveTestRoundTrip archives an object to each class, checks that it
// cannot be read but can still be seen, restores it and reads it back.
func archiveTestRoundTrip(t *testing.T, s blob.Store, a blob.Archiver) {
	for i, class := range archiveClasses {
		t.Run(string(class), func(t *testing.T) {
			ctx := t.Context()
			key := "archived-" + strings.ToLower(strings.ReplaceAll(string(class), "_", "-"))
			data := blobData(uint64(100+i), 3000)
			blobPut(t, s, key, data)
			if err := a.Archive(ctx, key, class); err != nil {
				t.Fatalf("Archive(%s): %v", class, err)
			}
			st, err := a.ArchiveState(ctx, key)
			if err != nil {
				t.Fatalf("ArchiveState: %v", err)
			}
			if st.Class != class || st.Restoring || !st.RestoredUntil.IsZero() {
				t.Errorf("ArchiveState after Archive = %+v, want class %s, not restoring, no restored copy", st, class)
			}
			archiveWantArchived(t, s, key)
			// An archived object still exists: Stat and List see it whole.
			info, err := s.Stat(ctx, key)
			if err != nil || info.Size != int64(len(data)) {
				t.Errorf("Stat of an archived object = %+v, %v; want its size %d", info, err, len(data))
			}
			if got := blobList(t, s, key); got[key] != int64(len(data)) {
				t.Errorf("List(%q) of an archived object = %v", key, got)
			}

			before := time.Now()
			if err := a.Restore(ctx, key, 2, blob.TierStandard); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			st, err = a.ArchiveState(ctx, key)
			if err != nil {
				t.Fatalf("ArchiveState after Restore: %v", err)
			}
			if st.Class != class || (!st.Restoring && st.RestoredUntil.IsZero()) {
				t.Errorf("ArchiveState after Restore = %+v, want class %s, restoring or restored", st, class)
			}
			st = archiveWaitRestored(t, a, key)
			// Loose: the engine's clock is not ours, and S3 rounds the
			// expiry up to the next midnight UTC.
			if d := st.RestoredUntil.Sub(before); d < 2*24*time.Hour-time.Hour || d > 4*24*time.Hour {
				t.Errorf("restored for 2 days: RestoredUntil %v is %v from the Restore", st.RestoredUntil, d)
			}
			if st.Class != class {
				t.Errorf("ArchiveState of a restored object: class %q, want %q", st.Class, class)
			}
			blobWantObject(t, s, key, data)
			if got := blobGet(t, s, key, 100, 50); !bytes.Equal(got, data[100:150]) {
				t.Errorf("Get(100, 50) of a restored object: wrong bytes%s", blobFirstDiff(got, data[100:150]))
			}
		})
	}
}

func archiveTestTwice(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(110, 1000)
	blobPut(t, s, "twice", data)
	for range 2 {
		if err := a.Archive(ctx, "twice", blob.ClassGlacier); err != nil {
			t.Fatalf("Archive: %v", err)
		}
	}
	st, err := a.ArchiveState(ctx, "twice")
	if err != nil || st.Class != blob.ClassGlacier {
		t.Errorf("ArchiveState = %+v, %v; want class %s", st, err, blob.ClassGlacier)
	}
	archiveWantArchived(t, s, "twice")
}

// archiveTestHot: a hot object has no archive state, and restoring it is
// not an error and changes nothing.
func archiveTestHot(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(120, 2000)
	blobPut(t, s, "hot", data)
	st, err := a.ArchiveState(ctx, "hot")
	if err != nil || st != (blob.ArchiveState{}) {
		t.Errorf("ArchiveState of a hot object = %+v, %v; want the zero state", st, err)
	}
	if err := a.Restore(ctx, "hot", 1, blob.TierStandard); err != nil {
		t.Errorf("Restore of a hot object: %v", err)
	}
	st, err = a.ArchiveState(ctx, "hot")
	if err != nil || st != (blob.ArchiveState{}) {
		t.Errorf("ArchiveState after Restore of a hot object = %+v, %v; want the zero state", st, err)
	}
	blobWantObject(t, s, "hot", data)
}

// archiveTestRestoreTwice: a second Restore, whether the first is still
// running or done, is not an error.
func archiveTestRestoreTwice(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	data := blobData(130, 1500)
	blobPut(t, s, "restored-twice", data)
	if err := a.Archive(ctx, "restored-twice", blob.ClassGlacier); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	for i := range 2 {
		if err := a.Restore(ctx, "restored-twice", 1, blob.TierBulk); err != nil {
			t.Fatalf("Restore #%d: %v", i+1, err)
		}
	}
	archiveWaitRestored(t, a, "restored-twice")
	if err := a.Restore(ctx, "restored-twice", 1, blob.TierBulk); err != nil {
		t.Errorf("Restore of a restored object: %v", err)
	}
	blobWantObject(t, s, "restored-twice", data)
}

func archiveTestDelete(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	blobPut(t, s, "deleted-archived", blobData(140, 100))
	if err := a.Archive(ctx, "deleted-archived", blob.ClassDeepArchive); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	if err := s.Delete(ctx, "deleted-archived"); err != nil {
		t.Fatalf("Delete of an archived object: %v", err)
	}
	blobWantAbsent(t, s, "deleted-archived")
	if _, err := a.ArchiveState(ctx, "deleted-archived"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ArchiveState after Delete: err = %v, want ErrNotFound", err)
	}
}

func archiveTestMissing(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	blobPut(t, s, "present", []byte("x"))
	for _, class := range archiveClasses {
		if err := a.Archive(ctx, "missing", class); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Archive(missing, %s): err = %v, want ErrNotFound", class, err)
		}
	}
	if err := a.Restore(ctx, "missing", 1, blob.TierStandard); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Restore(missing): err = %v, want ErrNotFound", err)
	}
	if st, err := a.ArchiveState(ctx, "missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ArchiveState(missing) = %+v, %v; want ErrNotFound", st, err)
	}
	blobWantAbsent(t, s, "missing")
}

func archiveTestInvalidKeys(t *testing.T, s blob.Store, a blob.Archiver) {
	ctx := t.Context()
	for _, key := range []string{"", "../x", "a/b", ".hidden", "A", strings.Repeat("k", 129), "a b"} {
		check := func(method string, err error) {
			t.Helper()
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("%s(%q): err = %v, want ErrInvalidKey", method, key, err)
			}
		}
		check("Archive", a.Archive(ctx, key, blob.ClassGlacier))
		check("Restore", a.Restore(ctx, key, 1, blob.TierStandard))
		_, err := a.ArchiveState(ctx, key)
		check("ArchiveState", err)
	}
	blobWantList(t, s, "", nil)
}

// archiveWantArchived checks that key cannot be read, whole or in part.
func archiveWantArchived(t *testing.T, s blob.Store, key string) {
	t.Helper()
	for _, r := range [][2]int64{{0, -1}, {1, 2}} {
		rc, err := s.Get(t.Context(), key, r[0], r[1])
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, blob.ErrArchived) {
			t.Errorf("Get(%q, %d, %d) of an archived object: err = %v, want ErrArchived", key, r[0], r[1], err)
		}
	}
}

// archiveWaitRestored polls ArchiveState until key has a restored copy, for
// up to ArchiveRestoreTimeout, and returns that state.
func archiveWaitRestored(t *testing.T, a blob.Archiver, key string) blob.ArchiveState {
	t.Helper()
	deadline := time.Now().Add(ArchiveRestoreTimeout)
	wait := 50 * time.Millisecond
	for {
		st, err := a.ArchiveState(t.Context(), key)
		if err != nil {
			t.Fatalf("ArchiveState(%q): %v", key, err)
		}
		if !st.RestoredUntil.IsZero() {
			if !st.RestoredUntil.After(time.Now()) {
				t.Errorf("ArchiveState(%q): RestoredUntil %v is in the past", key, st.RestoredUntil)
			}
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("ArchiveState(%q) = %+v: no restored copy after %v", key, st, ArchiveRestoreTimeout)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("ArchiveState(%q): %v", key, t.Context().Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
