package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// entryRecSamples are records as the core writes them, and as older or
// other writers could have: each must read as encoding/json reads it.
func entryRecSamples() [][]byte {
	recs := []entryRec{
		{},
		{ID: "root", Kind: KindDir},
		{ID: "abcdefghijklmnopqrstuvwxyz", Kind: KindDir, Created: 1733400000123456789, MTime: 1733400000123456789},
		{ID: "abcdefghijklmnopqrstuvwxyz", Kind: KindFile, Created: 1, MTime: -62135596800000000, Size: 1 << 40,
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Blob: "b234567abcdefghijklmnopqrs", Seq: 7, First: 3},
		{ID: "c", Kind: KindFile, Size: 5, SHA256: "e3b0", digestWord: digestWord{ClientDigest: true}},
		{ID: "c", Kind: KindFile, Size: 5, SHA256: "e3b0", digestWord: clientWord("u234567abcdefghijklmnopqrs")},
		{ID: "q", Kind: KindDir, Quota: &Quota{}},
		{ID: "a", Kind: KindFile, Size: 5, Arch: &archRec{Since: 3, Days: 2}},
		{ID: `odd "id" \ <&> ü`, Kind: "file\n"},
		{MTime: -9223372036854775808, Size: 9223372036854775807},
	}
	var out [][]byte
	for _, r := range recs {
		out = append(out, record.Encode(r))
	}
	return append(out,
		[]byte(`{}`),
		[]byte(` {"id":"x"}`),
		[]byte(`{"id":"x"} `),
		[]byte(`{ "id" : "x" , "k" : "dir" }`),
		[]byte(`{"ID":"x","K":"dir"}`),
		[]byte(`{"id":"x","id":"y"}`),
		[]byte(`{"id":"x","Id":"y"}`),
		[]byte(`{"id":"x","zzz":1}`),
		[]byte(`{"id":null,"s":null}`),
		[]byte(`{"id":"\u0041"}`),
		[]byte(`{"s":1.0}`),
		[]byte(`{"s":1e3}`),
		[]byte(`{"s":01}`),
		[]byte(`{"s":-0}`),
		[]byte(`{"s":-}`),
		[]byte(`{"s":9223372036854775808}`),
		[]byte(`{"s":"1"}`),
		[]byte(`{"cd":false}`),
		[]byte(`{"cd":tru}`),
		[]byte(`{"cd":1}`),
		[]byte(`{"cd":"true"}`),
		[]byte(`{"cd":null}`),
		[]byte(`{"cdb":"u1"}`),
		[]byte(`{"cd":true,"cdb":"u1","h":"e3b0"}`),
		[]byte(`{"cdb":1}`),
		[]byte(`{"cdb":null}`),
		[]byte(`{"id":1}`),
		[]byte(`{"id":"x",}`),
		[]byte(`{"id":"x"`),
		[]byte(`{"id":"x"}}`),
		[]byte(`{"id":"a\tb"}`),
		[]byte("{\"id\":\"a\x7fb\"}"),
		[]byte("{\"id\":\"\xff\"}"),
		[]byte(`[]`),
		[]byte(`{`),
		[]byte(``),
	)
}

// TestReadEntryRecAsJSON: whatever readEntryRec takes, encoding/json reads
// to the same record; and decodeEntryRec gives what record.Decode gives for
// every record, the ones it leaves to encoding/json included.
func TestReadEntryRecAsJSON(t *testing.T) {
	fast := 0
	for _, v := range entryRecSamples() {
		if checkEntryRec(t, v) {
			fast++
		}
	}
	if fast < 5 {
		t.Fatalf("only %d samples took the fast path", fast)
	}
}

func FuzzReadEntryRec(f *testing.F) {
	for _, v := range entryRecSamples() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) { checkEntryRec(t, v) })
}

// checkEntryRec compares the three readings of v, and says whether the
// fast one took it.
func checkEntryRec(t *testing.T, v []byte) bool {
	t.Helper()
	it := meta.Item{PK: "dir#x", SK: "e#y", Value: v}
	var want entryRec
	wantErr := json.Unmarshal(v, &want)
	got, err := decodeEntryRec(it)
	if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) && wantErr == nil {
		t.Fatalf("decodeEntryRec(%q) = %+v, %v; encoding/json: %+v, %v", v, got, err, want, wantErr)
	}
	fast, ok := readEntryRec(v)
	if ok && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("readEntryRec(%q) = %+v; encoding/json: %+v, %v", v, fast, want, wantErr)
	}
	return ok
}

// TestListAllocations bounds what a page of a listing allocates per entry
// (it was 14 with encoding/json; a folder of 100,000 entries is 1.4
// million allocations more for the server to collect).
func TestListAllocations(t *testing.T) {
	const n = 1000
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	b, err := New(Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := iam.User("admin-id", "admin", true, "")
	dir := storepath.MustParse("/home/admin/big")
	if _, err := b.Mkdir(ctx, admin, dir, true); err != nil {
		t.Fatal(err)
	}
	l, err := b.lookupExisting(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	var ops []meta.Op
	for i := range n {
		rec := entryRec{ID: record.NewID(), Kind: KindFile, Created: now, MTime: now, Size: int64(i),
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Blob: record.NewID(), Seq: 1, First: 1}
		ops = append(ops, meta.Put(record.Item(dirPK(l.rec.ID), entrySK(fmt.Sprintf("file-%05d", i)), rec), meta.Cond{}))
		if len(ops) == 96 || i == n-1 {
			if err := eng.Meta.Transact(ctx, ops); err != nil {
				t.Fatal(err)
			}
			ops = ops[:0]
		}
	}
	var listErr error
	allocs := testing.AllocsPerRun(5, func() {
		pg, err := b.List(ctx, admin, dir, "", n)
		if err == nil && len(pg.Entries) != n {
			err = fmt.Errorf("listed %d entries, want %d", len(pg.Entries), n)
		}
		if err != nil {
			listErr = err
		}
	})
	if listErr != nil {
		t.Fatal(listErr)
	}
	t.Logf("%.2f allocations per entry", allocs/n)
	if per := allocs / n; per > 5 {
		t.Errorf("a page allocates %.1f times per entry, want at most 5", per)
	}
}
