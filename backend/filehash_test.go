package backend_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
)

// countingGets counts blob reads: a Complete whose digest was carried along
// as parts arrived reads nothing back.
type countingGets struct {
	blob.Store
	gets atomic.Int64
}

func (c *countingGets) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key, off, n)
}

func uploadParts(t *testing.T, b *backend.Backend, pr iam.Principal, id string, content []byte, order []int) {
	t.Helper()
	for _, n := range order {
		lo := (n - 1) * mib * 5
		part := content[lo:min(lo+5*mib, len(content))]
		if _, err := b.PutPart(context.Background(), pr, "", id, n, bytes.NewReader(part), int64(len(part)), nil); err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
	}
}

func TestUploadDigestWithoutReadBack(t *testing.T) {
	for name, order := range map[string][]int{"in order": {1, 2, 3}, "out of order": {3, 1, 2}, "reverse": {3, 2, 1}} {
		t.Run(name, func(t *testing.T) {
			var cg *countingGets
			e := newEnv(t, wrapBlobs(func(s blob.Store) blob.Store { cg = &countingGets{Store: s}; return cg }))
			ctx := context.Background()
			content := data(12*mib+5, 21)
			u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
			if err != nil {
				t.Fatal(err)
			}
			uploadParts(t, e.b, e.admin, u.ID, content, order)
			before := cg.gets.Load()
			if _, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content)); err != nil {
				t.Fatal(err)
			}
			if n := cg.gets.Load() - before; n != 0 {
				t.Fatalf("Complete read the blob back %d times", n)
			}
			if !bytes.Equal(e.mustRead(e.admin, "/home/admin/f"), content) {
				t.Fatal("content")
			}
		})
	}
}

// A part sent again after it was hashed (with other bytes) must not leave
// the digest describing the old bytes.
func TestUploadDigestPartResent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := data(11*mib, 1)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(first)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	uploadParts(t, e.b, e.admin, u.ID, first, []int{1, 2, 3})
	final := bytes.Clone(first)
	copy(final, data(5*mib, 2)) // part 1 changes
	uploadParts(t, e.b, e.admin, u.ID, final, []int{1})
	_, err = e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(first))
	wantErr(t, err, errs.ErrDigestMismatch)

	// The same again, completing with the right digest.
	u, err = e.b.CreateUpload(ctx, e.admin, p("/home/admin/g"), backend.UploadOptions{Size: int64(len(first)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	uploadParts(t, e.b, e.admin, u.ID, first, []int{1, 2, 3})
	uploadParts(t, e.b, e.admin, u.ID, final, []int{1})
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(final)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/g"), final) {
		t.Fatal("content")
	}
}

// With no memory for early parts, and on another server that never saw the
// parts, the digest is still right (read back where it must be).
func TestUploadDigestFallbacks(t *testing.T) {
	e := newEnv(t, func(c *backend.Config) { c.SpoolBudget = -1 })
	ctx := context.Background()
	content := data(12*mib, 3)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	uploadParts(t, e.b, e.admin, u.ID, content, []int{2, 3, 1})
	other, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: e.keys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CompleteUpload(ctx, e.admin, "", u.ID, sum(content)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/f"), content) {
		t.Fatal("content")
	}
}

// Parts of one upload sent to two servers in turn: each server catches up
// with what the other saved, so Complete still reads nothing back.
func TestUploadDigestAcrossServers(t *testing.T) {
	var cg *countingGets
	e := newEnv(t, wrapBlobs(func(s blob.Store) blob.Store { cg = &countingGets{Store: s}; return cg }))
	other, err := backend.New(backend.Config{Blobs: cg, Meta: e.meta, Keys: e.keys})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	content := data(31*mib, 8)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	servers := []*backend.Backend{e.b, other}
	for n := 1; n <= u.Parts; n++ {
		lo := (n - 1) * 5 * mib
		part := content[lo:min(lo+5*mib, len(content))]
		if _, err := servers[n%2].PutPart(ctx, e.admin, "", u.ID, n, bytes.NewReader(part), int64(len(part)), nil); err != nil {
			t.Fatal(err)
		}
	}
	before := cg.gets.Load()
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content)); err != nil {
		t.Fatal(err)
	}
	if n := cg.gets.Load() - before; n != 0 {
		t.Fatalf("Complete read the blob back %d times", n)
	}
}
