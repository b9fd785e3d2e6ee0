package backend_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/blob/local"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/errs"
)

// countingStore counts the archive requests that reach the blob store.
type countingStore struct {
	*local.Store
	archives, restores, states atomic.Int64
	// onArchive, if set, runs before the n-th Archive and may fail it.
	onArchive func(ctx context.Context, n int64) error
}

func (c *countingStore) Archive(ctx context.Context, key string, class blob.ArchiveClass) error {
	n := c.archives.Add(1)
	if c.onArchive != nil {
		if err := c.onArchive(ctx, n); err != nil {
			return err
		}
	}
	return c.Store.Archive(ctx, key, class)
}

func (c *countingStore) Restore(ctx context.Context, key string, days int, tier blob.RestoreTier) error {
	c.restores.Add(1)
	return c.Store.Restore(ctx, key, days, tier)
}

func (c *countingStore) ArchiveState(ctx context.Context, key string) (blob.ArchiveState, error) {
	c.states.Add(1)
	return c.Store.ArchiveState(ctx, key)
}

// archiveEnv is an env whose cold tier restores take delays by the env's
// clock.
func archiveEnv(t *testing.T, delays map[blob.RestoreTier]time.Duration, opts ...option) (*env, *countingStore) {
	t.Helper()
	dir := t.TempDir()
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	eng, err := embedded.OpenWith(dir, local.Options{Now: clk.Now, RestoreDelay: delays})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	cs := &countingStore{Store: eng.Blobs}
	cfg := backend.Config{Blobs: cs, Meta: eng.Meta, Keys: eng.Keys, Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	b, ids, admin := wire(t, cfg)
	return &env{t: t, b: b, ids: ids, blobs: cs, meta: eng.Meta, keys: eng.Keys, admin: admin, clock: clk, dir: dir}, cs
}

func (e *env) archive(path string, class blob.ArchiveClass) backend.Entry {
	e.t.Helper()
	ent, err := e.b.Archive(context.Background(), e.admin, p(path), backend.ArchiveOptions{Class: class})
	if err != nil {
		e.t.Fatalf("Archive(%s): %v", path, err)
	}
	return ent
}

func (e *env) restore(path string, tier blob.RestoreTier, days int) backend.RestoreResult {
	e.t.Helper()
	r, err := e.b.Restore(context.Background(), e.admin, p(path), backend.RestoreOptions{Tier: tier, Days: days})
	if err != nil {
		e.t.Fatalf("Restore(%s): %v", path, err)
	}
	return r
}

func (e *env) poll() {
	e.t.Helper()
	if err := e.b.PollRestores(context.Background()); err != nil {
		e.t.Fatalf("PollRestores: %v", err)
	}
}

// listed is the state of each file of the folder at path, as its listing
// says.
func (e *env) listed(path string) map[string]string {
	e.t.Helper()
	pg, err := e.b.List(context.Background(), e.admin, p(path), "", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]string{}
	for _, ent := range pg.Entries {
		m[ent.Name] = ent.State
	}
	return m
}

func (e *env) wantState(path, state string) backend.Entry {
	e.t.Helper()
	ent, err := e.b.Stat(context.Background(), e.admin, p(path))
	if err != nil {
		e.t.Fatal(err)
	}
	if ent.State != state {
		e.t.Fatalf("%s at %v: state %q (%+v), want %q", path, e.clock.Now(), ent.State, ent.Archive, state)
	}
	return ent
}

func (e *env) wantArchivedRead(path string) {
	e.t.Helper()
	for _, o := range []backend.OpenOptions{{Length: -1}, {Offset: 3, Length: 4}} {
		// Open itself fails: the server answers the problem before any
		// byte of a body.
		rc, err := e.b.Open(context.Background(), e.admin, p(path), o)
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, errs.ErrArchived) {
			e.t.Fatalf("open %s %+v: %v, want ErrArchived", path, o, err)
		}
		// It says the class, since when, and how to restore (or when the
		// restore in progress is expected).
		if msg := err.Error(); !strings.Contains(msg, "restore") || !strings.Contains(msg, "in glacier") ||
			!strings.Contains(msg, " since ") && !strings.Contains(msg, "expected by") {
			e.t.Errorf("read %s: %q does not say where it stands and how to restore", path, err)
		}
	}
}

