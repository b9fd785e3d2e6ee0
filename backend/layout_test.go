package backend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
)

// TestUploadLayoutChecked: a session whose size and part size the sealing
// cannot hold is refused when it is opened (it used to open, and its
// Complete answered with a file that had nothing stored).
func TestUploadLayoutChecked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, o := range []backend.UploadOptions{
		{Size: 10, PartSize: 4831838208},
		{Size: 53687091200000},
		{Size: backend.MaxUploadSize + 1},
		{Size: math.MaxInt64},
		{Size: math.MaxInt64, PartSize: backend.MaxPartSize},
		{Size: 10, PartSize: backend.MaxPartSize + 64<<10},
	} {
		u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/huge"), o)
		if err == nil {
			// What the hole led to: a Complete over nothing.
			ent, cerr := e.b.CompleteUpload(ctx, e.admin, "", u.ID, nil)
			t.Fatalf("%+v: session %+v opened; Complete: %+v %v", o, u, ent, cerr)
		}
		wantErr(t, err, errs.ErrInvalid)
	}
	// The edges open.
	for _, o := range []backend.UploadOptions{
		{Size: 10, PartSize: backend.MaxPartSize},
		{Size: backend.MaxUploadSize},
		{Size: backend.MaxUploadSize, PartSize: backend.MaxPartSize},
	} {
		u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/edge"), o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if err := e.b.AbortUpload(ctx, e.admin, "", u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// A streamed write beyond what a blob can hold is refused before a
	// byte is read.
	_, err := e.b.Put(ctx, e.admin, p("/home/admin/huge"), bytes.NewReader(nil), backend.PutOptions{Size: 1<<50 + 1})
	wantErr(t, err, errs.ErrInvalid)
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/huge")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("stat after refusals: %v", err)
	}
}

// TestCompleteRefusesStoredLayout: a session opened before layouts were
// checked (its record rewritten here) cannot be completed.
func TestCompleteRefusesStoredLayout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/old"), backend.UploadOptions{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.meta.Get(ctx, "upload#"+u.ID, "session")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(it.Value, &rec); err != nil {
		t.Fatal(err)
	}
	rec["ps"] = 4831838208
	it.Value, _ = json.Marshal(rec)
	if _, err := e.meta.Put(ctx, it, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.CompleteUpload(ctx, e.admin, "", u.ID, nil)
	wantErr(t, err, errs.ErrInvalid)
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/old")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("stat: %v", err)
	}
	if err := e.b.AbortUpload(ctx, e.admin, "", u.ID); err != nil {
		t.Fatal(err)
	}
}

// shortJoin is a blob store whose Complete leaves out the last part, as a
// store that lost one would.
type shortJoin struct{ blob.Store }

func (s shortJoin) Complete(ctx context.Context, key, uploadID string, parts []blob.Part) error {
	return s.Store.Complete(ctx, key, uploadID, parts[:len(parts)-1])
}

// TestCompleteChecksStoredSize: what the blob store holds after the join
// must be what the session declares; otherwise nothing is committed, the
// session is closed and what it stored is dropped.
func TestCompleteChecksStoredSize(t *testing.T) {
	e := newEnv(t, wrapBlobs(func(s blob.Store) blob.Store { return shortJoin{s} }))
	ctx := context.Background()
	before := e.blobCount()
	content := data(5*mib+100, 3)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	for n, part := range [][]byte{content[:5*mib], content[5*mib:]} {
		if _, err := e.b.PutPart(ctx, e.admin, "", u.ID, n+1, bytes.NewReader(part), int64(len(part)), nil); err != nil {
			t.Fatal(err)
		}
	}
	ent, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content))
	if err == nil {
		got, rerr := e.read(e.admin, "/home/admin/f", backend.OpenOptions{})
		t.Fatalf("completed as %+v over a short object; reading it: %d bytes, %v", ent, len(got), rerr)
	}
	wantErr(t, err, errs.ErrIntegrity)
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/f")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("stat: %v", err)
	}
	if _, err := e.b.GetUpload(ctx, e.admin, "", u.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("session still open: %v", err)
	}
	if n := e.blobCount(); n != before {
		t.Fatalf("%d objects, %d before", n, before)
	}
}
