package backend_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
)

func TestPutOpenRoundTrip(t *testing.T) {
	e := newEnv(t, partSize(64<<10))
	ctx := context.Background()
	for _, n := range []int{0, 1, 65535, 65536, 65537, 3*65536 + 11, 1 << 20} {
		content := data(n, uint64(n))
		path := fmt.Sprintf("/home/admin/f%d", n)
		ent := e.put(e.admin, path, content)
		if ent.Size != int64(n) || ent.SHA256 != hex.EncodeToString(sum(content)) || ent.Version != 1 || ent.Kind != backend.KindFile {
			t.Fatalf("entry %+v", ent)
		}
		if got := e.mustRead(e.admin, path); !bytes.Equal(got, content) {
			t.Fatalf("size %d: content differs", n)
		}
		st, err := e.b.Stat(ctx, e.admin, p(path))
		if err != nil || st.SHA256 != ent.SHA256 || st.Size != ent.Size {
			t.Fatalf("stat %+v %v", st, err)
		}
	}
}

func TestPutUnknownSize(t *testing.T) {
	e := newEnv(t, partSize(64<<10))
	content := data(200_000, 7)
	ent, err := e.b.Put(context.Background(), e.admin, p("/home/admin/x"), iotest.HalfReader(bytes.NewReader(content)), backend.PutOptions{Size: -1})
	if err != nil || ent.Size != int64(len(content)) {
		t.Fatalf("%+v %v", ent, err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/x"), content) {
		t.Fatal("content differs")
	}
}

func TestPutCreatesParents(t *testing.T) {
	e := newEnv(t)
	e.put(e.admin, "/home/admin/a/b/c/file.txt", []byte("hi"))
	if got := e.names(e.admin, "/home/admin/a/b"); len(got) != 1 || got[0] != "c" {
		t.Fatalf("names %v", got)
	}
}

func TestNothingCommittedOnBadBody(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	old := []byte("the old content")
	e.put(e.admin, "/home/admin/f", old)
	blobsBefore := e.blobCount()
	good := data(100_000, 1)

	cases := map[string]struct {
		r    io.Reader
		o    backend.PutOptions
		want error
	}{
		"digest mismatch": {bytes.NewReader(good), backend.PutOptions{Size: int64(len(good)), SHA256: sum([]byte("other"))}, errs.ErrDigestMismatch},
		"body too short":  {bytes.NewReader(good[:50_000]), backend.PutOptions{Size: int64(len(good))}, errs.ErrLengthMismatch},
		"body too long":   {bytes.NewReader(good), backend.PutOptions{Size: 10}, errs.ErrLengthMismatch},
		"reader fails":    {io.MultiReader(bytes.NewReader(good[:30_000]), iotest.ErrReader(errors.New("connection reset"))), backend.PutOptions{Size: int64(len(good))}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.b.Put(ctx, e.admin, p("/home/admin/f"), c.r, c.o)
			if err == nil {
				t.Fatal("put succeeded")
			}
			if c.want != nil {
				wantErr(t, err, c.want)
			}
			if got := e.mustRead(e.admin, "/home/admin/f"); !bytes.Equal(got, old) {
				t.Fatal("old version is not current any more")
			}
			st, _ := e.b.Stat(ctx, e.admin, p("/home/admin/f"))
			if st.Version != 1 {
				t.Fatalf("version %d", st.Version)
			}
			if n := e.blobCount(); n != blobsBefore {
				t.Fatalf("%d blobs stored, want %d: a failed write left data behind", n, blobsBefore)
			}
		})
	}
	// A new path that fails leaves no entry at all.
	_, err := e.b.Put(ctx, e.admin, p("/home/admin/new"), bytes.NewReader(good), backend.PutOptions{Size: 1})
	wantErr(t, err, errs.ErrLengthMismatch)
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/new")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("stat after failed put: %v", err)
	}
}

