package backend_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
)

// hookMeta runs a one-shot hook before the first Transact whose ops match.
type hookMeta struct {
	meta.Store
	mu       sync.Mutex
	match    func([]meta.Op) bool
	hook     func()
	delMatch func(pk, sk string) bool
	delHook  func()
	after    func() // if set, run once the hooked Transact has returned
}

func (h *hookMeta) arm(match func([]meta.Op) bool, hook func()) {
	h.mu.Lock()
	h.match, h.hook = match, hook
	h.mu.Unlock()
}

func (h *hookMeta) Transact(ctx context.Context, ops []meta.Op) error {
	h.mu.Lock()
	var run, after func()
	if h.match != nil && h.match(ops) {
		run, after = h.hook, h.after
		h.match, h.hook, h.after = nil, nil, nil
	}
	h.mu.Unlock()
	if run != nil {
		run()
	}
	err := h.Store.Transact(ctx, ops)
	if after != nil {
		after()
	}
	return err
}

func (h *hookMeta) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	h.mu.Lock()
	var run func()
	if h.delMatch != nil && h.delMatch(pk, sk) {
		run = h.delHook
		h.delMatch, h.delHook = nil, nil
	}
	h.mu.Unlock()
	if run != nil {
		run()
	}
	return h.Store.Delete(ctx, pk, sk, c)
}

type hookBlobs struct {
	blob.Store
	mu   sync.Mutex
	hook func()
}

func (h *hookBlobs) Complete(ctx context.Context, key, id string, parts []blob.Part) error {
	h.mu.Lock()
	run := h.hook
	h.hook = nil
	h.mu.Unlock()
	if run != nil {
		run()
	}
	return h.Store.Complete(ctx, key, id, parts)
}

func hookEnv(t *testing.T) (*backend.Backend, *hookMeta, *hookBlobs, iam.Principal, blob.Store) {
	t.Helper()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	hm := &hookMeta{Store: eng.Meta}
	hb := &hookBlobs{Store: eng.Blobs}
	b, _, admin := wire(t, backend.Config{Blobs: hb, Meta: hm, Keys: eng.Keys})
	return b, hm, hb, admin, eng.Blobs
}

func putS(t *testing.T, b *backend.Backend, pr iam.Principal, path, s string) (backend.Entry, error) {
	return b.Put(context.Background(), pr, p(path), strings.NewReader(s), backend.PutOptions{Size: int64(len(s))})
}

func readS(b *backend.Backend, pr iam.Principal, path string) (string, error) {
	r, err := b.Open(context.Background(), pr, p(path), backend.OpenOptions{Length: -1})
	if err != nil {
		return "", err
	}
	defer r.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(r)
	return buf.String(), err
}

func hasVersionPut(ops []meta.Op) bool {
	for _, op := range ops {
		if op.Kind == meta.OpPut && strings.HasPrefix(op.Item.SK, "v#") {
			return true
		}
	}
	return false
}

// A name deleted and created again while a write to it is in flight: the
// write must not commit over the new file on the strength of the old
// entry's version (the ABA problem), and purging the trash must not touch
// the live file.
func TestRaceDeleteAndRecreateDuringWrite(t *testing.T) {
	ctx := context.Background()
	b, hm, _, admin, _ := hookEnv(t)
	if _, err := putS(t, b, admin, "/d/f", "OLD"); err != nil {
		t.Fatal(err)
	}
	var newErr error
	hm.arm(hasVersionPut, func() {
		// Another client: rm /d/f; put /d/f NEW
		if _, err := b.Delete(ctx, admin, p("/d/f"), false); err != nil {
			t.Errorf("delete: %v", err)
		}
		_, newErr = putS(t, b, admin, "/d/f", "NEW")
	})
	if _, err := putS(t, b, admin, "/d/f", "VICTIM"); err != nil {
		t.Fatalf("victim put: %v", err)
	}
	if newErr != nil {
		t.Fatalf("NEW put failed: %v", newErr)
	}
	// The write retried against the new file: it is the newest version of
	// it, and the other client's NEW is kept as the one before.
	got, err := readS(b, admin, "/d/f")
	if err != nil || got != "VICTIM" {
		t.Fatalf("after the race /d/f is %q, %v; want VICTIM", got, err)
	}
	vp, err := b.Versions(ctx, admin, p("/d/f"), "", 0)
	if err != nil || len(vp.Versions) != 2 || vp.Versions[1].SHA256 != hexSum("NEW") {
		t.Fatalf("versions %+v, %v: NEW should be the version before VICTIM", vp.Versions, err)
	}
	if _, err := b.EmptyTrash(ctx, admin, ""); err != nil {
		t.Fatal(err)
	}
	if got, err := readS(b, admin, "/d/f"); err != nil || got != "VICTIM" {
		t.Fatalf("after emptying the trash /d/f is %q, %v", got, err)
	}
}

func hexSum(s string) string { return hex.EncodeToString(sum([]byte(s))) }

