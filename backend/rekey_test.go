package backend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
)

func exclusive() option { return func(c *backend.Config) { c.Exclusive = true } }

// noKeyCache makes every read unwrap its data key, so that a test reads
// through the wrappings as stored.
func noKeyCache() option { return func(c *backend.Config) { c.KeyCacheTTL = -1 } }

func wrapMeta(f func(meta.Store) meta.Store) option {
	return func(c *backend.Config) { c.Meta = f(c.Meta) }
}

func wrapKeys(f func(keys.Service) keys.Service) option {
	return func(c *backend.Config) { c.Keys = f(c.Keys) }
}

// countingKeys counts Rewrap calls per blob and passes the key service's
// capabilities through.
type countingKeys struct {
	keys.Service
	mu      sync.Mutex
	rewraps map[string]int
}

func newCountingKeys(s keys.Service) *countingKeys {
	return &countingKeys{Service: s, rewraps: map[string]int{}}
}

func (c *countingKeys) Rewrap(ctx context.Context, w []byte, ec keys.Context) ([]byte, string, error) {
	c.mu.Lock()
	c.rewraps[ec["blob"]]++
	c.mu.Unlock()
	return c.Service.Rewrap(ctx, w, ec)
}

func (c *countingKeys) KeyIDs(ctx context.Context) (string, []string, error) {
	return c.Service.(keys.Versions).KeyIDs(ctx)
}

func (c *countingKeys) Rotate(ctx context.Context) (string, error) {
	return c.Service.(keys.Rotator).Rotate(ctx)
}

func (c *countingKeys) Retire(ctx context.Context, id string) error {
	return c.Service.(keys.Retirer).Retire(ctx, id)
}

func (c *countingKeys) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.rewraps)
}

// versionsOnly is a key service that names its keys but makes and forgets
// none, as KMS.
type versionsOnly struct {
	keys.Service
	v keys.Versions
}

func (s versionsOnly) KeyIDs(ctx context.Context) (string, []string, error) { return s.v.KeyIDs(ctx) }

// rekeySave is what a test sees of a rotation job's record.
type rekeySave struct {
	Pass   int    `json:"pa"`
	Phase  string `json:"ph"`
	Prefix int    `json:"px"`
}

var errKilled = errors.New("injected: the server died")

// jobMeta shows a test each step of a rotation job as it is recorded, and
// lets it hold the job there or kill the server (every later write fails).
type jobMeta struct {
	meta.Store
	mu    sync.Mutex
	last  rekeySave
	saves int
	dead  bool
	// onSave, if set, hears every step once it is recorded (n counts
	// them from 1); it may block; an error is what the writer then hears.
	onSave func(n int, s rekeySave) error
	// onPut, if set, runs before any other Put.
	onPut func(it meta.Item) error
}

func (m *jobMeta) kill() {
	m.mu.Lock()
	m.dead = true
	m.mu.Unlock()
}

func (m *jobMeta) isDead() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dead
}

func (m *jobMeta) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	if m.isDead() {
		return 0, errKilled
	}
	if it.PK != "jobs" && m.onPut != nil {
		if err := m.onPut(it); err != nil {
			return 0, err
		}
	}
	v, err := m.Store.Put(ctx, it, c)
	if err != nil || it.PK != "jobs" {
		return v, err
	}
	var rec struct {
		Rekey *rekeySave `json:"rekey"`
	}
	if err := json.Unmarshal(it.Value, &rec); err != nil || rec.Rekey == nil {
		return v, nil
	}
	m.mu.Lock()
	step := *rec.Rekey != m.last
	m.last = *rec.Rekey
	if step {
		m.saves++
	}
	n, hook := m.saves, m.onSave
	m.mu.Unlock()
	if step && hook != nil {
		if err := hook(n, *rec.Rekey); err != nil {
			return 0, err // written, but the writer hears otherwise
		}
	}
	return v, nil
}

func (m *jobMeta) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	if m.isDead() {
		return errKilled
	}
	return m.Store.Delete(ctx, pk, sk, c)
}

