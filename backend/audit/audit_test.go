package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/meta/bolt"
	"github.com/strata-storage/strata/internal/fakeclock"
	"github.com/strata-storage/strata/internal/storepath"
)

// counting counts the requests that reach the store.
type counting struct {
	meta.Store
	mu       sync.Mutex
	puts, tx int
}

func (c *counting) Put(ctx context.Context, it meta.Item, cond meta.Cond) (int64, error) {
	c.mu.Lock()
	c.puts++
	c.mu.Unlock()
	return c.Store.Put(ctx, it, cond)
}

func (c *counting) Transact(ctx context.Context, ops []meta.Op) error {
	c.mu.Lock()
	c.tx++
	c.mu.Unlock()
	return c.Store.Transact(ctx, ops)
}

type fixture struct {
	raw   *counting
	store meta.Store // wrapped
	log   *audit.Log
	clock *fakeclock.Clock
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	bs, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	raw := &counting{Store: bs}
	clk := fakeclock.New(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	l, err := audit.New(audit.Config{Meta: raw, Now: clk.Now, Retention: 3 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{raw: raw, store: audit.Wrap(raw), log: l, clock: clk}
}

var (
	alice = iam.User("u-alice", "alice", false, "t-alice")
	bob   = iam.User("u-bob", "bob", false, "t-bob")
	root  = iam.User("u-root", "root", true, "t-root")
)

func pathRes(p string) iam.Resource { return iam.PathOf(storepath.MustParse(p)) }

// request runs one request through a scope: it decides each of decisions
// with HomeRule (as the core would), then runs fn, and finishes with
// outcome.
func (f *fixture) request(t *testing.T, id string, pr iam.Principal, changes bool, decisions []iam.Resource, act iam.Action, fn func(ctx context.Context) error, outcome string) {
	t.Helper()
	ctx, sc := f.log.Begin(context.Background(), audit.Request{ID: id, SourceIP: "192.0.2.7", Via: iam.ViaHTTP, Op: "TEST", Changes: changes})
	sc.SetPrincipal(pr)
	ctx = iam.WithRequest(ctx, iam.Request{ID: id})
	for _, res := range decisions {
		_ = iam.Authorize(ctx, iam.HomeRule{}, pr, act, res)
	}
	if fn != nil {
		if err := fn(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sc.Finish(ctx, outcome)
}

func (f *fixture) all(t *testing.T, q audit.Query) []audit.Record {
	t.Helper()
	var out []audit.Record
	for {
		pg, err := f.log.List(context.Background(), root, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pg.Records...)
		if pg.Next == "" {
			return out
		}
		q.Cursor = pg.Next
	}
}

func (f *fixture) byRequest(t *testing.T, id string) []audit.Record {
	t.Helper()
	var out []audit.Record
	for _, r := range f.all(t, audit.Query{}) {
		if r.RequestID == id {
			out = append(out, r)
		}
	}
	return out
}

func write(store meta.Store, sk string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return store.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "thing", SK: sk}, meta.NoCond)})
	}
}

// A change that commits in a transaction carries its record in it: no
// request of its own, and the record is there even if the request never
// finishes (its server died after the commit).
func TestRecordRidesInTheTransaction(t *testing.T) {
	f := newFixture(t)
	ctx, sc := f.log.Begin(context.Background(), audit.Request{ID: "r1", SourceIP: "192.0.2.7", Via: iam.ViaHTTP, Op: "PUT /v1/files/{path...}", Changes: true})
	sc.SetPrincipal(alice)
	if err := iam.Authorize(ctx, iam.HomeRule{}, alice, iam.PutFile, pathRes("/home/alice/a.txt")); err != nil {
		t.Fatal(err)
	}
	puts := f.raw.puts
	if err := write(f.store, "a")(ctx); err != nil {
		t.Fatal(err)
	}
	if f.raw.tx != 1 || f.raw.puts-puts != 1 { // the one Put: the day's index, once a day
		t.Fatalf("transactions %d, puts %d: want the record in the one transaction", f.raw.tx, f.raw.puts-puts)
	}
	got := f.byRequest(t, "r1")
	if len(got) != 1 {
		t.Fatalf("records before Finish: %+v", got)
	}
	r := got[0]
	want := audit.Record{Time: f.clock.Now(), UserID: "u-alice", User: "alice", TokenID: "t-alice", SourceIP: "192.0.2.7", Via: "http",
		Op: "PUT /v1/files/{path...}", Action: "strata:PutFile", Resource: "/home/alice/a.txt", Decision: "allow", RequestID: "r1", Outcome: "ok"}
	r.Reason = ""
	if fmt.Sprint(r) != fmt.Sprint(want) {
		t.Fatalf("record\n got %+v\nwant %+v", r, want)
	}
	sc.Finish(ctx, audit.OK)
	if n := len(f.byRequest(t, "r1")); n != 1 {
		t.Fatalf("%d records after Finish, want the one", n)
	}
}