// A folder restored from the trash into a folder that a concurrent move is
// putting inside the restored folder: a cycle cut off the tree.
func TestRaceRestoreIntoMovingFolder(t *testing.T) {
	ctx := context.Background()
	b, hm, _, admin, _ := hookEnv(t)
	for _, d := range []string{"/q", "/T/s"} {
		if _, err := b.Mkdir(ctx, admin, p(d), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := putS(t, b, admin, "/q/precious", "DATA"); err != nil {
		t.Fatal(err)
	}
	isMove := func(ops []meta.Op) bool {
		for _, op := range ops {
			if op.Kind == meta.OpPut && op.Item.PK == "tree" {
				return true
			}
		}
		return false
	}
	hm.arm(isMove, func() {
		ti, err := b.Delete(ctx, admin, p("/T"), true)
		if err != nil {
			t.Errorf("delete: %v", err)
			return
		}
		to := p("/q/T")
		if _, err := b.RestoreTrash(ctx, admin, "", ti.ID, &to); err != nil {
			t.Errorf("restore: %v", err)
		}
	})
	// The move must fail (its destination moved under it) or land where
	// it can be reached; never cut a cycle off the tree.
	_, moveErr := b.Move(ctx, admin, p("/q"), p("/T/s/q"), false)
	pg, _ := b.List(ctx, admin, p("/"), "", 0)
	var names []string
	for _, e := range pg.Entries {
		names = append(names, e.Name)
	}
	t.Logf("move: %v; root now holds %v", moveErr, names)
	if _, err := b.Stat(ctx, admin, p("/q/precious")); err != nil {
		if _, err2 := b.Stat(ctx, admin, p("/T/s/q/precious")); err2 != nil {
			tp, _ := b.ListTrash(ctx, admin, "", "", 0)
			t.Errorf("/q/precious unreachable (%v; %v); trash has %d items: cycle q->T->s->q", err, err2, len(tp.Items))
		}
	}
}

// A write that resolved its parent before the folder was trashed commits
// into it while the purge is between emptying the folder and deleting it.
func TestRaceWriteIntoPurgedFolder(t *testing.T) {
	ctx := context.Background()
	b, hm, _, admin, blobs := hookEnv(t)
	if _, err := b.Mkdir(ctx, admin, p("/a/b"), true); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	reached := make(chan struct{})
	purgeDone := make(chan error, 1)
	hm.arm(hasVersionPut, func() {
		ti, err := b.Delete(ctx, admin, p("/a"), true)
		if err != nil {
			t.Errorf("delete: %v", err)
			return
		}
		hm.mu.Lock()
		hm.delMatch = func(pk, sk string) bool { return sk == "e#b" }
		hm.delHook = func() { close(reached); <-release }
		hm.mu.Unlock()
		go func() { purgeDone <- b.PurgeTrash(ctx, admin, "", ti.ID) }()
		<-reached // purge has emptied b and is about to delete b's entry
	})
	// The victim's commit goes first, then the purge finishes.
	hm.mu.Lock()
	hm.after = func() { close(release) }
	hm.mu.Unlock()
	e, err := putS(t, b, admin, "/a/b/f", "ACKED")
	t.Logf("victim put: %+v err %v", e.Path, err)
	if err := <-purgeDone; err != nil {
		t.Logf("purge: %v", err)
	}
	_, serr := b.Stat(ctx, admin, p("/a/b/f"))
	tp, _ := b.ListTrash(ctx, admin, "", "", 0)
	st, _ := b.Collect(ctx, time.Nanosecond)
	n := 0
	blobs.List(ctx, "", func(blob.Info) error { n++; return nil })
	t.Logf("stat after: %v; trash items %d; collect %+v; objects left %d", serr, len(tp.Items), st, n)
	if err == nil && serr != nil && len(tp.Items) == 0 {
		t.Errorf("acknowledged write lost: not in tree, not in trash; %d object(s) leaked forever", n)
	}
}

// Two Completes of one session, the second with a wrong digest: the loser
// discards the blob the winner committed.
func TestRaceTwoCompletes(t *testing.T) {
	ctx := context.Background()
	b, _, hb, admin, _ := hookEnv(t)
	content := data(6<<20, 7)
	u, err := b.CreateUpload(ctx, admin, p("/big"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= u.Parts; n++ {
		off := int64(n-1) * u.PartSize
		end := min(off+u.PartSize, int64(len(content)))
		if _, err := b.PutPart(ctx, admin, "", u.ID, n, bytes.NewReader(content[off:end]), end-off, nil); err != nil {
			t.Fatal(err)
		}
	}
	var aErr error
	hb.mu.Lock()
	hb.hook = func() { _, aErr = b.CompleteUpload(ctx, admin, "", u.ID, sum(content)) }
	hb.mu.Unlock()
	wrong := sum([]byte("something else"))
	_, bErr := b.CompleteUpload(ctx, admin, "", u.ID, wrong)
	t.Logf("A (right digest): %v; B (wrong digest): %v", aErr, bErr)
	got, err := b.Open(ctx, admin, p("/big"), backend.OpenOptions{Length: -1})
	if err == nil {
		var buf bytes.Buffer
		_, err = buf.ReadFrom(got)
		got.Close()
	}
	if aErr == nil && err != nil {
		t.Errorf("acknowledged upload destroyed by a failed Complete: %v", err)
	}
}