// TestArchiveRestoreCycle follows a file through every state: archived
// (listed as such with no request to the blob store, unreadable with a
// problem that says how to restore), restoring for its tier's delay,
// restored for its days, then archived again.
func TestArchiveRestoreCycle(t *testing.T) { testArchiveRestoreCycle(t) }

// The same with the small files kept inline: archived, their bytes move
// to the blob store.
func TestArchiveRestoreCycleInline(t *testing.T) {
	testArchiveRestoreCycle(t, inline(backend.DefaultInlineMax))
}

func testArchiveRestoreCycle(t *testing.T, opts ...option) {
	e, cs := archiveEnv(t, map[blob.RestoreTier]time.Duration{blob.TierStandard: 3 * time.Hour}, opts...)
	content := data(5000, 1)
	e.put(e.admin, "/home/admin/cold.bin", content)
	e.put(e.admin, "/home/admin/warm.txt", []byte("warm"))
	since := e.clock.Now()
	ent := e.archive("/home/admin/cold.bin", blob.ClassGlacier)
	if ent.State != backend.StateArchived || ent.Archive == nil || ent.Archive.Class != "glacier" || !ent.Archive.Since.Equal(since) {
		t.Fatalf("Archive = %q %+v", ent.State, ent.Archive)
	}
	before := cs.states.Load() + cs.restores.Load()
	if got := e.listed("/home/admin"); got["cold.bin"] != backend.StateArchived || got["warm.txt"] != backend.StateHot {
		t.Errorf("listing states = %v", got)
	}
	if n := cs.states.Load() + cs.restores.Load(); n != before {
		t.Errorf("listing made %d archive requests to the blob store", n-before)
	}
	e.wantArchivedRead("/home/admin/cold.bin")

	r := e.restore("/home/admin/cold.bin", blob.TierStandard, 2)
	if !r.Started || r.Entry.State != backend.StateRestoring || !r.Entry.Archive.Expected.Equal(e.clock.Now().Add(3*time.Hour)) {
		t.Fatalf("Restore = %+v %+v", r, r.Entry.Archive)
	}
	// Asking again while it runs changes nothing.
	if r := e.restore("/home/admin/cold.bin", blob.TierStandard, 5); r.Started || !strings.Contains(r.Note, "in progress") {
		t.Errorf("second Restore = %+v", r)
	}
	e.poll() // submits the request
	if cs.restores.Load() != 1 {
		t.Errorf("%d restore requests, want 1", cs.restores.Load())
	}
	e.wantState("/home/admin/cold.bin", backend.StateRestoring)
	e.wantArchivedRead("/home/admin/cold.bin")
	e.clock.Add(3*time.Hour - time.Minute)
	e.poll() // not due yet
	e.wantState("/home/admin/cold.bin", backend.StateRestoring)
	e.clock.Add(time.Minute)
	e.poll()
	ent = e.wantState("/home/admin/cold.bin", backend.StateRestored)
	if want := e.clock.Now().Add(48 * time.Hour); !ent.Archive.Until.Equal(want) {
		t.Errorf("restored until %v, want %v", ent.Archive.Until, want)
	}
	if got := e.listed("/home/admin"); got["cold.bin"] != backend.StateRestored {
		t.Errorf("listing after the restore: %v", got)
	}
	if got := e.mustRead(e.admin, "/home/admin/cold.bin"); string(got) != string(content) {
		t.Error("restored content differs")
	}
	e.clock.Add(48 * time.Hour)
	// Archived again as soon as the days are over, before the poller
	// has looked.
	if got := e.listed("/home/admin"); got["cold.bin"] != backend.StateArchived {
		t.Errorf("listing after expiry: %v", got)
	}
	e.wantArchivedRead("/home/admin/cold.bin")
	e.poll()
	ent = e.wantState("/home/admin/cold.bin", backend.StateArchived)
	if ent.Archive.Requested != (time.Time{}) || ent.Archive.Until != (time.Time{}) {
		t.Errorf("archive state after expiry: %+v", ent.Archive)
	}
}