func TestWhatIsRecorded(t *testing.T) {
	f := newFixture(t)
	home := []iam.Resource{pathRes("/home/alice/x")}
	// A read: nothing.
	f.request(t, "read", alice, false, home, iam.GetFile, nil, audit.OK)
	// A denial, even of a read, with what decided it.
	f.request(t, "denied", bob, false, home, iam.GetFile, nil, "forbidden")
	// A change that failed before it wrote.
	f.request(t, "failed", alice, true, home, iam.DeleteFile, nil, "not_found")
	// A change refused before any decision (no principal).
	f.request(t, "anon", iam.Principal{}, true, nil, "", nil, "unauthorized")
	// A change that committed and then failed: the commit and the failure.
	f.request(t, "late", alice, true, home, iam.PutFile, write(f.store, "late"), "internal")
	// A request not meant to change anything that wrote all the same.
	f.request(t, "sneaky", alice, false, home, iam.GetFile, func(ctx context.Context) error {
		_, err := f.store.Put(ctx, meta.Item{PK: "thing", SK: "s"}, meta.NoCond)
		return err
	}, audit.OK)
	// A copy: reads the source, writes the destination.
	f.request(t, "copy", alice, true, nil, "", func(ctx context.Context) error {
		_ = iam.Authorize(ctx, iam.HomeRule{}, alice, iam.GetFile, pathRes("/home/alice/src"))
		_ = iam.Authorize(ctx, iam.HomeRule{}, alice, iam.CopyFile, pathRes("/home/alice/dst"))
		return write(f.store, "copy")(ctx)
	}, audit.OK)
	// A login, noted by the core.
	f.request(t, "login", iam.Principal{}, true, nil, "", func(ctx context.Context) error {
		audit.Note(ctx, iam.Principal{Name: "alice"}, audit.ActionLogin, iam.UserNamed("alice"))
		return nil
	}, "unauthorized")

	check := func(id string, n int, want func(r []audit.Record) string) {
		t.Helper()
		got := f.byRequest(t, id)
		if len(got) != n {
			t.Errorf("%s: %d records, want %d: %+v", id, len(got), n, got)
			return
		}
		if want != nil {
			if msg := want(got); msg != "" {
				t.Errorf("%s: %s: %+v", id, msg, got)
			}
		}
	}
	check("read", 0, nil)
	check("denied", 1, func(r []audit.Record) string {
		if r[0].Decision != "deny" || r[0].User != "bob" || r[0].Action != "strata:GetFile" || r[0].Outcome != "forbidden" || r[0].Reason == "" {
			return "want bob's denial"
		}
		return ""
	})
	check("failed", 1, func(r []audit.Record) string {
		if r[0].Outcome != "not_found" || r[0].Action != "strata:DeleteFile" {
			return "want the failed delete"
		}
		return ""
	})
	check("anon", 1, func(r []audit.Record) string {
		if r[0].Outcome != "unauthorized" || r[0].SourceIP != "192.0.2.7" {
			return "want the refusal with its source"
		}
		return ""
	})
	check("late", 2, func(r []audit.Record) string {
		if r[0].Outcome+r[1].Outcome != "internalok" && r[0].Outcome+r[1].Outcome != "okinternal" {
			return "want the commit and the failure after it"
		}
		return ""
	})
	check("sneaky", 1, nil)
	check("copy", 1, func(r []audit.Record) string {
		if r[0].Action != "strata:CopyFile" || r[0].Resource != "/home/alice/dst" || len(r[0].Also) != 1 || r[0].Also[0].Resource != "/home/alice/src" {
			return "want the copy named by its destination, the source as another decision"
		}
		return ""
	})
	check("login", 1, func(r []audit.Record) string {
		if r[0].Action != "strata:Login" || r[0].User != "alice" || r[0].Outcome != "unauthorized" {
			return "want the failed login"
		}
		return ""
	})
}

