package backend_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/internal/storepath"
)

// TestLocateRacesMoves: pins racing moves of the folders above them never
// leave a pointer behind: once all is done, every pinned entry is located
// where it really is.
func TestLocateRacesMoves(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	const files = 8
	for i := range files {
		e.put(alice, fmt.Sprintf("/home/alice/a/f%d", i), []byte("x"))
	}
	var wg sync.WaitGroup
	ids := make([]string, files)
	wg.Add(2)
	go func() {
		defer wg.Done()
		from, to := "/home/alice/a", "/home/alice/b"
		for range 20 {
			if _, err := e.b.Move(ctx, alice, p(from), p(to), false); err != nil {
				t.Error(err)
				return
			}
			from, to = to, from
		}
	}()
	go func() {
		defer wg.Done()
		for i := range files {
			for {
				en, err := e.b.Pin(ctx, alice, p(fmt.Sprintf("/home/alice/a/f%d", i)))
				if errors.Is(err, errs.ErrNotFound) {
					en, err = e.b.Pin(ctx, alice, p(fmt.Sprintf("/home/alice/b/f%d", i)))
				}
				if errors.Is(err, errs.ErrNotFound) {
					continue // moved between the two tries
				}
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = en.ID
				break
			}
		}
	}()
	wg.Wait()
	for i, id := range ids {
		loc, err := e.b.Locate(ctx, id)
		if err != nil {
			t.Fatalf("f%d: %v", i, err)
		}
		st, err := e.b.Stat(ctx, alice, loc.Path)
		if err != nil || st.ID != id || loc.Path.String() != fmt.Sprintf("/home/alice/a/f%d", i) {
			t.Errorf("f%d located at %s: %+v %v", i, loc.Path, st, err)
		}
	}
}

// TestLocateThroughTrash: a pinned entry replaced by a move goes to the
// trash with its pointer; restored or moved elsewhere (into folders never
// pinned) it is found there; purged,
// it is gone for good; never pinned, it is not found.
func TestLocateThroughTrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	e.put(alice, "/home/alice/old.txt", []byte("old"))
	e.put(alice, "/home/alice/new.txt", []byte("new"))
	old, err := e.b.Pin(ctx, alice, p("/home/alice/old.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, alice, p("/home/alice/new.txt"), p("/home/alice/old.txt"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Locate(ctx, old.ID); !errors.Is(err, backend.ErrGone) {
		t.Fatalf("replaced by a move: %v", err)
	}
	tr, err := e.b.ListTrash(ctx, alice, "", "", 0)
	if err != nil || len(tr.Items) != 1 {
		t.Fatalf("trash %+v %v", tr, err)
	}
	if _, err := e.b.RestoreTrash(ctx, alice, "", tr.Items[0].ID, ptrPath("/home/alice/back/old.txt")); err != nil {
		t.Fatal(err)
	}
	loc, err := e.b.Locate(ctx, old.ID)
	if err != nil || loc.Path.String() != "/home/alice/back/old.txt" || loc.Entry.Size != 3 {
		t.Fatalf("restored: %+v %v", loc, err)
	}
	// Moved into folders never pinned: they are pinned with it.
	if _, err := e.b.Mkdir(ctx, alice, p("/home/alice/fresh/deep"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, alice, p("/home/alice/back/old.txt"), p("/home/alice/fresh/deep/old.txt"), false); err != nil {
		t.Fatal(err)
	}
	if loc, err := e.b.Locate(ctx, old.ID); err != nil || loc.Path.String() != "/home/alice/fresh/deep/old.txt" {
		t.Fatalf("moved into new folders: %+v %v", loc, err)
	}
	if _, err := e.b.Move(ctx, alice, p("/home/alice/fresh/deep/old.txt"), p("/home/alice/back/old.txt"), false); err != nil {
		t.Fatal(err)
	}
	ti, err := e.b.Delete(ctx, alice, p("/home/alice/back"), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Locate(ctx, old.ID); !errors.Is(err, backend.ErrGone) {
		t.Fatalf("in a trashed folder: %v", err)
	}
	if err := e.b.PurgeTrash(ctx, alice, "", ti.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Locate(ctx, old.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("purged: %v", err)
	}
	st, err := e.b.Stat(ctx, alice, p("/home/alice/old.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Locate(ctx, st.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("never pinned: %v", err)
	}
}

func ptrPath(s string) *storepath.Path { v := p(s); return &v }