func TestArchiveBadInput(t *testing.T) {
	e, _ := archiveEnv(t, nil)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/f", []byte("x"))
	e.put(e.admin, "/home/admin/d/g", []byte("y"))
	r := e.restore("/home/admin/f", blob.TierStandard, 1)
	if r.Started || !strings.Contains(r.Note, "not archived") || r.Entry.State != backend.StateHot {
		t.Errorf("Restore of a hot file = %+v", r)
	}
	_, err := e.b.Archive(ctx, e.admin, p("/home/admin/f"), backend.ArchiveOptions{Class: "COLD"})
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.b.Archive(ctx, e.admin, p("/home/admin/d"), backend.ArchiveOptions{Class: blob.ClassGlacier})
	wantErr(t, err, errs.ErrIsDir)
	_, err = e.b.Archive(ctx, e.admin, p("/home/admin/none"), backend.ArchiveOptions{Class: blob.ClassGlacier})
	wantErr(t, err, errs.ErrNotFound)
	e.archive("/home/admin/f", blob.ClassDeepArchive)
	for _, o := range []backend.RestoreOptions{
		{Tier: "Fast", Days: 1}, {Tier: blob.TierBulk, Days: 0}, {Tier: blob.TierBulk, Days: 31}, {Tier: blob.TierExpedited, Days: 1},
	} {
		_, err := e.b.Restore(ctx, e.admin, p("/home/admin/f"), o)
		wantErr(t, err, errs.ErrInvalid)
	}
	e.wantState("/home/admin/f", backend.StateArchived)
	// Another class needs the content readable first.
	_, err = e.b.Archive(ctx, e.admin, p("/home/admin/f"), backend.ArchiveOptions{Class: blob.ClassGlacier})
	wantErr(t, err, errs.ErrArchived)
	// The same class again is nothing to do.
	e.archive("/home/admin/f", blob.ClassDeepArchive)

	// An upload in progress to the path.
	e.put(e.admin, "/home/admin/up", []byte("z"))
	if _, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/up"), backend.UploadOptions{Size: 10}); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.Archive(ctx, e.admin, p("/home/admin/up"), backend.ArchiveOptions{Class: blob.ClassGlacier})
	wantErr(t, err, errs.ErrConflict)
	if err == nil || !strings.Contains(err.Error(), "upload") {
		t.Errorf("archive during an upload: %v", err)
	}
}

// TestArchiveCopyAndVersions: a copy of an archived file is archived too,
// a new version is hot, and an instant-retrieval file reads at once.
func TestArchiveCopyAndVersions(t *testing.T) { testArchiveCopyAndVersions(t) }

func TestArchiveCopyAndVersionsInline(t *testing.T) {
	testArchiveCopyAndVersions(t, inline(backend.DefaultInlineMax))
}

func testArchiveCopyAndVersions(t *testing.T, opts ...option) {
	e, _ := archiveEnv(t, nil, opts...)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/a", []byte("version one"))
	e.archive("/home/admin/a", blob.ClassGlacier)
	if _, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/a"), p("/home/admin/b"), time.Second); err != nil {
		t.Fatal(err)
	}
	e.wantState("/home/admin/b", backend.StateArchived)
	e.wantArchivedRead("/home/admin/b")
	e.put(e.admin, "/home/admin/a", []byte("version two"))
	e.wantState("/home/admin/a", backend.StateHot)
	if got := e.mustRead(e.admin, "/home/admin/a"); string(got) != "version two" {
		t.Errorf("new version reads %q", got)
	}
	// The old version is still archived.
	if _, err := e.read(e.admin, "/home/admin/a", backend.OpenOptions{Version: 1, Length: -1}); !errors.Is(err, errs.ErrArchived) {
		t.Errorf("read of the archived old version: %v", err)
	}
	// Restoring through the copy makes the original's content readable.
	e.restore("/home/admin/b", blob.TierBulk, 1)
	e.poll()
	e.wantState("/home/admin/b", backend.StateRestored)
	if got, err := e.read(e.admin, "/home/admin/a", backend.OpenOptions{Version: 1, Length: -1}); err != nil || string(got) != "version one" {
		t.Errorf("old version after the restore: %q, %v", got, err)
	}

	e.put(e.admin, "/home/admin/ir", []byte("instant"))
	ent := e.archive("/home/admin/ir", blob.ClassGlacierIR)
	if ent.State != backend.StateArchived || ent.Archive.Class != "glacier-ir" {
		t.Errorf("glacier-ir entry: %q %+v", ent.State, ent.Archive)
	}
	if got := e.mustRead(e.admin, "/home/admin/ir"); string(got) != "instant" {
		t.Errorf("glacier-ir reads %q", got)
	}
	if r := e.restore("/home/admin/ir", blob.TierStandard, 1); r.Started {
		t.Errorf("restore of glacier-ir = %+v", r)
	}
}

