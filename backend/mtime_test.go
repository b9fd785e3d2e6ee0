package backend_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
)

// TestMTimeEdges: file times are kept exactly from backend.MinMTime to
// backend.MaxMTime, the Unix epoch included, through every way a file
// time enters (a write, an upload session) and is carried (a copy, a
// restored version); times outside are refused before anything is stored.
func TestMTimeEdges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	kept := []time.Time{
		backend.MinMTime,
		backend.MaxMTime,
		time.Unix(0, 0).UTC(),
		time.Unix(0, -1).UTC(),
		time.Unix(0, 1).UTC(),
		time.Date(2000, 2, 29, 12, 0, 0, 123456789, time.UTC),
	}
	refused := []time.Time{
		backend.MinMTime.Add(-time.Nanosecond),
		backend.MaxMTime.Add(time.Nanosecond),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	}
	check := func(what, path string, want time.Time) {
		t.Helper()
		st, err := e.b.Stat(ctx, e.admin, p(path))
		if err != nil {
			t.Fatal(err)
		}
		if !st.ModTime.Equal(want) {
			t.Errorf("%s: mtime %s, want %s", what, st.ModTime.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	}
	for i, mt := range kept {
		path := "/home/admin/kept" + string(rune('a'+i))
		if _, err := e.b.Put(ctx, e.admin, p(path), bytes.NewReader([]byte("x")), backend.PutOptions{Size: 1, MTime: mt}); err != nil {
			t.Fatal(err)
		}
		check("put", path, mt)
		u, err := e.b.CreateUpload(ctx, e.admin, p(path+".up"), backend.UploadOptions{Size: 1, MTime: mt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.PutPart(ctx, e.admin, "", u.ID, 1, bytes.NewReader([]byte("y")), 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, nil); err != nil {
			t.Fatal(err)
		}
		check("upload", path+".up", mt)
		if _, _, err := e.b.Copy(ctx, e.admin, p(path), p(path+".copy"), time.Minute); err != nil {
			t.Fatal(err)
		}
		check("copy", path+".copy", mt)
		// A second version, then the first one restored.
		e.clock.Add(time.Second)
		if _, err := e.b.Put(ctx, e.admin, p(path), bytes.NewReader([]byte("z")), backend.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
		vs, err := e.b.Versions(ctx, e.admin, p(path), "", 0)
		if err != nil || len(vs.Versions) != 2 || !vs.Versions[1].ModTime.Equal(mt) {
			t.Fatalf("versions %+v %v", vs, err)
		}
		if _, err := e.b.RestoreVersion(ctx, e.admin, p(path), 1); err != nil {
			t.Fatal(err)
		}
		check("restored version", path, mt)
	}
	for _, mt := range refused {
		_, err := e.b.Put(ctx, e.admin, p("/home/admin/refused"), bytes.NewReader([]byte("x")), backend.PutOptions{Size: 1, MTime: mt})
		wantErr(t, err, errs.ErrInvalid)
		_, err = e.b.CreateUpload(ctx, e.admin, p("/home/admin/refused"), backend.UploadOptions{Size: 1, MTime: mt})
		wantErr(t, err, errs.ErrInvalid)
	}
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/refused")); err == nil {
		t.Fatal("a refused write is visible")
	}
	if us, err := e.b.ListUploads(ctx, e.admin, ""); err != nil || len(us) != 0 {
		t.Fatalf("sessions after refusals: %+v %v", us, err)
	}
	// The root folder still has no times.
	if st, err := e.b.Stat(ctx, e.admin, p("/")); err != nil || !st.ModTime.IsZero() {
		t.Fatalf("root %+v %v", st, err)
	}
}
