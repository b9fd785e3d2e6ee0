package backend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// inlineIDs are the IDs of the blobs listed as kept inline (every prefix
// of the inline partitions).
func inlineIDs(t *testing.T, ms meta.Store) []string {
	t.Helper()
	var ids []string
	a := record.IDAlphabet
	for i := range len(a) * len(a) {
		pg, err := ms.Query(context.Background(), "inline#"+string([]byte{a[i/len(a)], a[i%len(a)]}), meta.QueryOpts{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			ids = append(ids, it.SK)
		}
	}
	return ids
}

func (e *env) inlineListed() int { return len(inlineIDs(e.t, e.meta)) }

// Small files are kept in their blob's record with InlineMax: nothing in
// the blob store, read whole and in ranges as any other, shared by a
// copy, and gone (record and listing) with their last version. A file
// over the limit, and one of unknown length, go to the blob store.
func TestInlineSmallFiles(t *testing.T) {
	e := newEnv(t, inline(backend.DefaultInlineMax), keep(1))
	ctx := context.Background()
	small := data(5000, 1)
	e.put(e.admin, "/home/admin/small.txt", small)
	e.put(e.admin, "/home/admin/empty", nil)
	if n := e.blobCount(); n != 1 { // the empty file: nothing to seal
		t.Fatalf("%d objects in the blob store for a small and an empty file, want 1", n)
	}
	if n := e.inlineListed(); n != 1 {
		t.Fatalf("%d blobs listed inline, want 1", n)
	}
	if got := e.mustRead(e.admin, "/home/admin/small.txt"); !bytes.Equal(got, small) {
		t.Fatal("read back other bytes")
	}
	if got := e.mustRead(e.admin, "/home/admin/empty"); len(got) != 0 {
		t.Fatalf("the empty file reads %d bytes", len(got))
	}
	for _, r := range [][2]int64{{0, 1}, {4999, 1}, {100, 3000}, {0, 5000}, {2500, -1}} {
		got, err := e.read(e.admin, "/home/admin/small.txt", backend.OpenOptions{Offset: r[0], Length: r[1]})
		want := small[r[0]:]
		if r[1] >= 0 {
			want = want[:r[1]]
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("bytes %d+%d: %d bytes, %v", r[0], r[1], len(got), err)
		}
	}
	if _, err := e.read(e.admin, "/home/admin/small.txt", backend.OpenOptions{Offset: 4000, Length: 2000}); err == nil {
		t.Fatal("a range past the end was read")
	}

	big := data(backend.DefaultInlineMax+1, 2)
	e.put(e.admin, "/home/admin/big.bin", big)
	if _, err := e.b.Put(ctx, e.admin, p("/home/admin/streamed.txt"), bytes.NewReader(small), backend.PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	if n, l := e.blobCount(), e.inlineListed(); n != 3 || l != 1 {
		t.Fatalf("%d objects, %d inline after a big and a streamed file; want 3 and 1", n, l)
	}

	// A copy shares the record; the file's last reference takes it away.
	if _, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/small.txt"), p("/home/admin/copy.txt"), time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Delete(ctx, e.admin, p("/home/admin/small.txt"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.EmptyTrash(ctx, e.admin, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.mustRead(e.admin, "/home/admin/copy.txt"); !bytes.Equal(got, small) || e.inlineListed() != 1 {
		t.Fatal("the copy lost the bytes it shares")
	}
	e.put(e.admin, "/home/admin/copy.txt", []byte("another version")) // keep(1): the old one goes
	if _, err := e.b.Delete(ctx, e.admin, p("/home/admin/copy.txt"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.EmptyTrash(ctx, e.admin, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.inlineListed(); n != 0 {
		t.Fatalf("%d blobs still listed inline after their files went", n)
	}
}

// A small file written and read with InlineMax off (a store made before
// it, or on the AWS engines) and then on, and the other way: both read.
func TestInlineAndStoredTogether(t *testing.T) {
	e := newEnv(t, inline(backend.DefaultInlineMax))
	e.put(e.admin, "/home/admin/a.txt", []byte("kept inline"))
	off, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: e.keys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.Put(context.Background(), e.admin, p("/home/admin/b.txt"), bytes.NewReader([]byte("in the store")), backend.PutOptions{Size: 12}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/home/admin/a.txt": "kept inline", "/home/admin/b.txt": "in the store"} {
		for _, b := range []*backend.Backend{e.b, off} {
			r, err := b.Open(context.Background(), e.admin, p(path), backend.OpenOptions{Length: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			_, err = got.ReadFrom(r)
			r.Close()
			if err != nil || got.String() != want {
				t.Fatalf("%s: %q, %v", path, got.String(), err)
			}
		}
	}
}

// Archived, a file kept inline moves to the blob store (its archive tier)
// and its record keeps no bytes; restored, it reads as before.
func TestInlineArchived(t *testing.T) {
	e, _ := archiveEnv(t, map[blob.RestoreTier]time.Duration{blob.TierStandard: time.Hour}, inline(backend.DefaultInlineMax))
	ctx := context.Background()
	content := data(3000, 7)
	e.put(e.admin, "/home/admin/a.txt", content)
	ids := inlineIDs(t, e.meta)
	if len(ids) != 1 {
		t.Fatal("the file is not kept inline")
	}
	id := ids[0]
	e.archive("/home/admin/a.txt", blob.ClassGlacier)
	if n := e.inlineListed(); n != 0 {
		t.Fatalf("%d blobs listed inline after the archive", n)
	}
	it, err := e.meta.Get(ctx, "blob#"+id, "blob")
	if err != nil || bytes.Contains(it.Value, []byte(`"in"`)) {
		t.Fatalf("the archived blob's record: %s, %v", it.Value, err)
	}
	e.restore("/home/admin/a.txt", blob.TierStandard, 1)
	e.poll() // submits the request
	e.clock.Add(time.Hour)
	e.poll()
	if got := e.mustRead(e.admin, "/home/admin/a.txt"); !bytes.Equal(got, content) {
		t.Fatal("restored, it reads back other bytes")
	}
}

// A blob kept inline whose references are all gone but which was not
// released (a crash between the two) is found by the collector through its
// listing: it has no object for the blob store's walk to find.
func TestInlineCollected(t *testing.T) {
	e := newEnv(t, inline(backend.DefaultInlineMax))
	ctx := context.Background()
	e.put(e.admin, "/home/admin/a.txt", []byte("kept inline"))
	e.put(e.admin, "/home/admin/b.txt", []byte("kept inline too"))
	ids := inlineIDs(t, e.meta)
	if len(ids) != 2 {
		t.Fatalf("%d blobs listed inline, want 2", len(ids))
	}
	// The first one's last reference goes, and nothing releases it.
	if err := e.meta.Transact(ctx, []meta.Op{meta.Add("blob#"+ids[0], "blob", -1, meta.MustLive)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Collect(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := e.inlineListed(); n != 2 {
		t.Fatalf("collected within the grace: %d listed", n)
	}
	e.clock.Add(2 * time.Hour)
	st, err := e.b.Collect(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.inlineListed(); n != 1 || st.OrphanBlobs != 1 {
		t.Fatalf("after the grace: %d listed, %d orphans collected; want 1 and 1", n, st.OrphanBlobs)
	}
	if _, err := e.meta.Get(ctx, "blob#"+ids[0], "blob"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("the released blob's record: %v", err)
	}
	readable := 0
	for _, f := range []string{"/home/admin/a.txt", "/home/admin/b.txt"} {
		if _, err := e.read(e.admin, f, backend.OpenOptions{}); err == nil {
			readable++
		}
	}
	if readable != 1 {
		t.Fatalf("%d of the two files read, want the one whose blob is kept", readable)
	}
}

// An archive of a file kept inline that fails after its bytes went to the
// blob store takes them out again; one that a crash cut there (the object
// and the record both hold the bytes) neither breaks a key rotation, which
// finds the blob both ways, nor the file.
func TestInlineArchiveFailsMidway(t *testing.T) {
	e, cs := archiveEnv(t, nil, inline(backend.DefaultInlineMax), exclusive(), noKeyCache())
	ctx := context.Background()
	if err := e.b.CheckKeys(ctx); err != nil {
		t.Fatal(err)
	}
	content := data(2000, 3)
	e.put(e.admin, "/home/admin/a.txt", content)
	errCold := errors.New("cold tier unreachable")
	cs.onArchive = func(context.Context, int64) error { return errCold }
	if _, err := e.b.Archive(ctx, e.admin, p("/home/admin/a.txt"), backend.ArchiveOptions{Class: blob.ClassGlacier}); err == nil {
		t.Fatal("an archive whose tier fails succeeded")
	}
	objects := func() int { // blobCount drains the backend's jobs: no rotation after it
		n := 0
		if err := e.blobs.List(ctx, "", func(blob.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := objects(); n != 0 {
		t.Fatalf("%d objects left by the failed archive", n)
	}
	// As a crash there leaves it.
	id := inlineIDs(t, e.meta)[0]
	it, err := e.meta.Get(ctx, "blob#"+id, "blob")
	if err != nil {
		t.Fatal(err)
	}
	var br struct {
		Inline []byte `json:"in"`
	}
	if err := json.Unmarshal(it.Value, &br); err != nil || len(br.Inline) == 0 {
		t.Fatalf("record: %s, %v", it.Value, err)
	}
	if err := e.blobs.Put(ctx, id, bytes.NewReader(br.Inline), int64(len(br.Inline))); err != nil {
		t.Fatal(err)
	}
	if job := e.rotate(); job.State != backend.JobDone {
		t.Fatalf("rotation with a blob both inline and stored: %+v", job)
	}
	if got := e.mustRead(e.admin, "/home/admin/a.txt"); !bytes.Equal(got, content) {
		t.Fatal("reads back other bytes after the rotation")
	}
	// Released, it takes the object with it.
	if _, err := e.b.Delete(ctx, e.admin, p("/home/admin/a.txt"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.EmptyTrash(ctx, e.admin, ""); err != nil {
		t.Fatal(err)
	}
	if n, l := e.blobCount(), e.inlineListed(); n != 0 || l != 0 {
		t.Fatalf("after its release: %d objects, %d listed inline", n, l)
	}
}
