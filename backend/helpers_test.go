package backend_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/internal/storepath"
)

// env is a backend on the real embedded engines in a temporary directory,
// with a clock the test can move.
type env struct {
	t     *testing.T
	b     *backend.Backend
	ids   *identity.Service
	blobs blob.Store
	meta  meta.Store
	keys  keys.Service
	admin iam.Principal
	clock *clock
	dir   string
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type option func(*backend.Config)

func keep(n int) option { return func(c *backend.Config) { c.KeepVersions = n } }

func partSize(n int64) option { return func(c *backend.Config) { c.PartSize = n } }

func maxUploads(n int) option { return func(c *backend.Config) { c.MaxOpenUploads = n } }

// inline keeps sealed contents of up to n bytes in their records.
func inline(n int64) option { return func(c *backend.Config) { c.InlineMax = n } }

// wrapBlobs lets a test put a fault-injecting store in front of the real one.
func wrapBlobs(f func(blob.Store) blob.Store) option {
	return func(c *backend.Config) { c.Blobs = f(c.Blobs) }
}

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	dir := t.TempDir()
	eng, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	cfg := backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	b, ids, admin := wire(t, cfg)
	return &env{t: t, b: b, ids: ids, blobs: cfg.Blobs, meta: cfg.Meta, keys: cfg.Keys, admin: admin, clock: clk, dir: dir}
}

// wire makes the file tree and identity of cfg's engines, each knowing the
// other, bootstraps the admin and returns its principal.
func wire(t *testing.T, cfg backend.Config) (*backend.Backend, *identity.Service, iam.Principal) {
	t.Helper()
	b, err := backend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(identity.Config{Meta: cfg.Meta, Now: cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	ids.SetLifecycle(b)
	b.SetUsers(ids)
	tok, created, err := ids.Bootstrap(context.Background(), "")
	if err != nil || !created {
		t.Fatalf("bootstrap: %v %v", created, err)
	}
	admin, err := ids.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return b, ids, admin
}

// user creates a user and returns its principal.
func (e *env) user(name string) iam.Principal {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.ids.CreateUser(ctx, e.admin, name, false); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.ids.CreateToken(ctx, e.admin, name, "test", 0, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	pr, err := e.ids.Authenticate(ctx, tok.Secret)
	if err != nil {
		e.t.Fatal(err)
	}
	return pr
}

func p(s string) storepath.Path { return storepath.MustParse(s) }

func data(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (e *env) put(pr iam.Principal, path string, content []byte) backend.Entry {
	e.t.Helper()
	ent, err := e.b.Put(context.Background(), pr, p(path), bytes.NewReader(content), backend.PutOptions{Size: int64(len(content))})
	if err != nil {
		e.t.Fatalf("put %s: %v", path, err)
	}
	return ent
}

func (e *env) read(pr iam.Principal, path string, o backend.OpenOptions) ([]byte, error) {
	if o.Length == 0 {
		o.Length = -1
	}
	r, err := e.b.Open(context.Background(), pr, p(path), o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (e *env) mustRead(pr iam.Principal, path string) []byte {
	e.t.Helper()
	b, err := e.read(pr, path, backend.OpenOptions{})
	if err != nil {
		e.t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// names lists a folder completely.
func (e *env) names(pr iam.Principal, path string) []string {
	e.t.Helper()
	var out []string
	cursor := ""
	for {
		pg, err := e.b.List(context.Background(), pr, p(path), cursor, 0)
		if err != nil {
			e.t.Fatalf("list %s: %v", path, err)
		}
		for _, en := range pg.Entries {
			out = append(out, en.Name)
		}
		if pg.Cursor == "" {
			return out
		}
		cursor = pg.Cursor
	}
}

// blobCount counts objects in the blob store.
// blobCount counts the stored blobs, once the work the backend does in the
// background (purges) is done.
func (e *env) blobCount() int {
	e.t.Helper()
	if err := e.b.Drain(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	n := 0
	if err := e.blobs.List(context.Background(), "", func(blob.Info) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// faultBlobs fails Put (and PutPart) with err once armed.
type faultBlobs struct {
	blob.Store
	mu    sync.Mutex
	armed bool
	err   error
}

func (f *faultBlobs) arm(err error) {
	f.mu.Lock()
	f.armed, f.err = true, err
	f.mu.Unlock()
}

func (f *faultBlobs) fault() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.armed {
		return f.err
	}
	return nil
}

func (f *faultBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := f.fault(); err != nil {
		// Consume a little, as a real full disk would, then fail.
		_, _ = io.CopyN(io.Discard, r, 1024)
		return err
	}
	return f.Store.Put(ctx, key, r, size)
}

func (f *faultBlobs) PutPart(ctx context.Context, key, id string, n int, r io.Reader, size int64) (blob.Part, error) {
	if err := f.fault(); err != nil {
		return blob.Part{}, err
	}
	return f.Store.PutPart(ctx, key, id, n, r, size)
}
