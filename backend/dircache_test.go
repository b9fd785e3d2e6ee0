package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
)

// Two servers on one store: the first remembers where the folders it
// wrote into are; the second moves, replaces and removes them behind its
// back. Every write of the first still lands where its path says now.
func TestFolderCacheAcrossServers(t *testing.T) {
	e := newEnv(t)
	other, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: e.keys, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	other.SetUsers(e.ids)
	ctx := context.Background()
	put := func(b *backend.Backend, path, content string) (backend.Entry, error) {
		return b.Put(ctx, e.admin, p(path), bytes.NewReader([]byte(content)), backend.PutOptions{Size: int64(len(content))})
	}
	must := func(en backend.Entry, err error) backend.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return en
	}
	must(put(e.b, "/home/admin/docs/a", "a")) // the first server knows docs now
	must(put(e.b, "/home/admin/top", "t"))    // and /home/admin

	// Moved away, and a new folder of the same name in its place.
	must(other.Move(ctx, e.admin, p("/home/admin/docs"), p("/home/admin/old"), false))
	must(other.Mkdir(ctx, e.admin, p("/home/admin/docs"), false))
	must(put(e.b, "/home/admin/docs/b", "b"))
	if got := fmt.Sprint(e.names(e.admin, "/home/admin/docs"), e.names(e.admin, "/home/admin/old")); got != "[b] [a]" {
		t.Fatalf("docs and old hold %s, want [b] [a]", got)
	}
	// A name taken since: the write is an overwrite, a new version.
	must(put(other, "/home/admin/docs/c", "c1"))
	if en := must(put(e.b, "/home/admin/docs/c", "c2")); en.Version != 2 {
		t.Fatalf("overwrite through the cache: version %d, want 2", en.Version)
	}
	if got := string(e.mustRead(e.admin, "/home/admin/docs/c")); got != "c2" {
		t.Fatalf("docs/c reads %q", got)
	}
	// A folder made where the first server would write a file.
	must(other.Mkdir(ctx, e.admin, p("/home/admin/sub"), false))
	_, err = put(e.b, "/home/admin/sub", "x")
	wantErr(t, err, errs.ErrIsDir)
	// The folder trashed and a file put in its place.
	if _, err := other.Delete(ctx, e.admin, p("/home/admin/docs"), true); err != nil {
		t.Fatal(err)
	}
	must(put(other, "/home/admin/docs", "now a file"))
	_, err = put(e.b, "/home/admin/docs/d", "d")
	wantErr(t, err, errs.ErrNotDir)
	if got := fmt.Sprint(e.names(e.admin, "/home/admin/old")); got != "[a]" {
		t.Fatalf("old holds %s", got)
	}
}
