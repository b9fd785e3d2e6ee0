package backend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
)

// usageIs checks the usage of user's home folder, and that a recount
// finds the same: the counters kept in the writes' transactions are what
// the home folder holds.
func (e *env) usageIs(user string, bytes, files int64) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.b.Drain(ctx); err != nil { // background purges
		e.t.Fatal(err)
	}
	u, err := e.b.GetUsage(ctx, e.admin, user)
	if err != nil {
		e.t.Fatal(err)
	}
	if u.Bytes != bytes || u.Files != files || u.Reserved != 0 || !u.Counted {
		e.t.Fatalf("usage of %s: %d bytes, %d files, %d reserved (counted %v), want %d bytes, %d files", user, u.Bytes, u.Files, u.Reserved, u.Counted, bytes, files)
	}
	r, err := e.b.RecountUsage(ctx, e.admin, user)
	if err != nil {
		e.t.Fatal(err)
	}
	if r != u {
		e.t.Fatalf("recount of %s: %+v, the counters said %+v", user, r, u)
	}
}

func TestUsageExact(t *testing.T) { testUsageExact(t, newEnv(t, keep(3))) }

func TestUsageExactOnAWS(t *testing.T) { testUsageExact(t, newAWSEnv(t, keep(3))) }

func testUsageExact(t *testing.T, e *env) {
	ctx := context.Background()
	alice := e.user("alice")
	e.user("bob")
	e.usageIs("alice", 0, 0)

	e.put(alice, "/home/alice/a", data(100, 1))
	e.usageIs("alice", 100, 1)
	// Versions count, up to the number kept.
	e.put(alice, "/home/alice/a", data(50, 2))
	e.put(alice, "/home/alice/a", data(20, 3))
	e.usageIs("alice", 170, 1)
	e.put(alice, "/home/alice/a", data(7, 4)) // drops the 100
	e.usageIs("alice", 77, 1)
	// A copy counts its logical size, though it shares the blob.
	if _, _, err := e.b.Copy(ctx, alice, p("/home/alice/a"), p("/home/alice/d/b"), time.Minute); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 84, 2)
	// A version restored is a new version.
	if _, err := e.b.RestoreVersion(ctx, alice, p("/home/alice/a"), 3); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 84-50+20, 2)
	// Moves and renames within the home change nothing; a folder copy counts.
	if _, err := e.b.Move(ctx, alice, p("/home/alice/d"), p("/home/alice/e"), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.b.Copy(ctx, alice, p("/home/alice/e"), p("/home/alice/f"), time.Minute); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 54+7, 3)
	// Trash counts; restore changes nothing; purge gives back.
	ti, err := e.b.Delete(ctx, alice, p("/home/alice/f"), true)
	if err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 61, 3)
	if _, err := e.b.RestoreTrash(ctx, alice, "", ti.ID, nil); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 61, 3)
	if ti, err = e.b.Delete(ctx, alice, p("/home/alice/f"), true); err != nil {
		t.Fatal(err)
	}
	if err := e.b.PurgeTrash(ctx, alice, "", ti.ID); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 54, 2)
	// Overwriting by a move trashes the file replaced: it still counts.
	if _, err := e.b.Move(ctx, alice, p("/home/alice/e/b"), p("/home/alice/a"), true); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 54, 2)
	// An admin moves a file into another home: it counts there, with its
	// versions; a folder cannot move between homes.
	e.put(alice, "/home/alice/g", data(30, 5))
	e.put(alice, "/home/alice/g", data(40, 6))
	if _, err := e.b.Move(ctx, e.admin, p("/home/alice/g"), p("/home/bob/g"), false); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 54, 2)
	e.usageIs("bob", 70, 1)
	_, err = e.b.Move(ctx, e.admin, p("/home/alice/e"), p("/home/bob/e"), false)
	wantErr(t, err, errs.ErrInvalid)
	// Trashed by the admin, it is in the admin's trash and still counts
	// against bob's home; emptying that trash gives it back.
	if _, err := e.b.Delete(ctx, e.admin, p("/home/bob/g"), false); err != nil {
		t.Fatal(err)
	}
	e.usageIs("bob", 70, 1)
	if _, err := e.b.EmptyTrash(ctx, e.admin, ""); err != nil {
		t.Fatal(err)
	}
	e.usageIs("bob", 0, 0)
	// Outside every home folder nothing counts.
	e.put(e.admin, "/projects/x", data(10, 7))
	if _, err := e.b.Move(ctx, e.admin, p("/home/alice/a"), p("/projects/a"), false); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 54-7, 1)
	// The trash of alice, emptied: back to nothing.
	if _, err := e.b.EmptyTrash(ctx, alice, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Delete(ctx, alice, p("/home/alice/e"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.EmptyTrash(ctx, alice, ""); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 0, 0)
}

func TestQuotaRefuses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	if _, err := e.b.SetQuota(ctx, alice, "alice", ptr(int64(1)), ptr(int64(0))); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("a user sets their own quota: %v", err)
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(1000)), ptr(int64(3))); err != nil {
		t.Fatal(err)
	}
	e.put(alice, "/home/alice/a", data(600, 1))
	_, err := e.b.Put(ctx, alice, p("/home/alice/b"), bytes.NewReader(data(500, 2)), backend.PutOptions{Size: 500})
	var qe *errs.QuotaError
	if !errors.As(err, &qe) || qe.Resource != "bytes" || qe.Used != 600 || qe.Limit != 1000 || qe.Need != 500 {
		t.Fatalf("put past the quota: %v (%+v)", err, qe)
	}
	// Unknown size: refused at the commit.
	_, err = e.b.Put(ctx, alice, p("/home/alice/b"), bytes.NewReader(data(500, 2)), backend.PutOptions{Size: -1})
	if !errors.As(err, &qe) || qe.Used != 600 {
		t.Fatalf("put of unknown size past the quota: %v", err)
	}
	// A session reserves its size at once.
	u, err := e.b.CreateUpload(ctx, alice, p("/home/alice/s"), backend.UploadOptions{Size: 300})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.b.GetUsage(ctx, alice, "")
	if got.Bytes != 600 || got.Reserved != 300 {
		t.Fatalf("usage with a session open: %+v", got)
	}
	if _, err := e.b.CreateUpload(ctx, alice, p("/home/alice/t"), backend.UploadOptions{Size: 101}); !errors.As(err, &qe) || qe.Used != 900 {
		t.Fatalf("session past the quota: %v", err)
	}
	if err := e.b.AbortUpload(ctx, alice, "", u.ID); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 600, 1)
	// Complete checks again: a quota lowered meanwhile refuses it, and
	// the session stays for an abort.
	u, err = e.b.CreateUpload(ctx, alice, p("/home/alice/s"), backend.UploadOptions{Size: 300})
	if err != nil {
		t.Fatal(err)
	}
	content := data(300, 3)
	if _, err := e.b.PutPart(ctx, alice, "", u.ID, 1, bytes.NewReader(content), 300, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(800)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.CompleteUpload(ctx, alice, "", u.ID, sum(content)); !errors.As(err, &qe) {
		t.Fatalf("complete past a lowered quota: %v", err)
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(1000)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.CompleteUpload(ctx, alice, "", u.ID, sum(content)); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 900, 2)
	// Files: the third fits, the fourth does not; a copy is a file.
	e.put(alice, "/home/alice/c", nil)
	if _, _, err := e.b.Copy(ctx, alice, p("/home/alice/c"), p("/home/alice/d"), time.Minute); !errors.As(err, &qe) || qe.Resource != "files" || qe.Used != 3 || qe.Limit != 3 {
		t.Fatalf("copy past the file quota: %v", err)
	}
	// A folder copy that does not fit fails whole and gives back what it took.
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(1000)), ptr(int64(0))); err != nil {
		t.Fatal(err)
	}
	e.put(alice, "/home/alice/dir/x", data(50, 4))
	e.put(alice, "/home/alice/dir/y", data(40, 5))
	if _, _, err := e.b.Copy(ctx, alice, p("/home/alice/dir"), p("/home/alice/dir2"), time.Minute); !errors.Is(err, errs.ErrQuotaExceeded) {
		t.Fatalf("folder copy past the quota: %v", err)
	}
	e.usageIs("alice", 990, 5)
	// No quota: anything goes.
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(0)), ptr(int64(0))); err != nil {
		t.Fatal(err)
	}
	e.put(alice, "/home/alice/big", data(5000, 6))
	e.usageIs("alice", 5990, 6)
}