func TestStatementThatDecided(t *testing.T) {
	f := newFixture(t)
	deny := iam.MustParse("guard", `{"Version":"2012-10-17","Statement":[
		{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
		{"Sid":"NoDeletes","Effect":"Deny","Action":"strata:DeleteFile","Resource":"/home/alice/keep/*"}]}`)
	d := iam.NewPolicyDecider(iam.PolicySourceFunc(func(iam.Principal) (*iam.PolicySet, error) {
		return &iam.PolicySet{Identity: []*iam.Policy{deny}}, nil
	}), f.clock.Now)
	ctx, sc := f.log.Begin(context.Background(), audit.Request{ID: "sid", Changes: true})
	_ = iam.Authorize(ctx, d, alice, iam.DeleteFile, pathRes("/home/alice/keep/a"))
	sc.Finish(ctx, "forbidden")
	r := f.byRequest(t, "sid")
	if len(r) != 1 || r[0].Policy != "guard" || r[0].Sid != "NoDeletes" || r[0].Decision != "deny" {
		t.Fatalf("want the deny statement guard/NoDeletes: %+v", r)
	}
}

func TestListNewestFirstFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	// Two days of records: alice deletes and writes, bob writes.
	for i := range 30 {
		pr, act, p := alice, iam.DeleteFile, fmt.Sprintf("/home/alice/d/%02d", i)
		switch i % 3 {
		case 1:
			act = iam.PutFile
		case 2:
			pr, act, p = bob, iam.PutFile, fmt.Sprintf("/home/bob/%02d", i)
		}
		f.request(t, fmt.Sprintf("r%02d", i), pr, true, []iam.Resource{pathRes(p)}, act, nil, audit.OK)
		f.clock.Add(2 * time.Hour)
	}
	all := f.all(t, audit.Query{Limit: 7})
	if len(all) != 30 {
		t.Fatalf("%d records, want 30", len(all))
	}
	for i, r := range all {
		if want := fmt.Sprintf("r%02d", 29-i); r.RequestID != want {
			t.Fatalf("record %d is %s, want %s (newest first, across days and pages)", i, r.RequestID, want)
		}
	}
	dels := f.all(t, audit.Query{User: "alice", Action: "strata:Delete*"})
	if len(dels) != 10 {
		t.Fatalf("%d of alice's deletes, want 10", len(dels))
	}
	if got := f.all(t, audit.Query{Path: "/home/bob"}); len(got) != 10 {
		t.Fatalf("%d records under /home/bob, want 10", len(got))
	}
	since := f.all(t, audit.Query{Since: f.clock.Now().Add(-24 * time.Hour)})
	if len(since) != 12 {
		t.Fatalf("%d records in the last 24h, want 12", len(since))
	}
	// alice sees her own by default, and may not see everyone's.
	pg, err := f.log.List(context.Background(), alice, audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Records) != 20 || pg.User != "alice" {
		t.Fatalf("alice listed %d records of %q, want her 20", len(pg.Records), pg.User)
	}
	for _, who := range []string{"bob", audit.AllUsers} {
		if _, err := f.log.List(context.Background(), alice, audit.Query{User: who}); !iam.IsDenied(err) {
			t.Fatalf("alice reading %s's: %v, want a denial", who, err)
		}
	}
	if _, err := f.log.List(context.Background(), root, audit.Query{Cursor: "nonsense"}); err == nil {
		t.Fatal("a forged cursor was taken")
	}
	if _, err := f.log.List(context.Background(), root, audit.Query{Action: "["}); err == nil {
		t.Fatal("a broken pattern was taken")
	}
}

func TestTrimKeepsTheRetention(t *testing.T) {
	f := newFixture(t) // retention 3 days
	for i := range 12 {
		f.request(t, fmt.Sprintf("r%02d", i), alice, true, []iam.Resource{pathRes("/home/alice/x")}, iam.PutFile, nil, audit.OK)
		f.clock.Add(12 * time.Hour)
	}
	// Now is 6 days after the first: the first 6 (3 days' worth) go.
	n, err := f.log.Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	left := f.all(t, audit.Query{})
	if n != 6 || len(left) != 6 || left[len(left)-1].RequestID != "r06" {
		t.Fatalf("trimmed %d, left %d (oldest %s), want 6 trimmed and r06..r11 left", n, len(left), left[len(left)-1].RequestID)
	}
	// The days trimmed whole left the day index too.
	pg, err := f.raw.Query(context.Background(), "auditdays", meta.QueryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 3 || pg.Items[0].SK != "2026-12-08" {
		t.Fatalf("day index %v, want 2026-12-08 to 2026-12-10", pg.Items)
	}
	if n, _ := f.log.Trim(context.Background()); n != 0 {
		t.Fatalf("a second trim removed %d", n)
	}
}

func TestRetentionSetting(t *testing.T) {
	f := newFixture(t)
	if _, err := audit.New(audit.Config{Meta: f.raw, Retention: time.Hour}); err == nil {
		t.Fatal("a retention of an hour was taken")
	}
	l, err := audit.New(audit.Config{Meta: f.raw})
	if err != nil || l.Retention() != audit.DefaultRetention {
		t.Fatalf("default retention %v, %v", l.Retention(), err)
	}
}
