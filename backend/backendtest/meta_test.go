package backendtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/meta"
)

// TestRunMetaOnLenientStore runs the suite against a store that takes every
// liberty the contract allows and bbolt does not: short pages, a Next on the
// last full page followed by an empty one, expiry kept to the second only.
// If it fails, the suite demands more than meta.go promises.
func TestRunMetaOnLenientStore(t *testing.T) {
	RunMeta(t, func(t *testing.T) meta.Store {
		return &metaLenientStore{items: make(map[[2]string]meta.Item)}
	})
}

// metaReuseEnv, when set, lets TestRunMetaOnVersionReusingStore run.
const metaReuseEnv = "STRATA_BACKENDTEST_REUSE_VERSIONS"

// TestRunMetaCatchesReusedVersions makes sure that the suite fails a store
// that gives an item created again a version its key had before (the ABA
// problem), as the model did under the old contract. The suite cannot be
// expected to fail inside this process, so it runs in a child.
func TestRunMetaCatchesReusedVersions(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunMetaOnVersionReusingStore$")
	cmd.Env = append(os.Environ(), metaReuseEnv+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the suite on a store that reuses versions: %v, want it to fail\n%s", err, out)
	}
	for _, write := range []string{"Put", "Add", "TransactPut", "TransactAdd"} {
		failed := "--- FAIL: TestRunMetaOnVersionReusingStore/RecreatedItemNeverReusesVersion/" + write + " "
		if !strings.Contains(string(out), failed) {
			t.Errorf("RecreatedItemNeverReusesVersion/%s passed on a store that reuses versions", write)
		}
	}
	if t.Failed() {
		t.Logf("the suite said:\n%s", out)
	}
}

func TestRunMetaOnVersionReusingStore(t *testing.T) {
	if os.Getenv(metaReuseEnv) == "" {
		t.Skip("run by TestRunMetaCatchesReusedVersions, which expects it to fail")
	}
	RunMeta(t, func(t *testing.T) meta.Store {
		return &metaLenientStore{items: make(map[[2]string]meta.Item), reuse: true}
	})
}

// metaLenientPage caps every page, whatever Limit asks for.
const metaLenientPage = 37

type metaLenientStore struct {
	mu    sync.Mutex
	items map[[2]string]meta.Item
	// seq is the last version given out, to any item: one counter for the
	// whole store, so that no key ever gets a version twice, whatever is
	// deleted.
	seq int64
	// reuse numbers each item's versions from 1 instead, as the contract
	// once allowed: an item deleted and created again starts over, and a
	// condition on an old version can hold against the new item (ABA).
	reuse bool
}

func (s *metaLenientStore) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	if err := metaLenientCheck(ctx, pk, sk); err != nil {
		return meta.Item{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[[2]string{pk, sk}]
	if !ok {
		return meta.Item{}, fmt.Errorf("get: %w", meta.ErrNotFound)
	}
	return metaLenientCopy(it), nil
}

func (s *metaLenientStore) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := meta.ValidateItem(it); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.holds(it.PK, it.SK, c) {
		return 0, meta.ErrConflict
	}
	return s.put(it), nil
}

func (s *metaLenientStore) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	if err := metaLenientCheck(ctx, pk, sk); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.holds(pk, sk, c) {
		return meta.ErrConflict
	}
	delete(s.items, [2]string{pk, sk})
	return nil
}

func (s *metaLenientStore) Add(ctx context.Context, pk, sk string, delta int64) (int64, error) {
	if err := metaLenientCheck(ctx, pk, sk); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(pk, sk, delta), nil
}

func (s *metaLenientStore) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	if err := metaLenientCheck(ctx, pk, "x"); err != nil {
		return meta.Page{}, err
	}
	limit, err := meta.PageLimit(o.Limit)
	if err != nil {
		return meta.Page{}, err
	}
	limit = min(limit, metaLenientPage)
	s.mu.Lock()
	defer s.mu.Unlock()
	var sks []string
	for k := range s.items {
		if k[0] != pk || !strings.HasPrefix(k[1], o.Prefix) {
			continue
		}
		if o.After != "" && ((!o.Reverse && k[1] <= o.After) || (o.Reverse && k[1] >= o.After)) {
			continue
		}
		sks = append(sks, k[1])
	}
	slices.Sort(sks)
	if o.Reverse {
		slices.Reverse(sks)
	}
	var pg meta.Page
	for _, sk := range sks[:min(limit, len(sks))] {
		pg.Items = append(pg.Items, metaLenientCopy(s.items[[2]string{pk, sk}]))
	}
	// No look-ahead: a full page always carries a Next, as DynamoDB's does.
	if len(pg.Items) == limit {
		pg.Next = pg.Items[limit-1].SK
	}
	return pg, nil
}

func (s *metaLenientStore) Transact(ctx context.Context, ops []meta.Op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := meta.ValidateOps(ops); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, op := range ops {
		pk, sk := op.PK, op.SK
		if op.Kind == meta.OpPut {
			pk, sk = op.Item.PK, op.Item.SK
		}
		if !s.holds(pk, sk, op.Cond) {
			return &meta.TxError{Index: i, Op: op}
		}
	}
	for _, op := range ops {
		switch op.Kind {
		case meta.OpPut:
			s.put(op.Item)
		case meta.OpDelete:
			delete(s.items, [2]string{op.PK, op.SK})
		case meta.OpAdd:
			s.add(op.PK, op.SK, op.Delta)
		}
	}
	return nil
}

func (s *metaLenientStore) holds(pk, sk string, c meta.Cond) bool {
	it, ok := s.items[[2]string{pk, sk}]
	switch c.Kind {
	case meta.IfAbsent:
		return !ok
	case meta.IfExists:
		return ok
	case meta.IfVersion:
		return ok && it.Version == c.Version
	case meta.IfAtMost:
		return it.N <= c.Max
	}
	return true
}

func (s *metaLenientStore) put(it meta.Item) int64 {
	k := [2]string{it.PK, it.SK}
	it = metaLenientCopy(it)
	it.Version = s.nextVersion(k)
	if !it.ExpiresAt.IsZero() {
		it.ExpiresAt = time.Unix(it.ExpiresAt.Unix(), 0)
	}
	s.items[k] = it
	return it.Version
}

func (s *metaLenientStore) add(pk, sk string, delta int64) int64 {
	k := [2]string{pk, sk}
	it := s.items[k]
	it.PK, it.SK = pk, sk
	it.N += delta
	it.Version = s.nextVersion(k)
	s.items[k] = it
	return it.N
}

// nextVersion is the version of a write to k, made before s.items[k]
// changes.
func (s *metaLenientStore) nextVersion(k [2]string) int64 {
	if s.reuse {
		return s.items[k].Version + 1 // 0 + 1 when missing
	}
	s.seq++
	return s.seq
}

func metaLenientCheck(ctx context.Context, pk, sk string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := meta.ValidateKey(pk); err != nil {
		return err
	}
	return meta.ValidateKey(sk)
}

func metaLenientCopy(it meta.Item) meta.Item {
	it.Value = slices.Clone(it.Value)
	return it
}