func TestDefaultQuota(t *testing.T) {
	e := newEnv(t, func(c *backend.Config) { c.DefaultQuota = backend.Quota{Bytes: 10} })
	e.user("alice")
	u, err := e.b.GetUsage(context.Background(), e.admin, "alice")
	if err != nil || u.Quota.Bytes != 10 || !u.Counted {
		t.Fatalf("new user's usage: %+v %v", u, err)
	}
}

// A store from before quotas: the home folders are counted once.
func TestCountUsageOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	e.put(alice, "/home/alice/a", data(100, 1))
	e.put(alice, "/home/alice/b/c", data(10, 2))
	e.put(alice, "/home/alice/old/f", data(30, 3))
	e.put(alice, "/home/alice/oldf", data(5, 4))
	// Trashed before quotas: the items remember no home folder.
	var trashed []string
	for _, path := range []string{"/home/alice/old", "/home/alice/oldf"} {
		ti, err := e.b.Delete(ctx, alice, p(path), true)
		if err != nil {
			t.Fatal(err)
		}
		trashed = append(trashed, ti.ID)
		it, err := e.meta.Get(ctx, "trash#"+alice.UserID, "t#"+ti.ID)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(it.Value, &rec); err != nil {
			t.Fatal(err)
		}
		delete(rec, "hm")
		delete(rec, "ct")
		it.Value, _ = json.Marshal(rec)
		if _, err := e.meta.Put(ctx, it, meta.AtVersion(it.Version)); err != nil {
			t.Fatal(err)
		}
	}
	// Forget the counters, as a store made before them has none.
	home, err := e.b.Stat(ctx, e.admin, p("/home/alice"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"bytes", "files", "reserved", "counted"} {
		if err := e.meta.Delete(ctx, "usage#"+home.ID, sk, meta.NoCond); err != nil {
			t.Fatal(err)
		}
	}
	if u, _ := e.b.GetUsage(ctx, alice, ""); u.Counted || u.Bytes != 0 {
		t.Fatalf("before the count: %+v", u)
	}
	n, err := e.b.CountUsage(ctx)
	if err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	e.usageIs("alice", 110, 2)
	if n, err := e.b.CountUsage(ctx); err != nil || n != 0 {
		t.Fatalf("second count: %d %v", n, err)
	}
	// Restored, they count: a file at once, a folder by a recount.
	for _, id := range trashed {
		if _, err := e.b.RestoreTrash(ctx, alice, "", id, nil); err != nil {
			t.Fatal(err)
		}
	}
	e.usageIs("alice", 145, 4)
}

