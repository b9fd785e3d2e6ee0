package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// The fixture's fault-injecting store passes the archive tier through.
func (f *faultBlobs) Archive(ctx context.Context, key string, class blob.ArchiveClass) error {
	return f.Store.(blob.Archiver).Archive(ctx, key, class)
}

func (f *faultBlobs) Restore(ctx context.Context, key string, days int, tier blob.RestoreTier) error {
	return f.Store.(blob.Archiver).Restore(ctx, key, days, tier)
}

func (f *faultBlobs) ArchiveState(ctx context.Context, key string) (blob.ArchiveState, error) {
	return f.Store.(blob.Archiver).ArchiveState(ctx, key)
}

func (f *faultBlobs) RestoreDelay(class blob.ArchiveClass, tier blob.RestoreTier) time.Duration {
	return f.Store.(backend.RestoreDelayer).RestoreDelay(class, tier)
}

func TestArchiveHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	ok(t, f.do("PUT", "/v1/files/home/admin/a.txt", f.admin, strings.NewReader("archived content")), http.StatusCreated)
	ok(t, f.do("PUT", "/v1/files/home/admin/d/b.txt", f.admin, strings.NewReader("b")), http.StatusCreated)

	var e api.Entry
	body := ok(t, f.do("POST", "/v1/archive/home/admin/a.txt", f.admin, strings.NewReader(`{"class":"deep-archive"}`)), http.StatusOK)
	if err := json.Unmarshal(body, &e); err != nil || e.State != api.StateArchived || e.Archive == nil || e.Archive.Class != "deep-archive" {
		t.Fatalf("archive answer %s", body)
	}
	// The listing says so.
	body = ok(t, f.do("GET", "/v1/dirs/home/admin", f.admin, nil), http.StatusOK)
	if !strings.Contains(string(body), `"state":"archived"`) {
		t.Errorf("listing: %s", body)
	}
	// Reads, whole and ranged, are a problem that says how to restore.
	for _, hdr := range [][]string{nil, {"Range", "bytes=2-5"}} {
		p := problem(t, f.do("GET", "/v1/files/home/admin/a.txt", f.admin, nil, hdr...), http.StatusConflict, api.CodeArchived)
		if !strings.Contains(p.Detail, "strata restore") {
			t.Errorf("archived problem detail %q", p.Detail)
		}
	}
	// Bad input.
	problem(t, f.do("POST", "/v1/archive/home/admin/a.txt", f.admin, strings.NewReader(`{"class":"cold"}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("POST", "/v1/restore/home/admin/a.txt", f.admin, strings.NewReader(`{"tier":"fast","days":1}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("POST", "/v1/restore/home/admin/a.txt", f.admin, strings.NewReader(`{"tier":"standard","days":99}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	p := problem(t, f.do("POST", "/v1/restore/home/admin/a.txt", f.admin, strings.NewReader(`{"tier":"expedited","days":1}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	if !strings.Contains(p.Detail, "no expedited tier") {
		t.Errorf("expedited for deep-archive: %q", p.Detail)
	}
	problem(t, f.do("POST", "/v1/archive/home/admin/d", f.admin, strings.NewReader(`{"class":"glacier"}`)), http.StatusConflict, api.CodeIsDir)

	var rr api.RestoreResult
	body = ok(t, f.do("POST", "/v1/restore/home/admin/d/b.txt", f.admin, strings.NewReader(`{"tier":"bulk","days":1}`)), http.StatusOK)
	if err := json.Unmarshal(body, &rr); err != nil || rr.Started || !strings.Contains(rr.Note, "not archived") {
		t.Errorf("restore of a hot file: %s", body)
	}
	body = ok(t, f.do("POST", "/v1/restore/home/admin/a.txt", f.admin, strings.NewReader(`{"tier":"bulk","days":2}`)), http.StatusAccepted)
	if err := json.Unmarshal(body, &rr); err != nil || !rr.Started || rr.Entry.State != api.StateRestoring {
		t.Fatalf("restore: %s", body)
	}
	if err := f.b.PollRestores(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ok(t, f.do("GET", "/v1/files/home/admin/a.txt", f.admin, nil), http.StatusOK); string(got) != "archived content" {
		t.Errorf("restored file reads %q", got)
	}

	// A folder, as a job.
	var acc api.Accepted
	body = ok(t, f.do("POST", "/v1/archive/home/admin/d", f.admin, strings.NewReader(`{"class":"glacier","recursive":true}`)), http.StatusOK)
	if err := json.Unmarshal(body, &acc); err != nil || acc.Job.State != api.JobDone || acc.Job.Done != 1 || acc.Job.Kind != "archive" {
		t.Fatalf("recursive archive: %s", body)
	}
	problem(t, f.do("GET", "/v1/files/home/admin/d/b.txt", f.admin, nil), http.StatusConflict, api.CodeArchived)
}
