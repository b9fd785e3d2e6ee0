package backend_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/internal/storepath"
)

func deepPath(t *testing.T, n int, leaf string) storepath.Path {
	segs := []string{"home", "admin"}
	for len(segs) < n-1 {
		segs = append(segs, "d")
	}
	segs = append(segs, leaf)
	pp, err := storepath.FromSegments(segs)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

// TestDeepPutAfterMove: a file at the depth where the walk stops checking
// folders one by one (62 segments) is written after any folder has moved
// (the walk read the tree version one level too late, and every such
// write failed as a concurrent modification).
func TestDeepPutAfterMove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put := func(pp storepath.Path, c string) error {
		_, err := e.b.Put(ctx, e.admin, pp, bytes.NewReader([]byte(c)), backend.PutOptions{Size: int64(len(c))})
		return err
	}
	if err := put(p("/home/admin/x/f"), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/x"), p("/home/admin/y"), false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := put(deepPath(t, 62, "f"+strings.Repeat("a", i+1)), "abc"); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
}

// TestDeepQuotaStaleCache: a folder whose files are checked by the tree
// version is not cached, so a write there sees its home's quota as it is
// now (the cached home entry carried the old quota past a change).
func TestDeepQuotaStaleCache(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put := func(pp storepath.Path, c string) error {
		_, err := e.b.Put(ctx, e.admin, pp, bytes.NewReader([]byte(c)), backend.PutOptions{Size: int64(len(c))})
		return err
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "admin", ptr(int64(1_000_000)), nil); err != nil {
		t.Fatal(err)
	}
	if err := put(deepPath(t, 62, "a"), "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.SetQuota(ctx, e.admin, "admin", ptr(int64(10)), nil); err != nil {
		t.Fatal(err)
	}
	err := put(deepPath(t, 62, "b"), strings.Repeat("z", 1000))
	if err == nil {
		t.Fatalf("1000 bytes committed under a 10-byte quota through the cached folder")
	}
}