// Sixteen uploads race at the edge of a quota: exactly as many as fit
// get in, on both engines.
func TestQuotaRace(t *testing.T) { testQuotaRace(t, newEnv(t)) }

func TestQuotaRaceOnAWS(t *testing.T) { testQuotaRace(t, newAWSEnv(t)) }

func testQuotaRace(t *testing.T, e *env) {
	ctx := context.Background()
	alice := e.user("alice")
	const n, size, fit = 16, 1000, 5
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(fit*size+size/2)), ptr(int64(0))); err != nil {
		t.Fatal(err)
	}
	race := func(what string, op func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- op(i)
			}()
		}
		wg.Wait()
		close(errc)
		ok := 0
		for err := range errc {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, errs.ErrQuotaExceeded):
				t.Fatalf("%s: %v", what, err)
			}
		}
		if ok != fit {
			t.Fatalf("%s: %d of %d got in, want %d", what, ok, n, fit)
		}
	}
	var mu sync.Mutex
	var open []string
	race("sessions", func(i int) error {
		u, err := e.b.CreateUpload(ctx, alice, p(fmt.Sprintf("/home/alice/s%02d", i)), backend.UploadOptions{Size: size})
		if err == nil {
			mu.Lock()
			open = append(open, u.ID)
			mu.Unlock()
		}
		return err
	})
	u, _ := e.b.GetUsage(ctx, alice, "")
	if u.Reserved != fit*size || u.Bytes != 0 {
		t.Fatalf("after the sessions race: %+v", u)
	}
	for _, id := range open {
		if err := e.b.AbortUpload(ctx, alice, "", id); err != nil {
			t.Fatal(err)
		}
	}
	race("puts", func(i int) error {
		_, err := e.b.Put(ctx, alice, p(fmt.Sprintf("/home/alice/p%02d", i)), bytes.NewReader(data(size, uint64(i))), backend.PutOptions{Size: -1})
		return err
	})
	e.usageIs("alice", fit*size, fit)
}

func ptr[T any](v T) *T { return &v }

// countingMeta counts the requests made of a meta.Store.
type countingMeta struct {
	meta.Store
	mu sync.Mutex
	n  map[string]int
}

func (c *countingMeta) count(what string) {
	c.mu.Lock()
	c.n[what]++
	c.mu.Unlock()
}

func (c *countingMeta) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	c.count("Get")
	return c.Store.Get(ctx, pk, sk)
}

func (c *countingMeta) Transact(ctx context.Context, ops []meta.Op) error {
	c.count("Transact")
	return c.Store.Transact(ctx, ops)
}

func (c *countingMeta) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	c.count("Query")
	return c.Store.Query(ctx, pk, o)
}

func (c *countingMeta) requests(f func()) map[string]int {
	c.mu.Lock()
	c.n = map[string]int{}
	c.mu.Unlock()
	f()
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// What quotas cost an upload in requests to the metadata store: nothing
// without a byte limit, one read with one (to refuse before the content
// is stored); the counters ride in the transaction the write makes anyway.
func TestQuotaRequestsPerUpload(t *testing.T) {
	cm := &countingMeta{n: map[string]int{}}
	e := newEnv(t, func(c *backend.Config) { cm.Store = c.Meta; c.Meta = cm })
	ctx := context.Background()
	alice := e.user("alice")
	e.put(alice, "/home/alice/warm", data(10, 1))
	put := func(name string) map[string]int {
		return cm.requests(func() { e.put(alice, "/home/alice/"+name, data(4096, 2)) })
	}
	put("a0")
	free := put("a")
	if free["Transact"] != 1 {
		t.Fatalf("a put made %d transactions", free["Transact"])
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(1<<30)), nil); err != nil {
		t.Fatal(err)
	}
	put("b0") // the first write after the change finds its cached home folder stale
	limited := put("b")
	if limited["Get"] != free["Get"]+1 || limited["Transact"] != 1 || limited["Query"] != free["Query"] {
		t.Fatalf("requests of a put: %v without a quota, %v with one", free, limited)
	}
}