// TestMoveWhileRestoring: a file moved while its restore runs gets the
// restored state where it went.
func TestMoveWhileRestoring(t *testing.T) {
	e, _ := archiveEnv(t, map[blob.RestoreTier]time.Duration{blob.TierBulk: time.Hour})
	ctx := context.Background()
	e.put(e.admin, "/home/admin/m", []byte("moving"))
	e.archive("/home/admin/m", blob.ClassGlacier)
	e.restore("/home/admin/m", blob.TierBulk, 1)
	e.poll()
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/m"), p("/home/admin/n"), false); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	e.poll()
	if got := e.listed("/home/admin"); got["n"] != backend.StateRestored {
		t.Errorf("listing of the moved file: %v", got)
	}
}

// TestRestoreClaimedOnce: servers sharing a store each see a restore due;
// exactly one sends it, and any of them finishes it after a restart.
func TestRestoreClaimedOnce(t *testing.T) {
	e, cs := archiveEnv(t, map[blob.RestoreTier]time.Duration{blob.TierStandard: time.Hour})
	e.put(e.admin, "/home/admin/c", []byte("claimed"))
	e.archive("/home/admin/c", blob.ClassGlacier)
	e.restore("/home/admin/c", blob.TierStandard, 1)
	servers := []*backend.Backend{e.b}
	for range 3 {
		b, err := backend.New(backend.Config{Blobs: cs, Meta: e.meta, Keys: e.keys, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, b)
	}
	var wg sync.WaitGroup
	for _, b := range servers {
		wg.Go(func() {
			if err := b.PollRestores(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := cs.restores.Load(); n != 1 {
		t.Errorf("%d restore requests from %d servers, want 1", n, len(servers))
	}
	// The first server is gone; another one finishes the job.
	e.clock.Add(time.Hour)
	if err := servers[2].PollRestores(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.wantState("/home/admin/c", backend.StateRestored)
	if n := cs.restores.Load(); n != 1 {
		t.Errorf("%d restore requests in all, want 1", n)
	}
}

// TestArchiveTreeResumes: a folder archive whose server stops halfway is
// resumed by the next server from where it got to, and every file ends up
// archived, each archived about once.
func TestArchiveTreeResumes(t *testing.T) {
	defer backend.SetTreePage(treePageForTest)()
	e, cs := archiveEnv(t, nil)
	ctx := context.Background()
	var paths []string
	for i := range 6 {
		paths = append(paths, fmt.Sprintf("/home/admin/t/f%02d", i))
	}
	for i := range 12 {
		paths = append(paths, fmt.Sprintf("/home/admin/t/a/g%03d", i), fmt.Sprintf("/home/admin/t/b/c/h%03d", i))
	}
	for _, path := range paths {
		e.put(e.admin, path, []byte(path))
	}
	e.put(e.admin, "/home/admin/outside", []byte("not in the folder"))
	const stopAt = 20
	cs.onArchive = func(ctx context.Context, n int64) error {
		if n != stopAt {
			return nil
		}
		// The server stops (a graceful stop: Drain ends the job's
		// context) while this file is being archived.
		go e.b.Drain(context.Background())
		<-ctx.Done()
		return ctx.Err()
	}
	job, err := e.b.ArchiveTree(ctx, e.admin, p("/home/admin/t"), backend.ArchiveOptions{Class: blob.ClassDeepArchive}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if job.State != backend.JobRunning || job.Done < treePageForTest || job.Done >= stopAt {
		t.Fatalf("job after the stop: %+v, want still running with some files done", job)
	}
	cs.onArchive = nil
	// The next server (a restart) takes it over and finishes it.
	b2, err := backend.New(backend.Config{Blobs: cs, Meta: e.meta, Keys: e.keys, Now: e.clock.Now, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.PollRestores(ctx); err != nil {
		t.Fatal(err)
	}
	job, err = b2.WaitJob(ctx, e.admin, "", job.ID)
	if err != nil || job.State != backend.JobDone || job.Done != int64(len(paths)) {
		t.Fatalf("resumed job = %+v, %v; want done with %d files", job, err, len(paths))
	}
	for _, path := range paths {
		ent, err := b2.Stat(ctx, e.admin, p(path))
		if err != nil || ent.State != backend.StateArchived || ent.Archive.Class != "deep-archive" {
			t.Fatalf("%s after the job: %q %+v %v", path, ent.State, ent.Archive, err)
		}
	}
	if ent, _ := b2.Stat(ctx, e.admin, p("/home/admin/outside")); ent.State != backend.StateHot {
		t.Errorf("file outside the folder: %q", ent.State)
	}
	// Files are done again at most from the last saved page on.
	if n := cs.archives.Load(); n > int64(len(paths))+treePageForTest {
		t.Errorf("%d archive requests for %d files", n, len(paths))
	}
}

// treePageForTest is the page of folder jobs in tests (the job saves its
// place once per page).
const treePageForTest = 5

// TestRestoreTree: a folder restore asks for every archived file's restore
// (hot files are left alone) and the poller brings them all back.
func TestRestoreTree(t *testing.T) {
	defer backend.SetTreePage(treePageForTest)()
	e, cs := archiveEnv(t, nil)
	ctx := context.Background()
	for i := range 8 {
		e.put(e.admin, fmt.Sprintf("/home/admin/r/sub/f%d", i), []byte("x"))
	}
	e.put(e.admin, "/home/admin/r/hot", []byte("hot"))
	job, err := e.b.ArchiveTree(ctx, e.admin, p("/home/admin/r/sub"), backend.ArchiveOptions{Class: blob.ClassGlacier}, time.Minute)
	if err != nil || job.State != backend.JobDone {
		t.Fatalf("ArchiveTree = %+v, %v", job, err)
	}
	job, err = e.b.RestoreTree(ctx, e.admin, p("/home/admin/r"), backend.RestoreOptions{Tier: blob.TierBulk, Days: 3}, time.Minute)
	if err != nil || job.State != backend.JobDone || job.Done != 9 {
		t.Fatalf("RestoreTree = %+v, %v", job, err)
	}
	if got := e.listed("/home/admin/r/sub"); got["f0"] != backend.StateRestoring {
		t.Errorf("after RestoreTree: %v", got)
	}
	e.poll()
	for name, st := range e.listed("/home/admin/r/sub") {
		if st != backend.StateRestored {
			t.Errorf("%s: %s after the poll", name, st)
		}
	}
	if n := cs.restores.Load(); n != 8 {
		t.Errorf("%d restore requests for 8 archived files", n)
	}
	_, err = e.b.ArchiveTree(ctx, e.admin, p("/home/admin/r/hot"), backend.ArchiveOptions{Class: blob.ClassGlacier}, time.Minute)
	wantErr(t, err, errs.ErrNotDir)
}

// TestArchiveRules: a rule archives the files of its folder not modified
// for its days, a bounded number of entries per run, and leaves the others
// (and other folders) hot.
func TestArchiveRules(t *testing.T) {
	defer backend.SetTreePage(treePageForTest)()
	old := backend.SweepBudget
	backend.SweepBudget = 8
	defer func() { backend.SweepBudget = old }()
	e, _ := archiveEnv(t, nil)
	ctx := context.Background()
	for i := range 12 {
		e.put(e.admin, fmt.Sprintf("/home/admin/projects/sub/old%02d", i), []byte("old"))
	}
	e.put(e.admin, "/home/admin/other/old", []byte("old"))
	e.clock.Add(100 * 24 * time.Hour)
	e.put(e.admin, "/home/admin/projects/new", []byte("new"))
	_, err := e.b.SetArchiveRule(ctx, e.admin, p("/home/admin/projects/new"), 90, blob.ClassDeepArchive)
	wantErr(t, err, errs.ErrNotDir)
	_, err = e.b.SetArchiveRule(ctx, e.admin, p("/home/admin/projects"), 0, blob.ClassDeepArchive)
	wantErr(t, err, errs.ErrInvalid)
	if _, err := e.b.SetArchiveRule(ctx, e.admin, p("/home/admin/projects"), 90, blob.ClassDeepArchive); err != nil {
		t.Fatal(err)
	}
	if err := e.b.SweepArchiveRules(ctx); err != nil {
		t.Fatal(err)
	}
	rules, err := e.b.ArchiveRules(ctx, e.admin, p("/"))
	if err != nil || len(rules) != 1 || !rules[0].Sweeping || rules[0].Archived == 0 || rules[0].Archived >= 12 {
		t.Fatalf("after one bounded run: %+v, %v", rules, err)
	}
	for range 5 {
		if err := e.b.SweepArchiveRules(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rules, _ = e.b.ArchiveRules(ctx, e.admin, p("/home/admin"))
	if len(rules) != 1 || rules[0].Sweeping || rules[0].Archived != 12 || rules[0].LastSweep.IsZero() {
		t.Fatalf("after the sweep: %+v", rules)
	}
	for name, st := range e.listed("/home/admin/projects/sub") {
		if st != backend.StateArchived {
			t.Errorf("%s: %s", name, st)
		}
	}
	if got := e.listed("/home/admin/projects"); got["new"] != backend.StateHot {
		t.Errorf("the new file: %v", got)
	}
	if got := e.listed("/home/admin/other"); got["old"] != backend.StateHot {
		t.Errorf("a file outside the rule's folder: %v", got)
	}
	if err := e.b.DeleteArchiveRule(ctx, e.admin, p("/home/admin/projects")); err != nil {
		t.Fatal(err)
	}
	if rules, _ := e.b.ArchiveRules(ctx, e.admin, p("/")); len(rules) != 0 {
		t.Errorf("rules after delete: %+v", rules)
	}
}

// TestRestoreExtends: restoring a restored file extends its copy at once
// (no tier wait), also when the old copy would have expired first.
func TestRestoreExtends(t *testing.T) {
	e, _ := archiveEnv(t, map[blob.RestoreTier]time.Duration{blob.TierStandard: 3 * time.Hour})
	e.put(e.admin, "/home/admin/x", []byte("x"))
	e.archive("/home/admin/x", blob.ClassGlacier)
	e.restore("/home/admin/x", blob.TierStandard, 1)
	e.poll()
	e.clock.Add(3 * time.Hour)
	e.poll()
	e.wantState("/home/admin/x", backend.StateRestored)
	e.clock.Add(20 * time.Hour)
	if r := e.restore("/home/admin/x", blob.TierStandard, 5); !r.Started || r.Entry.State != backend.StateRestored {
		t.Fatalf("extension: %+v", r)
	}
	e.poll()
	ent := e.wantState("/home/admin/x", backend.StateRestored)
	if want := e.clock.Now().Add(5 * 24 * time.Hour); !ent.Archive.Until.Equal(want) {
		t.Errorf("extended until %v, want %v", ent.Archive.Until, want)
	}
	e.clock.Add(4 * 24 * time.Hour)
	e.poll()
	e.wantState("/home/admin/x", backend.StateRestored)
}
