package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

// hooked is a Remote whose Upload, Download, List and Mkdir can be
// replaced; each hook gets the wrapped call as next.
type hooked struct {
	*remotetest.Fake
	upload   func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error)
	download func(ctx context.Context, p, local string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error)
	list     func(ctx context.Context, dir string, next func() (remote.Page, error)) (remote.Page, error)
	mkdir    func(ctx context.Context, p string, next func() (remote.Entry, error)) (remote.Entry, error)
	ping     func(ctx context.Context, next func() error) error
}

func (h *hooked) Ping(ctx context.Context) error {
	next := func() error { return h.Fake.Ping(ctx) }
	if h.ping != nil {
		return h.ping(ctx, next)
	}
	return next()
}

func (h *hooked) Mkdir(ctx context.Context, p string) (remote.Entry, error) {
	next := func() (remote.Entry, error) { return h.Fake.Mkdir(ctx, p) }
	if h.mkdir != nil {
		return h.mkdir(ctx, p, next)
	}
	return next()
}

func (h *hooked) Upload(ctx context.Context, local, p string, progress remote.Progress) (remote.Entry, error) {
	next := func() (remote.Entry, error) { return h.Fake.Upload(ctx, local, p, progress) }
	if h.upload != nil {
		return h.upload(ctx, local, p, progress, next)
	}
	return next()
}

func (h *hooked) Download(ctx context.Context, p, local string, progress remote.Progress) (remote.Entry, error) {
	next := func() (remote.Entry, error) { return h.Fake.Download(ctx, p, local, progress) }
	if h.download != nil {
		return h.download(ctx, p, local, progress, next)
	}
	return next()
}

func (h *hooked) List(ctx context.Context, dir, cursor string, limit int) (remote.Page, error) {
	next := func() (remote.Page, error) { return h.Fake.List(ctx, dir, cursor, limit) }
	if h.list != nil {
		return h.list(ctx, dir, next)
	}
	return next()
}

// clock is a clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newManager(t *testing.T, r remote.Remote, o Options) *Manager {
	t.Helper()
	if o.Backoff == 0 {
		o.Backoff = 10 * time.Millisecond
	}
	m, err := New(r, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// waitFor waits until cond holds for a snapshot.
func waitFor(t *testing.T, m *Manager, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s := m.Snapshot()
		if cond(s) {
			return s
		}
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s; snapshot: %s", what, dump(s))
		case <-m.Changed():
		case <-tick.C:
		}
	}
}

func finished(s Snapshot) bool {
	return s.Walking == 0 && s.Running == 0 && s.Queued == 0 && s.Conflicts == 0
}

func dump(s Snapshot) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "files %d/%d bytes %d/%d walking %d running %d queued %d conflicts %d failed %d offline %v\n",
		s.FilesDone, s.Files, s.BytesDone, s.Bytes, s.Walking, s.Running, s.Queued, s.Conflicts, s.Failed, s.Offline)
	for _, j := range s.Jobs {
		fmt.Fprintf(&b, "  #%d %s %s -> %s %d/%d %s err=%v attempts=%d\n", j.ID, j.Kind, j.Src, j.Dst, j.Done, j.Size, j.State, j.Err, j.Attempts)
	}
	return b.String()
}

func jobByDst(t *testing.T, s Snapshot, dst string) Job {
	t.Helper()
	for _, j := range s.Jobs {
		if j.Dst == dst {
			return j
		}
	}
	t.Fatalf("no job to %s in\n%s", dst, dump(s))
	return Job{}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// content returns deterministic bytes.
func content(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*31 + i*7 + i/251)
	}
	return b
}

// tree lists a local tree: relative path -> content ("/" suffix: folder).
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			out[filepath.ToSlash(rel)+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