func TestCancelledPutLeavesNothing(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &cancelAfter{r: bytes.NewReader(data(1<<20, 3)), after: 100_000, cancel: cancel}
	_, err := e.b.Put(ctx, e.admin, p("/home/admin/f"), r, backend.PutOptions{Size: 1 << 20})
	if err == nil {
		t.Fatal("put succeeded")
	}
	if _, err := e.b.Stat(context.Background(), e.admin, p("/home/admin/f")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("stat: %v", err)
	}
	if n := e.blobCount(); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int
	after  int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func TestFullDisk(t *testing.T) {
	var fb *faultBlobs
	e := newEnv(t, wrapBlobs(func(s blob.Store) blob.Store { fb = &faultBlobs{Store: s}; return fb }))
	e.put(e.admin, "/home/admin/f", []byte("v1"))
	fb.arm(fmt.Errorf("write: %w", blob.ErrNoSpace))
	_, err := e.b.Put(context.Background(), e.admin, p("/home/admin/f"), bytes.NewReader(data(100_000, 1)), backend.PutOptions{Size: 100_000})
	wantErr(t, err, errs.ErrNoSpace)
	if got := e.mustRead(e.admin, "/home/admin/f"); string(got) != "v1" {
		t.Fatalf("got %q", got)
	}
}

func TestPreconditions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.put(e.admin, "/home/admin/f", []byte("one"))
	_, err := e.b.Put(ctx, e.admin, p("/home/admin/f"), strings.NewReader("x"), backend.PutOptions{Size: 1, IfNoneMatch: true})
	wantErr(t, err, errs.ErrPrecondition)
	_, err = e.b.Put(ctx, e.admin, p("/home/admin/f"), strings.NewReader("x"), backend.PutOptions{Size: 1, IfMatch: strings.Repeat("0", 64)})
	wantErr(t, err, errs.ErrPrecondition)
	if _, err := e.b.Put(ctx, e.admin, p("/home/admin/f"), strings.NewReader("two"), backend.PutOptions{Size: 3, IfMatch: v1.SHA256}); err != nil {
		t.Fatal(err)
	}
}

