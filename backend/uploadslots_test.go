package backend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
)

func TestOpenUploadsBound(t *testing.T) {
	testOpenUploadsBound(t, newEnv(t, maxUploads(4)))
}

func TestOpenUploadsBoundOnAWS(t *testing.T) {
	testOpenUploadsBound(t, newAWSEnv(t, maxUploads(4)))
}

// testOpenUploadsBound: the bound on a user's open upload sessions holds
// exactly when creates race at its edge, is errs.ErrTooMany, and frees as
// sessions end by Abort, Complete and the collector's expiry. Sessions
// opened before the count existed are counted on first use, and a count
// left too high is set right before a create is refused.
func testOpenUploadsBound(t *testing.T, e *env) {
	ctx := context.Background()
	alice := e.user("alice")
	open := func(i int) (backend.Upload, error) {
		return e.b.CreateUpload(ctx, alice, p(fmt.Sprintf("/home/alice/f%d", i)), backend.UploadOptions{Size: 1})
	}
	var ids []string
	for i := range 3 {
		u, err := open(i)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	// 16 creates race for the last slot: exactly one gets it.
	race := func(base int) (won []string) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				u, err := open(base + i)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, u.ID)
				case !errors.Is(err, errs.ErrTooMany):
					t.Errorf("create: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		return won
	}
	won := race(100)
	if len(won) != 1 {
		t.Fatalf("%d of 16 racing creates opened a session with one slot free", len(won))
	}
	ids = append(ids, won...)
	countOpen := func() int {
		t.Helper()
		us, err := e.b.ListUploads(ctx, alice, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	if n := countOpen(); n != 4 {
		t.Fatalf("%d sessions open, bound 4", n)
	}
	if _, err := open(200); !errors.Is(err, errs.ErrTooMany) {
		t.Fatalf("create at the bound: %v", err)
	}
	// Another user has their own slots.
	if _, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/x"), backend.UploadOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}

	// An Abort frees one slot, for one of 16 racers.
	if err := e.b.AbortUpload(ctx, alice, "", ids[0]); err != nil {
		t.Fatal(err)
	}
	if won := race(300); len(won) != 1 {
		t.Fatalf("%d racers won the slot an Abort freed", len(won))
	}
	// So does a Complete.
	if _, err := e.b.PutPart(ctx, alice, "", ids[1], 1, strings.NewReader("x"), 1, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.CompleteUpload(ctx, alice, "", ids[1], nil); err != nil {
		t.Fatal(err)
	}
	if won := race(400); len(won) != 1 {
		t.Fatalf("%d racers won the slot a Complete freed", len(won))
	}
	// The collector's expiry frees them all.
	e.clock.Add(backend.DefaultUploadTTL + 1)
	if st, err := e.b.Collect(ctx, 0); err != nil || st.ExpiredUploads != 5 {
		t.Fatalf("collect %+v %v", st, err)
	}
	if won := race(500); len(won) != 4 {
		t.Fatalf("%d racers opened sessions with 4 slots free", len(won))
	}

	// Sessions from before the count: without it, they are counted.
	uid := alice.UserID
	if err := e.meta.Delete(ctx, "user#"+uid, "uploads", meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if _, err := open(600); !errors.Is(err, errs.ErrTooMany) {
		t.Fatalf("create with 4 uncounted sessions open: %v", err)
	}
	// A count too high is set right before a create is refused.
	us, err := e.b.ListUploads(ctx, alice, "")
	if err != nil {
		t.Fatal(err)
	}
	abortAll(t, e, alice, us[:2])
	it, err := e.meta.Get(ctx, "user#"+uid, "uploads")
	if err != nil || it.N != 2 {
		t.Fatalf("count %+v %v, want 2", it, err)
	}
	it.N = 4
	if _, err := e.meta.Put(ctx, it, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if won := race(700); len(won) != 2 {
		t.Fatalf("%d racers opened sessions with 2 slots free and a count of 4", len(won))
	}
	if n := countOpen(); n != 4 {
		t.Fatalf("%d sessions open, bound 4", n)
	}
}

func abortAll(t *testing.T, e *env, pr iam.Principal, us []backend.Upload) {
	t.Helper()
	for _, u := range us {
		if err := e.b.AbortUpload(context.Background(), pr, "", u.ID); err != nil {
			t.Fatal(err)
		}
	}
}
