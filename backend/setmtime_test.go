package backend_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
)

func TestSetMTime(t *testing.T) {
	e, _ := archiveEnv(t, nil)
	testSetMTime(t, e)
}

func TestSetMTimeOnAWS(t *testing.T) { testSetMTime(t, newAWSEnv(t, keep(3))) }

// Setting a file's time changes that and nothing else: no version, no
// content, no usage; the time is the current version's (an older one
// keeps its own); it is PutFile on the path; times Strata cannot keep, a
// folder and a missing file are refused with nothing changed; an
// archived file takes it and stays archived.
func testSetMTime(t *testing.T, e *env) {
	ctx := context.Background()
	alice := e.user("alice")
	e.user("bob")
	content := []byte("hello, times")
	e.put(alice, "/home/alice/f.txt", []byte("first"))
	e.clock.Add(time.Second)
	before := e.put(alice, "/home/alice/f.txt", content)
	usage, err := e.b.GetUsage(ctx, alice, "")
	if err != nil {
		t.Fatal(err)
	}
	vs0, err := e.b.Versions(ctx, alice, p("/home/alice/f.txt"), "", 0)
	if err != nil || len(vs0.Versions) != 2 {
		t.Fatalf("versions %+v %v", vs0, err)
	}

	want := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	got, err := e.b.SetMTime(ctx, alice, p("/home/alice/f.txt"), want)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ModTime.Equal(want) || got.Version != before.Version || got.SHA256 != before.SHA256 || got.Size != before.Size {
		t.Fatalf("SetMTime answered %+v, want %+v with mtime %s", got, before, want)
	}
	st, err := e.b.Stat(ctx, alice, p("/home/alice/f.txt"))
	if err != nil || !st.ModTime.Equal(want) || st.Version != before.Version || st.ID != before.ID {
		t.Fatalf("stat %+v %v", st, err)
	}
	pg, err := e.b.List(ctx, alice, p("/home/alice"), "", 0)
	if err != nil || len(pg.Entries) != 1 || !pg.Entries[0].ModTime.Equal(want) {
		t.Fatalf("listing %+v %v", pg, err)
	}
	if !bytes.Equal(e.mustRead(alice, "/home/alice/f.txt"), content) {
		t.Fatal("the content changed")
	}
	vs, err := e.b.Versions(ctx, alice, p("/home/alice/f.txt"), "", 0)
	if err != nil || len(vs.Versions) != 2 {
		t.Fatalf("versions after: %+v %v", vs, err)
	}
	for i, v := range vs.Versions {
		old := vs0.Versions[i]
		wantV := old.ModTime
		if v.Current {
			wantV = want
		}
		if !v.ModTime.Equal(wantV) || v.Version != old.Version || v.SHA256 != old.SHA256 || !v.Time.Equal(old.Time) {
			t.Errorf("version %d: %+v, was %+v (want mtime %s)", i, v, old, wantV)
		}
	}
	if u, err := e.b.GetUsage(ctx, alice, ""); err != nil || u.Bytes != usage.Bytes || u.Files != usage.Files {
		t.Fatalf("usage %+v %v, was %+v", u, err, usage)
	}
	// The same time again is no change.
	if got, err := e.b.SetMTime(ctx, alice, p("/home/alice/f.txt"), want); err != nil || !got.ModTime.Equal(want) {
		t.Fatalf("again: %+v %v", got, err)
	}

	// Refusals change nothing.
	for _, bad := range []time.Time{{}, backend.MinMTime.Add(-time.Nanosecond), backend.MaxMTime.Add(time.Nanosecond)} {
		_, err := e.b.SetMTime(ctx, alice, p("/home/alice/f.txt"), bad)
		wantErr(t, err, errs.ErrInvalid)
	}
	_, err = e.b.SetMTime(ctx, alice, p("/home/alice/missing.txt"), want)
	wantErr(t, err, errs.ErrNotFound)
	if _, err := e.b.Mkdir(ctx, alice, p("/home/alice/dir"), false); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.SetMTime(ctx, alice, p("/home/alice/dir"), want)
	wantErr(t, err, errs.ErrIsDir)
	e.put(e.admin, "/home/bob/b.txt", []byte("bob's"))
	_, err = e.b.SetMTime(ctx, alice, p("/home/bob/b.txt"), want)
	wantErr(t, err, errs.ErrForbidden)
	if st, err := e.b.Stat(ctx, alice, p("/home/alice/f.txt")); err != nil || !st.ModTime.Equal(want) {
		t.Fatalf("after refusals: %+v %v", st, err)
	}
	if st, err := e.b.Stat(ctx, e.admin, p("/home/bob/b.txt")); err != nil || st.ModTime.Equal(want) {
		t.Fatalf("bob's file: %+v %v", st, err)
	}

	// An archived file takes a time, and stays archived.
	e.put(alice, "/home/alice/cold.bin", []byte("cold"))
	e.archive("/home/alice/cold.bin", blob.ClassGlacier)
	cold := time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)
	got, err = e.b.SetMTime(ctx, alice, p("/home/alice/cold.bin"), cold)
	if err != nil || !got.ModTime.Equal(cold) || got.State != "archived" {
		t.Fatalf("archived: %+v %v", got, err)
	}
	if st := e.wantState("/home/alice/cold.bin", "archived"); !st.ModTime.Equal(cold) {
		t.Fatalf("archived file after: %+v", st)
	}
}