func TestRanges(t *testing.T) {
	e := newEnv(t, partSize(64<<10))
	content := data(200_000, 9)
	e.put(e.admin, "/home/admin/f", content)
	for _, r := range [][2]int64{{0, 1}, {0, 200_000}, {65535, 2}, {65536, 65536}, {131071, 5}, {199_999, 1}, {200_000, 0}, {12345, 150_000}} {
		got, err := e.read(e.admin, "/home/admin/f", backend.OpenOptions{Offset: r[0], Length: r[1]})
		if r[1] == 0 {
			// Length 0 in the helper means "to the end": from 200000 that is nothing.
			if err != nil || len(got) != 0 {
				t.Fatalf("range %v: %d bytes, %v", r, len(got), err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, content[r[0]:r[0]+r[1]]) {
			t.Fatalf("range %v: %v", r, err)
		}
	}
	for _, r := range [][2]int64{{200_001, -1}, {-1, 5}, {199_990, 11}} {
		_, err := e.b.Open(context.Background(), e.admin, p("/home/admin/f"), backend.OpenOptions{Offset: r[0], Length: r[1]})
		wantErr(t, err, errs.ErrInvalidRange)
	}
}

func TestKindConflicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/file", []byte("x"))
	if _, err := e.b.Mkdir(ctx, e.admin, p("/home/admin/dir"), false); err != nil {
		t.Fatal(err)
	}
	_, err := e.b.Put(ctx, e.admin, p("/home/admin/dir"), strings.NewReader("x"), backend.PutOptions{Size: 1})
	wantErr(t, err, errs.ErrIsDir)
	_, err = e.b.Put(ctx, e.admin, p("/home/admin/file/x"), strings.NewReader("x"), backend.PutOptions{Size: 1})
	wantErr(t, err, errs.ErrNotDir)
	_, err = e.b.List(ctx, e.admin, p("/home/admin/file"), "", 0)
	wantErr(t, err, errs.ErrNotDir)
	_, err = e.b.Open(ctx, e.admin, p("/home/admin/dir"), backend.OpenOptions{Length: -1})
	wantErr(t, err, errs.ErrIsDir)
	_, err = e.b.Mkdir(ctx, e.admin, p("/home/admin/file"), true)
	wantErr(t, err, errs.ErrNotDir)
	_, err = e.b.Mkdir(ctx, e.admin, p("/home/admin/dir"), false)
	wantErr(t, err, errs.ErrExists)
	if _, err := e.b.Mkdir(ctx, e.admin, p("/home/admin/dir"), true); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.Stat(ctx, e.admin, p("/home/admin/missing/x"))
	wantErr(t, err, errs.ErrNotFound)
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 2500
	if _, err := e.b.Mkdir(ctx, e.admin, p("/home/admin/big"), false); err != nil {
		t.Fatal(err)
	}
	// Concurrent writers share fsyncs; one at a time this takes seconds.
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				if _, err := e.b.Mkdir(ctx, e.admin, p(fmt.Sprintf("/home/admin/big/d%05d", i)), false); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got []string
	cursor, pages := "", 0
	for {
		pg, err := e.b.List(ctx, e.admin, p("/home/admin/big"), cursor, 700)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(pg.Entries) > 700 {
			t.Fatalf("page of %d", len(pg.Entries))
		}
		for _, en := range pg.Entries {
			got = append(got, en.Name)
		}
		if pg.Cursor == "" {
			break
		}
		cursor = pg.Cursor
	}
	if len(got) != n || pages != 4 {
		t.Fatalf("%d entries in %d pages", len(got), pages)
	}
	for i, name := range got {
		if name != fmt.Sprintf("d%05d", i) {
			t.Fatalf("entry %d is %s", i, name)
		}
	}
	_, err := e.b.List(ctx, e.admin, p("/home/admin/big"), "!!not base64", 0)
	wantErr(t, err, errs.ErrInvalid)

	// A prefix narrows the listing, and pages within it.
	var pre []string
	cursor = ""
	for {
		pg, err := e.b.ListPrefix(ctx, e.admin, p("/home/admin/big"), "d012", cursor, 30)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range pg.Entries {
			pre = append(pre, en.Name)
		}
		if pg.Cursor == "" {
			break
		}
		cursor = pg.Cursor
	}
	if len(pre) != 100 || pre[0] != "d01200" || pre[99] != "d01299" {
		t.Fatalf("prefix d012 listed %d names: %v…", len(pre), pre[:min(3, len(pre))])
	}
	for _, bad := range []string{"a/b", "a\x00", strings.Repeat("x", 256)} {
		_, err := e.b.ListPrefix(ctx, e.admin, p("/home/admin/big"), bad, "", 0)
		wantErr(t, err, errs.ErrInvalid)
	}
}

func TestConcurrentWritesToOnePath(t *testing.T) {
	e := newEnv(t, keep(100))
	ctx := context.Background()
	const writers, each = 8, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c := []byte(fmt.Sprintf("writer %d write %d", w, i))
				if _, err := e.b.Put(ctx, e.admin, p("/home/admin/hot"), bytes.NewReader(c), backend.PutOptions{Size: int64(len(c))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	st, err := e.b.Stat(ctx, e.admin, p("/home/admin/hot"))
	if err != nil || st.Version != writers*each {
		t.Fatalf("version %d, %v", st.Version, err)
	}
	vp, err := e.b.Versions(ctx, e.admin, p("/home/admin/hot"), "", 0)
	if err != nil || len(vp.Versions) != writers*each {
		t.Fatalf("%d versions, %v", len(vp.Versions), err)
	}
	seen := map[string]bool{}
	for _, v := range vp.Versions {
		got, err := e.read(e.admin, "/home/admin/hot", backend.OpenOptions{Version: v.Version})
		if err != nil || hex.EncodeToString(sum(got)) != v.SHA256 {
			t.Fatalf("version %d: %v", v.Version, err)
		}
		seen[string(got)] = true
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct contents, want %d: a write was lost", len(seen), writers*each)
	}
}

func TestVersionsKeepAndRestore(t *testing.T) {
	e := newEnv(t, keep(3))
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		e.put(e.admin, "/home/admin/f", []byte(fmt.Sprintf("v%d", i)))
	}
	vp, err := e.b.Versions(ctx, e.admin, p("/home/admin/f"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var nums []int64
	for _, v := range vp.Versions {
		nums = append(nums, v.Version)
	}
	if fmt.Sprint(nums) != "[5 4 3]" || !vp.Versions[0].Current || vp.Versions[0].Author != "admin" {
		t.Fatalf("versions %v %+v", nums, vp.Versions[0])
	}
	if n := e.blobCount(); n != 3 {
		t.Fatalf("%d blobs stored, want 3: dropped versions must release their blobs", n)
	}
	got, err := e.read(e.admin, "/home/admin/f", backend.OpenOptions{Version: 3})
	if err != nil || string(got) != "v3" {
		t.Fatalf("v3: %q %v", got, err)
	}
	_, err = e.read(e.admin, "/home/admin/f", backend.OpenOptions{Version: 1})
	wantErr(t, err, errs.ErrNotFound)

	// Restoring the oldest kept version drops that same version item in
	// the same commit: the blob must survive with one reference.
	ent, err := e.b.RestoreVersion(ctx, e.admin, p("/home/admin/f"), 3)
	if err != nil || ent.Version != 6 {
		t.Fatalf("restore: %+v %v", ent, err)
	}
	if got := e.mustRead(e.admin, "/home/admin/f"); string(got) != "v3" {
		t.Fatalf("current %q", got)
	}
	e.put(e.admin, "/home/admin/f", []byte("v7"))
	e.put(e.admin, "/home/admin/f", []byte("v8"))
	got, err = e.read(e.admin, "/home/admin/f", backend.OpenOptions{Version: 6})
	if err != nil || string(got) != "v3" {
		t.Fatalf("v6: %q %v", got, err)
	}
	if n := e.blobCount(); n != 3 {
		t.Fatalf("%d blobs, want 3", n)
	}
}

func TestCopyShares(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(300_000, 5)
	e.put(e.admin, "/home/admin/src/a", content)
	e.put(e.admin, "/home/admin/src/sub/b", []byte("bee"))
	before := e.blobCount()
	if _, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/src/a"), p("/home/admin/a-copy"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/src"), p("/home/admin/dst"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := e.blobCount(); n != before {
		t.Fatalf("copies stored %d new blobs", n-before)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/dst/a"), content) || string(e.mustRead(e.admin, "/home/admin/dst/sub/b")) != "bee" {
		t.Fatal("copied content differs")
	}
	_, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/src"), p("/home/admin/src/inner"), time.Minute)
	wantErr(t, err, errs.ErrInvalid)
	_, _, err = e.b.Copy(ctx, e.admin, p("/home/admin/src"), p("/home/admin/dst"), time.Minute)
	wantErr(t, err, errs.ErrExists)

	// Deleting and purging the original keeps the copies readable.
	ti, err := e.b.Delete(ctx, e.admin, p("/home/admin/src"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.PurgeTrash(ctx, e.admin, "", ti.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/a-copy"), content) {
		t.Fatal("copy lost its content when the original was purged")
	}
}

func TestMove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/docs/a.txt", []byte("A"))
	e.put(e.admin, "/home/admin/docs/sub/b.txt", []byte("B"))
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/docs/a.txt"), p("/home/admin/docs/renamed.txt"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/docs"), p("/home/admin/archive"), false); err != nil {
		t.Fatal(err)
	}
	if string(e.mustRead(e.admin, "/home/admin/archive/sub/b.txt")) != "B" || string(e.mustRead(e.admin, "/home/admin/archive/renamed.txt")) != "A" {
		t.Fatal("content after move")
	}
	_, err := e.b.Move(ctx, e.admin, p("/home/admin/archive"), p("/home/admin/archive/sub/x"), false)
	wantErr(t, err, errs.ErrInvalid)
	_, err = e.b.Move(ctx, e.admin, p("/home/admin/nothing"), p("/home/admin/x"), false)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.b.Move(ctx, e.admin, p("/home/admin/archive/renamed.txt"), p("/home/admin/nodir/x"), false)
	wantErr(t, err, errs.ErrNotFound)

	// Overwrite: only with the flag, and the replaced file goes to the trash.
	e.put(e.admin, "/home/admin/target", []byte("old target"))
	_, err = e.b.Move(ctx, e.admin, p("/home/admin/archive/renamed.txt"), p("/home/admin/target"), false)
	wantErr(t, err, errs.ErrExists)
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/archive/renamed.txt"), p("/home/admin/target"), true); err != nil {
		t.Fatal(err)
	}
	if string(e.mustRead(e.admin, "/home/admin/target")) != "A" {
		t.Fatal("overwrite")
	}
	tp, err := e.b.ListTrash(ctx, e.admin, "", "", 0)
	if err != nil || len(tp.Items) != 1 || tp.Items[0].Path != "/home/admin/target" {
		t.Fatalf("trash %+v %v", tp, err)
	}
	// A folder never replaces a file.
	_, err = e.b.Move(ctx, e.admin, p("/home/admin/archive"), p("/home/admin/target"), true)
	wantErr(t, err, errs.ErrExists)
}

// TestConcurrentCrossMoves races /a -> /b/a against /b -> /a/b, which, if
// both committed, would detach a cycle from the tree.
func TestConcurrentCrossMoves(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for round := range 20 {
		base := fmt.Sprintf("/home/admin/r%d", round)
		e.put(e.admin, base+"/a/fa", []byte("a"))
		e.put(e.admin, base+"/b/fb", []byte("b"))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs[0] = e.b.Move(ctx, e.admin, p(base+"/a"), p(base+"/b/a"), false)
		}()
		go func() {
			defer wg.Done()
			_, errs[1] = e.b.Move(ctx, e.admin, p(base+"/b"), p(base+"/a/b"), false)
		}()
		wg.Wait()
		if errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: both crossing moves committed", round)
		}
		// Both files are still reachable from the root.
		var found int
		for _, path := range []string{base + "/b/a/fa", base + "/b/fb", base + "/a/fa", base + "/a/b/fb"} {
			if _, err := e.b.Stat(ctx, e.admin, p(path)); err == nil {
				found++
			}
		}
		if found != 2 {
			t.Fatalf("round %d: %d of 2 files reachable (errors %v)", round, found, errs)
		}
	}
}

func TestTrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/dir/f1", data(100_000, 1))
	e.put(e.admin, "/home/admin/dir/deeper/f2", []byte("two"))
	e.put(e.admin, "/home/admin/lone", []byte("lone"))

	_, err := e.b.Delete(ctx, e.admin, p("/home/admin/dir"), false)
	wantErr(t, err, errs.ErrNotEmpty)
	tdir, err := e.b.Delete(ctx, e.admin, p("/home/admin/dir"), true)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(1e9)
	tlone, err := e.b.Delete(ctx, e.admin, p("/home/admin/lone"), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/dir/f1")); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("deleted folder still visible: %v", err)
	}
	tp, err := e.b.ListTrash(ctx, e.admin, "", "", 0)
	if err != nil || len(tp.Items) != 2 || tp.Items[0].ID != tlone.ID || tp.Items[1].Kind != backend.KindDir {
		t.Fatalf("trash (newest first) %+v %v", tp.Items, err)
	}

	// Restore the folder where it was, whole.
	if _, err := e.b.RestoreTrash(ctx, e.admin, "", tdir.ID, nil); err != nil {
		t.Fatal(err)
	}
	if string(e.mustRead(e.admin, "/home/admin/dir/deeper/f2")) != "two" {
		t.Fatal("restored content")
	}
	// Restore over an existing path refuses; --to elsewhere works.
	e.put(e.admin, "/home/admin/lone", []byte("new lone"))
	_, err = e.b.RestoreTrash(ctx, e.admin, "", tlone.ID, nil)
	wantErr(t, err, errs.ErrExists)
	to := p("/home/admin/restored/lone")
	if _, err := e.b.RestoreTrash(ctx, e.admin, "", tlone.ID, &to); err != nil {
		t.Fatal(err)
	}
	if string(e.mustRead(e.admin, "/home/admin/restored/lone")) != "lone" {
		t.Fatal("restored elsewhere")
	}

	// Purge frees the blobs.
	before := e.blobCount()
	td, err := e.b.Delete(ctx, e.admin, p("/home/admin/dir"), true)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.b.EmptyTrash(ctx, e.admin, ""); err != nil || n != 1 {
		t.Fatalf("empty: %d %v", n, err)
	}
	if after := e.blobCount(); after != before-2 {
		t.Fatalf("blobs %d -> %d, want 2 fewer", before, after)
	}
	_, err = e.b.RestoreTrash(ctx, e.admin, "", td.ID, nil)
	wantErr(t, err, errs.ErrNotFound)
	_, err = e.b.RestoreTrash(ctx, e.admin, "", "../../x", nil)
	wantErr(t, err, errs.ErrInvalid)
}