func (m *jobMeta) Add(ctx context.Context, pk, sk string, d int64) (int64, error) {
	if m.isDead() {
		return 0, errKilled
	}
	return m.Store.Add(ctx, pk, sk, d)
}

func (m *jobMeta) Transact(ctx context.Context, ops []meta.Op) error {
	if m.isDead() {
		return errKilled
	}
	return m.Store.Transact(ctx, ops)
}

// wrappings is the master key ID of every stored data key: blob records by
// blob ID, upload sessions as "upload:<id>", the canary as "canary".
func wrappings(t *testing.T, bs blob.Store, ms meta.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	kid := func(it meta.Item) string {
		var r struct {
			KeyID string `json:"kid"`
		}
		if err := json.Unmarshal(it.Value, &r); err != nil || r.KeyID == "" {
			t.Fatalf("(%s, %s): no key ID in %s", it.PK, it.SK, it.Value)
		}
		return r.KeyID
	}
	err := bs.List(ctx, "", func(info blob.Info) error {
		it, err := ms.Get(ctx, "blob#"+info.Key, "blob")
		if errors.Is(err, meta.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out[info.Key] = kid(it)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The blobs kept in their records (Config.InlineMax).
	for _, id := range inlineIDs(t, ms) {
		it, err := ms.Get(ctx, "blob#"+id, "blob")
		if err != nil {
			t.Fatalf("inline blob %s: %v", id, err)
		}
		out[id] = kid(it)
	}
	after := ""
	for {
		pg, err := ms.Query(ctx, "uploads", meta.QueryOpts{After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			s, err := ms.Get(ctx, "upload#"+it.SK, "session")
			if err != nil {
				t.Fatal(err)
			}
			out["upload:"+it.SK] = kid(s)
		}
		if pg.Next == "" {
			break
		}
		after = pg.Next
	}
	if it, err := ms.Get(ctx, "config", "canary"); err == nil {
		out["canary"] = kid(it)
	} else if !errors.Is(err, meta.ErrNotFound) {
		t.Fatal(err)
	}
	return out
}

// onlyKey fails unless every data key in w is wrapped under want.
func onlyKey(t *testing.T, w map[string]string, want string) {
	t.Helper()
	for rec, id := range w {
		if id != want {
			t.Errorf("%s is wrapped under %s, want %s", rec, id, want)
		}
	}
}

// wantKeyFile fails unless the key file in dir holds exactly the master
// key versions want.
func wantKeyFile(t *testing.T, dir string, want ...uint32) {
	t.Helper()
	if got := keyFileVersions(t, filepath.Join(dir, "keyring.json")); !slices.Equal(got, want) {
		t.Errorf("key file versions: %v, want %v", got, want)
	}
}

// keyFileVersions lists the master key versions in a key file.
func keyFileVersions(t *testing.T, path string) []uint32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys []struct {
			Version uint32 `json:"version"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var out []uint32
	for _, k := range f.Keys {
		out = append(out, k.Version)
	}
	return out
}

// putMany writes n files at once, several at a time (the embedded metadata
// store then shares its syncs), and returns their contents by path.
func (e *env) putMany(n int, path func(i int) string, content func(i int) []byte) map[string][]byte {
	e.t.Helper()
	out := make(map[string][]byte, n)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errc = make(chan error, 1)
		next = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				path, b := path(i), content(i)
				_, err := e.b.Put(context.Background(), e.admin, p(path), bytes.NewReader(b), backend.PutOptions{Size: int64(len(b))})
				if err != nil {
					select {
					case errc <- fmt.Errorf("put %s: %w", path, err):
					default:
					}
					continue
				}
				mu.Lock()
				out[path] = b
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errc:
		e.t.Fatal(err)
	default:
	}
	return out
}

// openEngines opens the embedded engines in a new directory.
func openEngines(t *testing.T) (*embedded.Engines, string) {
	t.Helper()
	dir := t.TempDir()
	eng, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng, dir
}

func (e *env) rotate() backend.Job {
	e.t.Helper()
	job, err := e.b.RotateKeys(context.Background(), e.admin)
	if err != nil {
		e.t.Fatalf("RotateKeys: %v", err)
	}
	return e.waitJob(job.ID)
}

func (e *env) waitJob(id string) backend.Job {
	e.t.Helper()
	job, err := e.b.WaitJob(context.Background(), e.admin, "", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return job
}

func (e *env) keyStatus() backend.KeyStatus {
	e.t.Helper()
	st, err := e.b.KeyStatus(context.Background(), e.admin)
	if err != nil {
		e.t.Fatalf("KeyStatus: %v", err)
	}
	return st
}

// A rotation on the embedded engines: every data key (blob records, an
// upload session, the canary) moves onto the new master key version, once
// each, and the old version leaves the key file; everything reads back
// through the new wrappings, and the session completes after it.
func TestRotateKeys(t *testing.T) { testRotateKeys(t) }

// The same with the small files kept in their records, which are not in
// the blob store's listing that a rotation walks.
func TestRotateKeysInline(t *testing.T) { testRotateKeys(t, inline(backend.DefaultInlineMax)) }

func testRotateKeys(t *testing.T, opts ...option) {
	var ck *countingKeys
	e := newEnv(t, append([]option{exclusive(), noKeyCache(), partSize(64 << 10),
		wrapKeys(func(s keys.Service) keys.Service { ck = newCountingKeys(s); return ck })}, opts...)...)
	ctx := context.Background()
	if err := e.b.CheckKeys(ctx); err != nil {
		t.Fatal(err)
	}
	files := e.putMany(200, func(i int) string { return fmt.Sprintf("/data/d%d/f%03d", i%5, i) },
		func(i int) []byte { return data(100+i*7, uint64(i)) })
	files["/data/d0/f000"] = []byte("second version")
	e.put(e.admin, "/data/d0/f000", files["/data/d0/f000"])
	if _, _, err := e.b.Copy(ctx, e.admin, p("/data/d1/f001"), p("/data/copy"), time.Minute); err != nil {
		t.Fatal(err)
	}
	files["/data/copy"] = files["/data/d1/f001"]
	// An upload session open across the rotation: its part is sent (sealed
	// with the data key unwrapped from the session as rewrapped) and the
	// session completed after it.
	big := data(1000, 99)
	up, err := e.b.CreateUpload(ctx, e.admin, p("/data/big"), backend.UploadOptions{Size: int64(len(big))})
	if err != nil {
		t.Fatal(err)
	}
	before := wrappings(t, e.blobs, e.meta)
	onlyKey(t, before, "keyring:v1")
	if len(before) != 201+1+1 {
		t.Fatalf("%d wrapped data keys before, want 203", len(before))
	}
	if st := e.keyStatus(); st.Rotation != nil || !st.ScannedAt.IsZero() || st.Current != "keyring:v1" || !st.MakesKeys || !st.RetiresKeys {
		t.Errorf("status before any rotation: %+v", st)
	}

	job := e.rotate()
	if job.State != backend.JobDone || job.Kind != "rekey" {
		t.Fatalf("job: %+v", job)
	}
	after := wrappings(t, e.blobs, e.meta)
	onlyKey(t, after, "keyring:v2")
	if len(after) != len(before) {
		t.Errorf("%d wrapped data keys after, %d before", len(after), len(before))
	}
	counts := ck.counts()
	for id := range before {
		if strings.HasPrefix(id, "upload:") || id == "canary" {
			continue
		}
		if counts[id] != 1 {
			t.Errorf("blob %s rewrapped %d times, want once", id, counts[id])
		}
	}
	wantKeyFile(t, e.dir, 2)
	for path, want := range files {
		if got := e.mustRead(e.admin, path); !bytes.Equal(got, want) {
			t.Errorf("%s reads back different", path)
		}
	}
	if _, err := e.b.PutPart(ctx, e.admin, "", up.ID, 1, bytes.NewReader(big), int64(len(big)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", up.ID, sum(big)); err != nil {
		t.Fatalf("Complete of a session rewrapped meanwhile: %v", err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/data/big"), big) {
		t.Error("/data/big reads back different")
	}

	st := e.keyStatus()
	rot := st.Rotation
	if st.Current != "keyring:v2" || len(st.Keys) != 1 || st.Keys[0].ID != "keyring:v2" || st.Keys[0].DataKeys != 203 || st.ScannedAt.IsZero() {
		t.Errorf("status: %+v", st)
	}
	if rot == nil || rot.Running || rot.State != backend.JobDone || rot.Pass != 1 || rot.Scanned != 203 || rot.Rewrapped != 203 ||
		!slices.Equal(rot.Retired, []string{"keyring:v1"}) || rot.Target != "keyring:v2" {
		t.Errorf("rotation: %+v", rot)
	}

	// And again: the next version, the previous one retired.
	e.rotate()
	onlyKey(t, wrappings(t, e.blobs, e.meta), "keyring:v3")
	wantKeyFile(t, e.dir, 3)
	if !bytes.Equal(e.mustRead(e.admin, "/data/big"), big) {
		t.Error("/data/big reads back different after the second rotation")
	}
}

func TestRotateKeysIsForAdmins(t *testing.T) {
	e := newEnv(t, exclusive())
	alice := e.user("alice")
	if _, err := e.b.RotateKeys(context.Background(), alice); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("RotateKeys by a user: err = %v, want forbidden", err)
	}
	if _, err := e.b.KeyStatus(context.Background(), alice); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("KeyStatus by a user: err = %v, want forbidden", err)
	}
	wantKeyFile(t, e.dir, 1)
}

// A key file shared by servers that share the metadata cannot be rotated:
// the others would not know the new key.
func TestRotateKeyFileNeedsExclusiveStore(t *testing.T) {
	e := newEnv(t)
	if _, err := e.b.RotateKeys(context.Background(), e.admin); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("RotateKeys on a shared store: err = %v, want invalid", err)
	}
	wantKeyFile(t, e.dir, 1)
}

// A server killed halfway through a rotation: a new backend on the same
// engines resumes the job from the page it had reached, rewraps nothing
// twice, misses nothing, and retires the old version.
func TestRotateResumesAfterKill(t *testing.T) {
	eng, dir := openEngines(t)
	ck := newCountingKeys(eng.Keys)
	jm := &jobMeta{Store: eng.Meta}
	cfg := backend.Config{Blobs: eng.Blobs, Meta: jm, Keys: ck, Exclusive: true, KeyCacheTTL: -1}
	b1, _, admin := wire(t, cfg)
	e := &env{t: t, b: b1, blobs: eng.Blobs, meta: eng.Meta, admin: admin, dir: dir}
	ctx := context.Background()
	files := e.putMany(400, func(i int) string { return fmt.Sprintf("/data/f%03d", i) },
		func(i int) []byte { return data(50+i, uint64(i)) })
	blobs := wrappings(t, eng.Blobs, eng.Meta)

	const killAt = 3 // in steps of the job: pages, about 100 blobs each
	var lastSaved rekeySave
	jm.onSave = func(n int, s rekeySave) error {
		lastSaved = s
		if n == killAt {
			jm.kill()
			return errKilled
		}
		return nil
	}
	job, err := b1.RotateKeys(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if job = e.waitJob(job.ID); job.State != backend.JobRunning {
		t.Fatalf("the killed job is %s", job.State)
	}
	if err := b1.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	half := wrappings(t, eng.Blobs, eng.Meta)
	moved := 0
	for _, id := range half {
		if id == "keyring:v2" {
			moved++
		}
	}
	if moved == 0 || moved == len(half) {
		t.Fatalf("%d of %d data keys moved when the server died; want some", moved, len(half))
	}

	// The restart: a new backend (a new instance) on the same engines.
	jm2 := &jobMeta{Store: eng.Meta}
	var steps []rekeySave
	jm2.onSave = func(n int, s rekeySave) error {
		steps = append(steps, s)
		return nil
	}
	cfg.Meta = jm2
	b2, err := backend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The collector leaves it to be resumed: it is not rolled back like an
	// abandoned folder copy.
	if st, err := b2.Collect(ctx, 0); err != nil || st.AbandonedJobs != 0 {
		t.Fatalf("Collect: %+v, %v", st, err)
	}
	if err := b2.ResumeKeyRotation(ctx); err != nil {
		t.Fatalf("ResumeKeyRotation: %v", err)
	}
	// It went on from the page recorded last (its claim records that page
	// again; the next step is the page after it).
	if lastSaved.Prefix < 100 || lastSaved.Prefix > 1000 || len(steps) < 2 || steps[0] != lastSaved ||
		steps[1].Pass != 1 || steps[1].Phase != backend.RekeyBlobs || steps[1].Prefix <= lastSaved.Prefix {
		t.Errorf("the killed job had recorded %+v; the resumed one went %+v", lastSaved, steps[:min(len(steps), 3)])
	}
	onlyKey(t, wrappings(t, eng.Blobs, eng.Meta), "keyring:v2")
	counts := ck.counts()
	for id := range blobs {
		if counts[id] != 1 {
			t.Errorf("blob %s rewrapped %d times, want once", id, counts[id])
		}
	}
	wantKeyFile(t, dir, 2)
	e.b = b2
	for path, want := range files {
		if got := e.mustRead(admin, path); !bytes.Equal(got, want) {
			t.Errorf("%s reads back different", path)
		}
	}
	st := e.keyStatus()
	if st.Rotation == nil || st.Rotation.State != backend.JobDone || st.Rotation.LastError != "" || !slices.Equal(st.Rotation.Retired, []string{"keyring:v1"}) {
		t.Errorf("rotation after the resume: %+v", st.Rotation)
	}
	// The pass that began in the dead process could not tell whether its
	// writes in flight landed behind it: a second pass, from this process,
	// decided the retirement.
	if st.Rotation.Pass != 2 {
		t.Errorf("passes: %d, want 2", st.Rotation.Pass)
	}
}

// blockingBlobs holds the next Put once armed, until released: a write in
// flight that already holds its data key.
type blockingBlobs struct {
	blob.Store
	mu      sync.Mutex
	armed   bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingBlobs) arm() {
	b.mu.Lock()
	b.armed, b.entered, b.release = true, make(chan struct{}), make(chan struct{})
	b.mu.Unlock()
}

func (b *blockingBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	b.mu.Lock()
	armed := b.armed
	b.armed = false
	b.mu.Unlock()
	if armed {
		close(b.entered)
		<-b.release
	}
	return b.Store.Put(ctx, key, r, size)
}

// The race a rotation must not lose: a write that made its data key under
// the old version before the rotation commits its blob record after the
// scan went past it. The old version stays until that write ends; then a
// second pass moves its key and the version is retired.
func TestRotateWaitsForWritesInFlight(t *testing.T) {
	bb := &blockingBlobs{}
	jm := &jobMeta{}
	e := newEnv(t, exclusive(), noKeyCache(),
		wrapBlobs(func(s blob.Store) blob.Store { bb.Store = s; return bb }),
		wrapMeta(func(s meta.Store) meta.Store { jm.Store = s; return jm }))
	ctx := context.Background()
	e.putMany(50, func(i int) string { return fmt.Sprintf("/data/f%02d", i) }, func(i int) []byte { return []byte(fmt.Sprint("file ", i)) })
	bb.arm()
	content := data(5000, 7)
	done := make(chan error, 1)
	go func() {
		_, err := e.b.Put(ctx, e.admin, p("/data/in-flight"), bytes.NewReader(content), backend.PutOptions{Size: int64(len(content))})
		done <- err
	}()
	<-bb.entered // it holds a data key wrapped under v1 now

	waiting := make(chan struct{})
	jm.onSave = func(n int, s rekeySave) error {
		if s.Phase == backend.RekeyWaiting {
			close(waiting)
		}
		return nil
	}
	job, err := e.b.RotateKeys(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	ended := make(chan backend.Job, 1)
	go func() { j, _ := e.b.WaitJob(ctx, e.admin, "", job.ID); ended <- j }()
	select {
	case <-waiting:
	case j := <-ended:
		// Let the write commit, to show what was lost.
		close(bb.release)
		<-done
		_, rerr := e.read(e.admin, "/data/in-flight", backend.OpenOptions{})
		t.Fatalf("the rotation ended (%s, retired %v) while a write held the old key; reading that write now: %v",
			j.State, e.keyStatus().Rotation.Retired, rerr)
	}
	wantKeyFile(t, e.dir, 1, 2)
	st := e.keyStatus()
	if st.Rotation == nil || !slices.Equal(st.Rotation.Waiting, []string{"keyring:v1"}) || len(st.Keys) != 2 || st.Keys[0].InFlight != 1 {
		t.Errorf("status while waiting: %+v, rotation %+v", st, st.Rotation)
	}

	close(bb.release)
	if err := <-done; err != nil {
		t.Fatalf("the write in flight: %v", err)
	}
	job = e.waitJob(job.ID)
	if job.State != backend.JobDone {
		t.Fatalf("job: %+v", job)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/data/in-flight"), content) {
		t.Error("the write in flight reads back different")
	}
	onlyKey(t, wrappings(t, e.blobs, e.meta), "keyring:v2")
	wantKeyFile(t, e.dir, 2)
	if st := e.keyStatus(); st.Rotation.Pass != 2 || !slices.Equal(st.Rotation.Retired, []string{"keyring:v1"}) {
		t.Errorf("rotation: %+v", st.Rotation)
	}
}

// A Complete that read its session before the rotation rewrapped it loses
// its claim on the version, reads the session again and completes: a
// rotation fails no upload.
func TestCompleteWhileRotating(t *testing.T) {
	jm := &jobMeta{}
	e := newEnv(t, exclusive(), noKeyCache(), wrapMeta(func(s meta.Store) meta.Store { jm.Store = s; return jm }))
	ctx := context.Background()
	content := data(1000, 3)
	up, err := e.b.CreateUpload(ctx, e.admin, p("/data/up"), backend.UploadOptions{Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.PutPart(ctx, e.admin, "", up.ID, 1, bytes.NewReader(content), int64(len(content)), nil); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	jm.onSave = func(n int, s rekeySave) error {
		if s.Phase == backend.RekeyWaiting {
			close(waiting)
		}
		return nil
	}
	var once sync.Once
	var job backend.Job
	jm.onPut = func(it meta.Item) error {
		if it.PK != "upload#"+up.ID || it.SK != "session" {
			return nil
		}
		var err error
		once.Do(func() {
			// The claim of the Complete, which read the session (under v1)
			// already: the rotation rewraps the session first, then waits
			// for the Complete, which holds v1.
			job, err = e.b.RotateKeys(ctx, e.admin)
			<-waiting
		})
		return err
	}
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", up.ID, sum(content)); err != nil {
		t.Fatalf("Complete during a rotation: %v", err)
	}
	if job.ID == "" {
		t.Fatal("the rotation did not start")
	}
	if job = e.waitJob(job.ID); job.State != backend.JobDone {
		t.Fatalf("job: %+v", job)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/data/up"), content) {
		t.Error("the completed upload reads back different")
	}
	onlyKey(t, wrappings(t, e.blobs, e.meta), "keyring:v2")
	wantKeyFile(t, e.dir, 2)
}

// Reads and writes go on while a rotation runs: every one succeeds, and
// everything written before, during and after reads back.
func TestReadsAndWritesDuringRotation(t *testing.T) {
	jm := &jobMeta{}
	e := newEnv(t, exclusive(), noKeyCache(), wrapMeta(func(s meta.Store) meta.Store { jm.Store = s; return jm }))
	ctx := context.Background()
	var mu sync.Mutex
	files := map[string][]byte{}
	put := func(path string, content []byte) error {
		_, err := e.b.Put(ctx, e.admin, p(path), bytes.NewReader(content), backend.PutOptions{Size: int64(len(content))})
		if err == nil {
			mu.Lock()
			files[path] = content
			mu.Unlock()
		}
		return err
	}
	files = e.putMany(200, func(i int) string { return fmt.Sprintf("/data/f%03d", i) }, func(i int) []byte { return data(10+i, uint64(i)) })

	held, release := make(chan struct{}), make(chan struct{})
	jm.onSave = func(n int, s rekeySave) error {
		if n == 2 {
			close(held)
			<-release
		}
		return nil
	}
	job, err := e.b.RotateKeys(ctx, e.admin)
	if err != nil {
		t.Fatal(err)
	}
	<-held
	// Halfway through the first pass: every kind of operation.
	for i := range 200 {
		path := fmt.Sprintf("/data/f%03d", i)
		if _, err := e.read(e.admin, path, backend.OpenOptions{}); err != nil {
			t.Fatalf("read %s during the rotation: %v", path, err)
		}
	}
	for i := range 20 {
		if err := put(fmt.Sprintf("/data/f%03d", i*9), []byte(fmt.Sprint("new version ", i))); err != nil {
			t.Fatal(err)
		}
		if err := put(fmt.Sprintf("/data/new%02d", i), data(30, uint64(1000+i))); err != nil {
			t.Fatal(err)
		}
	}
	big := data(1000, 5)
	up, err := e.b.CreateUpload(ctx, e.admin, p("/data/big"), backend.UploadOptions{Size: int64(len(big))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.PutPart(ctx, e.admin, "", up.ID, 1, bytes.NewReader(big), int64(len(big)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", up.ID, sum(big)); err != nil {
		t.Fatal(err)
	}
	files["/data/big"] = big
	if _, _, err := e.b.Copy(ctx, e.admin, p("/data/f001"), p("/data/copy"), time.Minute); err != nil {
		t.Fatal(err)
	}
	files["/data/copy"] = files["/data/f001"]

	// Then readers and writers alongside the rest of the job.
	stop := make(chan struct{})
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := put(fmt.Sprintf("/data/w%d-%03d", w, i%50), data(20, uint64(w*1000+i))); err != nil {
					errc <- fmt.Errorf("write during the rotation: %w", err)
					return
				}
				path := fmt.Sprintf("/data/f%03d", (i*7+w)%200)
				if _, err := e.read(e.admin, path, backend.OpenOptions{}); err != nil {
					errc <- fmt.Errorf("read %s during the rotation: %w", path, err)
					return
				}
			}
		})
	}
	close(release)
	job = e.waitJob(job.ID)
	close(stop)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if job.State != backend.JobDone {
		t.Fatalf("job: %+v", job)
	}
	for path, want := range files {
		if got := e.mustRead(e.admin, path); !bytes.Equal(got, want) {
			t.Errorf("%s reads back different", path)
		}
	}
	onlyKey(t, wrappings(t, e.blobs, e.meta), "keyring:v2")
	wantKeyFile(t, e.dir, 2)
}

// Two servers on one store: the rotation runs on the one that claimed it;
// the other neither runs it meanwhile nor starts another, and takes it over
// once the first one's lease lapses.
func TestRotationLeaseTwoServers(t *testing.T) {
	eng, dir := openEngines(t)
	ctx := context.Background()
	// Like KMS: the key to move to exists already (the alias repointed),
	// and no server makes or retires keys.
	ck1, ck2 := newCountingKeys(eng.Keys), newCountingKeys(eng.Keys)
	ks1, ks2 := versionsOnly{ck1, eng.Keys}, versionsOnly{ck2, eng.Keys}
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	jm := &jobMeta{Store: eng.Meta}
	b1, _, admin := wire(t, backend.Config{Blobs: eng.Blobs, Meta: jm, Keys: ks1, Now: clk.Now})
	b2, err := backend.New(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: ks2, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, b: b1, blobs: eng.Blobs, meta: eng.Meta, admin: admin, dir: dir}
	e.putMany(300, func(i int) string { return fmt.Sprintf("/data/f%03d", i) }, func(i int) []byte { return []byte(fmt.Sprint("file ", i)) })
	blobs := wrappings(t, eng.Blobs, eng.Meta)
	if _, err := eng.Keys.Rotate(ctx); err != nil {
		t.Fatal(err)
	}

	held, release := make(chan struct{}), make(chan struct{})
	jm.onSave = func(n int, s rekeySave) error {
		if n == 2 {
			close(held)
			<-release
			jm.kill() // and then the first server dies
			return errKilled
		}
		return nil
	}
	job, err := b1.RotateKeys(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	<-held
	if err := b2.ResumeKeyRotation(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b2.RotateKeys(ctx, admin); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("a second rotation while one runs: err = %v, want conflict", err)
	}
	if n := len(ck2.counts()); n != 0 {
		t.Fatalf("the second server rewrapped %d data keys while the first one ran the job", n)
	}
	close(release)
	e.waitJob(job.ID)
	// Dead, but its lease holds for a while yet.
	if err := b2.ResumeKeyRotation(ctx); err != nil || len(ck2.counts()) != 0 {
		t.Fatalf("resumed before the lease lapsed: err %v, %d rewraps", err, len(ck2.counts()))
	}
	clk.Add(3 * time.Minute)
	if err := b2.ResumeKeyRotation(ctx); err != nil {
		t.Fatal(err)
	}
	onlyKey(t, wrappings(t, eng.Blobs, eng.Meta), "keyring:v2")
	c1, c2 := ck1.counts(), ck2.counts()
	for id := range blobs {
		if c1[id]+c2[id] != 1 {
			t.Errorf("blob %s rewrapped %d+%d times, want once", id, c1[id], c2[id])
		}
	}
	if len(c1) == 0 || len(c2) == 0 {
		t.Errorf("rewraps: %d by the first server, %d by the second; want both", len(c1), len(c2))
	}
	e.b = b2
	st := e.keyStatus()
	if st.RetiresKeys || st.MakesKeys || st.Rotation.State != backend.JobDone || st.Rotation.Pass != 1 {
		t.Errorf("status: %+v, rotation %+v", st, st.Rotation)
	}
	// Nothing is retired by the server: the operator sees v1 unused.
	want := []backend.KeyUse{{ID: "keyring:v1", Known: true}, {ID: "keyring:v2", Current: true, Known: true, DataKeys: int64(len(blobs))}}
	if !slices.Equal(st.Keys, want) {
		t.Errorf("keys: %+v, want %+v", st.Keys, want)
	}
	wantKeyFile(t, dir, 1, 2)
}

// A record that cannot be read (or unwrapped) does not stop a rotation:
// it is counted as failed and left as it is, and everything else moves.
func TestRotateGoesOnPastBrokenRecords(t *testing.T) {
	e := newEnv(t, exclusive(), noKeyCache())
	ctx := context.Background()
	files := e.putMany(20, func(i int) string { return fmt.Sprintf("/data/f%02d", i) }, func(i int) []byte { return []byte(fmt.Sprint("file ", i)) })
	ws := wrappings(t, e.blobs, e.meta)
	var broken []string
	for id := range ws {
		if len(broken) < 2 {
			broken = append(broken, id)
		}
	}
	// One record is not JSON any more; another keeps a wrapping that was
	// tampered with.
	it, err := e.meta.Get(ctx, "blob#"+broken[0], "blob")
	if err != nil {
		t.Fatal(err)
	}
	it.Value = []byte("{not json")
	if _, err := e.meta.Put(ctx, it, meta.AtVersion(it.Version)); err != nil {
		t.Fatal(err)
	}
	it, err = e.meta.Get(ctx, "blob#"+broken[1], "blob")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(it.Value, &rec); err != nil {
		t.Fatal(err)
	}
	rec["wk"] = bytes.Repeat([]byte{1}, 61)
	it.Value, _ = json.Marshal(rec)
	if _, err := e.meta.Put(ctx, it, meta.AtVersion(it.Version)); err != nil {
		t.Fatal(err)
	}

	if job := e.rotate(); job.State != backend.JobDone {
		t.Fatalf("job: %+v", job)
	}
	st := e.keyStatus()
	if st.Failed != 2 || st.Rotation.Failed != 2 || st.Rotation.Rewrapped != 18 {
		t.Errorf("status: failed %d, rotation %+v", st.Failed, st.Rotation)
	}
	// The tampered wrapping still names v1, which therefore stays.
	wantKeyFile(t, e.dir, 1, 2)
	n := 0
	for path, want := range files {
		if got, err := e.read(e.admin, path, backend.OpenOptions{}); err == nil {
			if !bytes.Equal(got, want) {
				t.Errorf("%s reads back different", path)
			}
			n++
		}
	}
	if n != 18 {
		t.Errorf("%d files read back, want the 18 not broken", n)
	}
}
