package backendtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/meta"
)

// RunMeta runs the meta.Store conformance suite. open must return a fresh,
// empty store on every call and arrange its cleanup with t.Cleanup.
//
// The suite checks only what meta.go promises: where the contract leaves
// room (a page may be short, Next may be set on a page that turns out to be
// the last), it accepts every answer the contract allows. So it holds
// versions to what Item.Version says and no more: each Put or Add gives a
// positive version its key never had, not even before a delete, and an
// IfVersion condition holds at the current version only. It never assumes
// that versions count, grow or start anywhere: a store may draw them from a
// sequence or at random.
func RunMeta(t *testing.T, open func(t *testing.T) meta.Store) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, meta.Store)
	}{
		{"GetMissingIsNotFound", metaTestGetMissing},
		{"PutGetRoundTrip", metaTestRoundTrip},
		{"PutIgnoresInputVersion", metaTestPutIgnoresVersion},
		{"ValueIsCopied", metaTestValueIsCopied},
		{"VersionChangesOnEveryWrite", metaTestVersionChanges},
		{"PutConditions", metaTestPutConditions},
		{"DeleteConditions", metaTestDeleteConditions},
		{"RecreatedItemNeverReusesVersion", metaTestRecreate},
		{"AddCreatesAndAccumulates", metaTestAdd},
		{"AddKeepsValue", metaTestAddKeepsValue},
		{"AddConcurrentLosesNoUpdate", metaTestAddConcurrent},
		{"QuerySortOrder", metaTestQueryOrder},
		{"QueryReturnsWholeItems", metaTestQueryWholeItems},
		{"QueryPrefix", metaTestQueryPrefix},
		{"QueryAfter", metaTestQueryAfter},
		{"QueryReverse", metaTestQueryReverse},
		{"QueryLimit", metaTestQueryLimit},
		{"QueryPaging", metaTestQueryPaging},
		{"QueryPartitionIsolation", metaTestQueryIsolation},
		{"QueryEmptyPartition", metaTestQueryEmpty},
		{"TransactAppliesAll", metaTestTransactApplies},
		{"TransactAllOrNothing", metaTestTransactAllOrNothing},
		{"TransactCheck", metaTestTransactCheck},
		{"TransactAddConditions", metaTestTransactAdd},
		{"AtMostConditions", metaTestAtMost},
		{"ConcurrentAtMostNeverPastBound", metaTestConcurrentAtMost},
		{"TransactSizeAndDuplicates", metaTestTransactLimits},
		{"InvalidKeys", metaTestInvalidKeys},
		{"MaxKeyLenAccepted", metaTestMaxKeyLen},
		{"ValueTooLarge", metaTestValueTooLarge},
		{"ConcurrentIfVersionOneWinner", metaTestConcurrentIfVersion},
		{"ConcurrentTransactOneWinner", metaTestConcurrentTransact},
		{"CancelledContext", metaTestCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// metaBadKeys are keys meta.ValidateKey rejects, by what is wrong with them.
var metaBadKeys = []struct{ name, key string }{
	{"empty", ""},
	{"NUL", "a\x00b"},
	{"invalidUTF8", "a\xffb"},
	{"truncatedUTF8", "\xc3"},
	{"tooLong", strings.Repeat("k", meta.MaxKeyLen+1)},
}

func metaPut(t *testing.T, s meta.Store, it meta.Item, c meta.Cond) int64 {
	t.Helper()
	v, err := s.Put(context.Background(), it, c)
	if err != nil {
		t.Fatalf("Put(%q, %q): %v", it.PK, it.SK, err)
	}
	return v
}

func metaGet(t *testing.T, s meta.Store, pk, sk string) meta.Item {
	t.Helper()
	it, err := s.Get(context.Background(), pk, sk)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", pk, sk, err)
	}
	return it
}

func metaMustBeMissing(t *testing.T, s meta.Store, pk, sk string) {
	t.Helper()
	if it, err := s.Get(context.Background(), pk, sk); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %+v, %v; want ErrNotFound", pk, sk, it, err)
	}
}

// metaSame compares two items at the precision every store keeps: Value
// bytes (nil and empty alike), N, Version and ExpiresAt to the second.
func metaSame(got, want meta.Item) error {
	switch {
	case got.PK != want.PK || got.SK != want.SK:
		return fmt.Errorf("key (%q, %q), want (%q, %q)", got.PK, got.SK, want.PK, want.SK)
	case string(got.Value) != string(want.Value):
		return fmt.Errorf("(%q, %q): Value %q, want %q", got.PK, got.SK, metaShort(got.Value), metaShort(want.Value))
	case got.N != want.N:
		return fmt.Errorf("(%q, %q): N %d, want %d", got.PK, got.SK, got.N, want.N)
	case got.Version != want.Version:
		return fmt.Errorf("(%q, %q): Version %d, want %d", got.PK, got.SK, got.Version, want.Version)
	case got.ExpiresAt.IsZero() != want.ExpiresAt.IsZero():
		return fmt.Errorf("(%q, %q): ExpiresAt %v, want %v", got.PK, got.SK, got.ExpiresAt, want.ExpiresAt)
	case !want.ExpiresAt.IsZero() && got.ExpiresAt.Unix() != want.ExpiresAt.Unix():
		return fmt.Errorf("(%q, %q): ExpiresAt %v, want %v (to the second)", got.PK, got.SK, got.ExpiresAt, want.ExpiresAt)
	}
	return nil
}

func metaShort(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func metaCheckItem(t *testing.T, s meta.Store, want meta.Item) {
	t.Helper()
	if err := metaSame(metaGet(t, s, want.PK, want.SK), want); err != nil {
		t.Fatal(err)
	}
}

// metaFill writes items with the given sort keys to partition pk, in
// transactions of up to MaxTxOps puts.
func metaFill(t *testing.T, s meta.Store, pk string, sks []string) {
	t.Helper()
	// Single conditional puts from a few goroutines rather than big
	// transactions: emulators copy a whole table per transaction item, which
	// makes filling quadratic there, and puts are what every store serves
	// fastest.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(sks); i += 8 {
				if _, err := s.Put(context.Background(), meta.Item{PK: pk, SK: sks[i], Value: []byte("v:" + sks[i])}, meta.MustNew); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("filling %q: %v", pk, err)
	}
}

// metaSKs returns the sort keys of items.
func metaSKs(items []meta.Item) []string {
	sks := make([]string, len(items))
	for i, it := range items {
		sks[i] = it.SK
	}
	return sks
}

// metaQueryAll pages through a query to its end and returns every sort key
// seen, checking on the way that no page is longer than the limit or holds
// another partition's items. A Next of "" before the end shows up as missing
// keys in the caller's comparison.
func metaQueryAll(t *testing.T, s meta.Store, pk string, o meta.QueryOpts) []string {
	t.Helper()
	limit := o.Limit
	if limit == 0 {
		limit = meta.MaxPageLimit
	}
	var all []string
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("Query(%q, %+v): no end after %d pages", pk, o, pages)
		}
		pg, err := s.Query(context.Background(), pk, o)
		if err != nil {
			t.Fatalf("Query(%q, %+v): %v", pk, o, err)
		}
		if len(pg.Items) > limit {
			t.Fatalf("Query(%q, %+v): %d items, more than Limit %d", pk, o, len(pg.Items), limit)
		}
		for _, it := range pg.Items {
			if it.PK != pk {
				t.Fatalf("Query(%q, %+v): item of partition %q", pk, o, it.PK)
			}
		}
		all = append(all, metaSKs(pg.Items)...)
		if pg.Next == "" {
			return all
		}
		o.After = pg.Next
	}
}

func metaEqual(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// metaVersions is the history of one key's versions, for checking what the
// contract promises of them: every Put or Add gives a positive version the
// key never had, even before a delete, and Get returns the latest.
type metaVersions struct {
	pk, sk string
	all    []int64 // every version given, oldest first
}

// saw records v as the version a write gave.
func (h *metaVersions) saw(t *testing.T, what string, v int64) int64 {
	t.Helper()
	if v <= 0 {
		t.Fatalf("%s (%q, %q): version %d, want a positive one", what, metaShort([]byte(h.pk)), h.sk, v)
	}
	if i := slices.Index(h.all, v); i >= 0 {
		t.Fatalf("%s (%q, %q): version %d, which write %d of %d to this key already gave (versions so far %v)",
			what, metaShort([]byte(h.pk)), h.sk, v, i+1, len(h.all), h.all)
	}
	h.all = append(h.all, v)
	return v
}

// put records the version a Put returned and checks that Get returns it.
func (h *metaVersions) put(t *testing.T, s meta.Store, what string, v int64) int64 {
	t.Helper()
	h.saw(t, what, v)
	if got := metaGet(t, s, h.pk, h.sk).Version; got != v {
		t.Fatalf("%s (%q, %q) returned version %d, but Get returns %d", what, metaShort([]byte(h.pk)), h.sk, v, got)
	}
	return v
}

// wrote records the version of a write that returns none (Add, Transact),
// as Get returns it.
func (h *metaVersions) wrote(t *testing.T, s meta.Store, what string) int64 {
	t.Helper()
	return h.saw(t, what, metaGet(t, s, h.pk, h.sk).Version)
}

// cur is the version of the latest write.
func (h *metaVersions) cur() int64 { return h.all[len(h.all)-1] }

// stale returns versions at which an IfVersion condition on the item must
// fail: every earlier version of its key, and made-up ones.
func (h *metaVersions) stale() []int64 {
	return metaOtherVersions(h.cur(), h.all[:len(h.all)-1]...)
}

// metaOtherVersions returns the earlier versions given and some made-up
// values, all different from v: its neighbours (whatever a version is, it is
// not one more or one less than itself), zero, negatives and the extremes.
func metaOtherVersions(v int64, earlier ...int64) []int64 {
	var out []int64
	for _, o := range append(slices.Clone(earlier), v+1, v-1, 0, -1, -v, math.MaxInt64, math.MinInt64) {
		if o != v && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// metaOnlyCurrentHolds checks, writing nothing, that a condition on h's item
// holds at its current version and at no other.
func metaOnlyCurrentHolds(t *testing.T, s meta.Store, h *metaVersions) {
	t.Helper()
	if err := s.Transact(context.Background(), []meta.Op{meta.Check(h.pk, h.sk, meta.AtVersion(h.cur()))}); err != nil {
		t.Fatalf("Check at the current version %d: %v", h.cur(), err)
	}
	for _, v := range h.stale() {
		metaTxFails(t, s, fmt.Sprintf("Check at version %d (current %d)", v, h.cur()), meta.Check(h.pk, h.sk, meta.AtVersion(v)))
	}
}

// metaTxFails checks that op fails its condition in a transaction, with a
// put of another item that must then not happen.
func metaTxFails(t *testing.T, s meta.Store, what string, op meta.Op) {
	t.Helper()
	err := s.Transact(context.Background(), []meta.Op{meta.Put(meta.Item{PK: "marker", SK: "m"}, meta.NoCond), op})
	var txErr *meta.TxError
	if !errors.As(err, &txErr) || txErr.Index != 1 || !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("%s: Transact = %v, want a TxError at index 1", what, err)
	}
	metaMustBeMissing(t, s, "marker", "m")
}

// metaCheckWritten checks the item at want's key after a write that returns
// no version (an Add, a transaction): it must be want but for its version,
// which must be positive and none of earlier. It returns the version.
func metaCheckWritten(t *testing.T, s meta.Store, want meta.Item, earlier ...int64) int64 {
	t.Helper()
	got := metaGet(t, s, want.PK, want.SK)
	if got.Version <= 0 || slices.Contains(earlier, got.Version) {
		t.Fatalf("(%q, %q): version %d after a write, want a positive one other than %v", want.PK, want.SK, got.Version, earlier)
	}
	want.Version = got.Version
	if err := metaSame(got, want); err != nil {
		t.Fatal(err)
	}
	return got.Version
}

func metaTestGetMissing(t *testing.T, s meta.Store) {
	metaMustBeMissing(t, s, "p", "missing")
	metaPut(t, s, meta.Item{PK: "p", SK: "there"}, meta.NoCond)
	metaMustBeMissing(t, s, "p", "missing")
	metaMustBeMissing(t, s, "q", "there")
}

func metaTestRoundTrip(t *testing.T, s meta.Store) {
	exp := time.Now().Add(48 * time.Hour).Truncate(time.Second).Add(700 * time.Millisecond)
	cases := []meta.Item{
		{PK: "p", SK: "full", Value: []byte(`{"name":"x"}`), N: -42, ExpiresAt: exp},
		{PK: "p", SK: "empty"},
		{PK: "p", SK: "binary", Value: []byte{0, 1, 2, 0xff, 0}, N: 1 << 62},
		{PK: "p", SK: "big", Value: []byte(strings.Repeat("x", meta.MaxValueLen))},
		{PK: "ünï/cödé 日本", SK: "ключ 🔑"},
	}
	for _, it := range cases {
		h := &metaVersions{pk: it.PK, sk: it.SK}
		it.Version = h.put(t, s, "Put", metaPut(t, s, it, meta.NoCond))
		metaCheckItem(t, s, it)
	}
}

func metaTestPutIgnoresVersion(t *testing.T, s meta.Store) {
	ctx := context.Background()
	h := &metaVersions{pk: "p", sk: "s"}
	// A version is never negative, so a store that kept this one shows it.
	h.put(t, s, "Put with Version -1 on input", metaPut(t, s, meta.Item{PK: "p", SK: "s", Version: -1}, meta.NoCond))
	// Nor may a write leave the version it replaces.
	h.put(t, s, "Put with the current Version on input", metaPut(t, s, meta.Item{PK: "p", SK: "s", Version: h.cur()}, meta.NoCond))
	if err := s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "s", Version: h.cur()}, meta.NoCond)}); err != nil {
		t.Fatal(err)
	}
	h.wrote(t, s, "transaction put with the current Version on input")
	if err := s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "new", Version: -1}, meta.MustNew)}); err != nil {
		t.Fatal(err)
	}
	(&metaVersions{pk: "p", sk: "new"}).wrote(t, s, "transaction put with Version -1 on input")
}

func metaTestValueIsCopied(t *testing.T, s meta.Store) {
	// Some bulk first, so that a store that maps its file into memory reads
	// from the map rather than from a tiny copied root (as bbolt's inline
	// buckets are).
	for i := range 4 {
		metaPut(t, s, meta.Item{PK: "bulk", SK: fmt.Sprint(i), Value: make([]byte, 8<<10)}, meta.NoCond)
	}
	in := []byte("original")
	metaPut(t, s, meta.Item{PK: "p", SK: "s", Value: in}, meta.NoCond)
	copy(in, "XXXXXXXX")
	got := metaGet(t, s, "p", "s")
	if string(got.Value) != "original" {
		t.Fatalf("changing the slice given to Put changed the stored value to %q", got.Value)
	}
	copy(got.Value, "YYYYYYYY")
	if again := metaGet(t, s, "p", "s"); string(again.Value) != "original" {
		t.Fatalf("changing the slice Get returned changed the stored value to %q", again.Value)
	}
}

// metaTestVersionChanges writes one item in every way there is, checking
// after each write that it gave a version the key never had, that Get
// returns it, and that only it satisfies IfVersion.
func metaTestVersionChanges(t *testing.T, s meta.Store) {
	ctx := context.Background()
	h := &metaVersions{pk: "p", sk: "s"}
	// step checks a write: it changed the version to one never seen (which
	// v is, unless 0: a write that returns none), and the condition moved
	// on with it.
	step := func(what string, v int64) {
		t.Helper()
		prev := int64(0)
		if len(h.all) > 0 {
			prev = h.cur()
		}
		if v != 0 {
			h.put(t, s, what, v)
		} else {
			h.wrote(t, s, what)
		}
		if err := s.Transact(ctx, []meta.Op{meta.Check("p", "s", meta.AtVersion(h.cur()))}); err != nil {
			t.Fatalf("after %s: Check at the new version %d: %v", what, h.cur(), err)
		}
		if prev != 0 {
			metaTxFails(t, s, fmt.Sprintf("after %s: Check at the version before it, %d", what, prev),
				meta.Check("p", "s", meta.AtVersion(prev)))
		}
	}
	tx := func(op meta.Op) {
		t.Helper()
		if err := s.Transact(ctx, []meta.Op{op}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(delta int64) {
		t.Helper()
		if _, err := s.Add(ctx, "p", "s", delta); err != nil {
			t.Fatal(err)
		}
	}
	step("create", metaPut(t, s, meta.Item{PK: "p", SK: "s", Value: []byte("a")}, meta.MustNew))
	step("put", metaPut(t, s, meta.Item{PK: "p", SK: "s", Value: []byte("b")}, meta.NoCond))
	add(5)
	step("add", 0)
	step("put at version", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.AtVersion(h.cur())))
	step("put of the same item", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.MustLive))
	add(0)
	step("add of 0", 0)
	tx(meta.Put(meta.Item{PK: "p", SK: "s"}, meta.NoCond))
	step("put in a transaction", 0)
	tx(meta.Put(meta.Item{PK: "p", SK: "s"}, meta.AtVersion(h.cur())))
	step("put at version in a transaction", 0)
	tx(meta.Add("p", "s", 1, meta.NoCond))
	step("add in a transaction", 0)
	tx(meta.Add("p", "s", 0, meta.AtVersion(h.cur())))
	step("add of 0 at version in a transaction", 0)

	// What writes nothing leaves the version alone.
	tx(meta.Check("p", "s", meta.MustLive))
	for _, v := range h.stale() {
		if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s"}, meta.AtVersion(v)); !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("Put at version %d (current %d): %v, want ErrConflict", v, h.cur(), err)
		}
	}
	if it := metaGet(t, s, "p", "s"); it.Version != h.cur() {
		t.Fatalf("a check and failed puts changed the version from %d to %d", h.cur(), it.Version)
	}
	metaOnlyCurrentHolds(t, s, h)
}

func metaTestPutConditions(t *testing.T, s meta.Store) {
	ctx := context.Background()
	orig := meta.Item{PK: "p", SK: "s", Value: []byte("orig"), N: 7}
	attempt := meta.Item{PK: "p", SK: "s", Value: []byte("changed"), N: 8}
	conflict := func(what string, it meta.Item, c meta.Cond) {
		t.Helper()
		if v, err := s.Put(ctx, it, c); !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("Put of %s with %+v = %d, %v; want ErrConflict", what, c, v, err)
		}
	}

	// On a missing item.
	for _, c := range []meta.Cond{meta.MustLive, meta.AtVersion(1), meta.AtVersion(0), meta.AtVersion(-1)} {
		conflict("a missing item", attempt, c)
		metaMustBeMissing(t, s, "p", "s")
	}
	h := &metaVersions{pk: "p", sk: "s"}
	orig.Version = h.put(t, s, "Put MustNew", metaPut(t, s, orig, meta.MustNew))

	// On an existing item: failures change nothing.
	conflict("an existing item", attempt, meta.MustNew)
	metaCheckItem(t, s, orig)
	for _, v := range h.stale() {
		conflict("an existing item", attempt, meta.AtVersion(v))
		metaCheckItem(t, s, orig)
	}

	// And successes.
	attempt.Version = h.put(t, s, "Put at the current version", metaPut(t, s, attempt, meta.AtVersion(orig.Version)))
	metaCheckItem(t, s, attempt)
	conflict("an item written since", orig, meta.AtVersion(orig.Version))
	metaCheckItem(t, s, attempt)
	orig.Version = h.put(t, s, "Put MustLive", metaPut(t, s, orig, meta.MustLive))
	metaCheckItem(t, s, orig)
	attempt.Version = h.put(t, s, "Put NoCond", metaPut(t, s, attempt, meta.NoCond))
	metaCheckItem(t, s, attempt)
	for _, v := range h.stale() {
		conflict("an item written since", orig, meta.AtVersion(v))
	}
	metaCheckItem(t, s, attempt)
}

func metaTestDeleteConditions(t *testing.T, s meta.Store) {
	ctx := context.Background()
	conflict := func(what string, c meta.Cond) {
		t.Helper()
		if err := s.Delete(ctx, "p", "s", c); !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("Delete of %s with %+v = %v; want ErrConflict", what, c, err)
		}
	}
	// Missing item.
	if err := s.Delete(ctx, "p", "s", meta.NoCond); err != nil {
		t.Fatalf("Delete of a missing item with NoCond: %v", err)
	}
	if err := s.Delete(ctx, "p", "s", meta.MustNew); err != nil {
		t.Fatalf("Delete of a missing item with IfAbsent: %v", err)
	}
	for _, c := range []meta.Cond{meta.MustLive, meta.AtVersion(1), meta.AtVersion(0)} {
		conflict("a missing item", c)
	}
	metaMustBeMissing(t, s, "p", "s")

	// Existing item: failures leave it in place.
	h := &metaVersions{pk: "p", sk: "s"}
	it := meta.Item{PK: "p", SK: "s", Value: []byte("keep"), N: 3}
	h.put(t, s, "first Put", metaPut(t, s, it, meta.NoCond))
	it.Version = h.put(t, s, "second Put", metaPut(t, s, it, meta.NoCond))
	conflict("an existing item", meta.MustNew)
	metaCheckItem(t, s, it)
	for _, v := range h.stale() {
		conflict("an existing item", meta.AtVersion(v))
		metaCheckItem(t, s, it)
	}
	if err := s.Delete(ctx, "p", "s", meta.AtVersion(it.Version)); err != nil {
		t.Fatalf("Delete at the current version: %v", err)
	}
	metaMustBeMissing(t, s, "p", "s")
	conflict("an item deleted at this version", meta.AtVersion(it.Version))

	h.put(t, s, "Put after a delete", metaPut(t, s, it, meta.NoCond))
	if err := s.Delete(ctx, "p", "s", meta.MustLive); err != nil {
		t.Fatalf("Delete MustLive: %v", err)
	}
	metaMustBeMissing(t, s, "p", "s")

	h.put(t, s, "Put after a second delete", metaPut(t, s, it, meta.NoCond))
	if err := s.Delete(ctx, "p", "s", meta.NoCond); err != nil {
		t.Fatalf("Delete NoCond: %v", err)
	}
	metaMustBeMissing(t, s, "p", "s")
}

// metaTestRecreate is the ABA case: a writer that read a version of an item
// must never find its IfVersion condition holding against a later item of
// the same key, created after the first was deleted. Each way of writing
// gets a key of its own, written, deleted and created again in turn with
// each way of deleting; then every condition at an old version must fail
// against the item created last.
func metaTestRecreate(t *testing.T, s meta.Store) {
	ctx := context.Background()
	tx := func(t *testing.T, op meta.Op) {
		t.Helper()
		if err := s.Transact(ctx, []meta.Op{op}); err != nil {
			t.Fatalf("Transact(%+v): %v", op, err)
		}
	}
	cond := func(create bool) meta.Cond {
		if create {
			return meta.MustNew
		}
		return meta.MustLive
	}
	for _, w := range []struct {
		name  string
		write func(t *testing.T, h *metaVersions, create bool)
	}{
		{"Put", func(t *testing.T, h *metaVersions, create bool) {
			t.Helper()
			h.put(t, s, "Put", metaPut(t, s, meta.Item{PK: h.pk, SK: h.sk, Value: []byte("v")}, cond(create)))
		}},
		{"Add", func(t *testing.T, h *metaVersions, create bool) {
			t.Helper()
			if _, err := s.Add(ctx, h.pk, h.sk, 1); err != nil {
				t.Fatal(err)
			}
			h.wrote(t, s, "Add")
		}},
		{"TransactPut", func(t *testing.T, h *metaVersions, create bool) {
			t.Helper()
			tx(t, meta.Put(meta.Item{PK: h.pk, SK: h.sk, Value: []byte("v")}, cond(create)))
			h.wrote(t, s, "transaction put")
		}},
		{"TransactAdd", func(t *testing.T, h *metaVersions, create bool) {
			t.Helper()
			tx(t, meta.Add(h.pk, h.sk, 1, cond(create)))
			h.wrote(t, s, "transaction add")
		}},
	} {
		t.Run(w.name, func(t *testing.T) {
			h := &metaVersions{pk: "p", sk: w.name}
			for _, del := range []struct {
				name string
				fn   func() error
			}{
				{"Delete", func() error { return s.Delete(ctx, h.pk, h.sk, meta.NoCond) }},
				{"Delete at version", func() error { return s.Delete(ctx, h.pk, h.sk, meta.AtVersion(h.cur())) }},
				{"transaction delete", func() error {
					return s.Transact(ctx, []meta.Op{meta.Delete(h.pk, h.sk, meta.AtVersion(h.cur()))})
				}},
			} {
				w.write(t, h, true)
				w.write(t, h, false)
				if err := del.fn(); err != nil {
					t.Fatalf("%s: %v", del.name, err)
				}
				metaMustBeMissing(t, s, h.pk, h.sk)
			}
			w.write(t, h, true) // h checks that it is a version never seen

			item := metaGet(t, s, h.pk, h.sk)
			for _, old := range h.all[:len(h.all)-1] {
				at := meta.AtVersion(old)
				what := fmt.Sprintf("at version %d of an earlier item (the item is at %d)", old, item.Version)
				if _, err := s.Put(ctx, meta.Item{PK: h.pk, SK: h.sk, Value: []byte("lost")}, at); !errors.Is(err, meta.ErrConflict) {
					t.Fatalf("Put %s: %v, want ErrConflict", what, err)
				}
				if err := s.Delete(ctx, h.pk, h.sk, at); !errors.Is(err, meta.ErrConflict) {
					t.Fatalf("Delete %s: %v, want ErrConflict", what, err)
				}
				metaTxFails(t, s, "transaction add "+what, meta.Add(h.pk, h.sk, 1, at))
				metaTxFails(t, s, "transaction check "+what, meta.Check(h.pk, h.sk, at))
			}
			metaCheckItem(t, s, item)

			// The current version still holds, for every kind of write.
			tx(t, meta.Check(h.pk, h.sk, meta.AtVersion(h.cur())))
			tx(t, meta.Add(h.pk, h.sk, 1, meta.AtVersion(h.cur())))
			h.wrote(t, s, "transaction add at the current version")
			h.put(t, s, "Put at the current version", metaPut(t, s, meta.Item{PK: h.pk, SK: h.sk}, meta.AtVersion(h.cur())))
			if err := s.Delete(ctx, h.pk, h.sk, meta.AtVersion(h.cur())); err != nil {
				t.Fatalf("Delete at the current version: %v", err)
			}
			metaMustBeMissing(t, s, h.pk, h.sk)
		})
	}
}

func metaTestAdd(t *testing.T, s meta.Store) {
	ctx := context.Background()
	h := &metaVersions{pk: "usage#u", sk: "bytes"}
	for _, step := range []struct{ delta, want int64 }{{5, 5}, {10, 15}, {-20, -5}, {0, -5}, {5, 0}} {
		n, err := s.Add(ctx, "usage#u", "bytes", step.delta)
		if err != nil {
			t.Fatalf("Add(%d): %v", step.delta, err)
		}
		if n != step.want {
			t.Fatalf("Add(%d) = %d, want %d", step.delta, n, step.want)
		}
		v := h.wrote(t, s, fmt.Sprintf("Add(%d)", step.delta))
		metaCheckItem(t, s, meta.Item{PK: "usage#u", SK: "bytes", N: step.want, Version: v})
	}
	// A missing counter created by a negative delta starts from zero.
	if n, err := s.Add(ctx, "usage#u", "other", -3); err != nil || n != -3 {
		t.Fatalf("Add(-3) on a missing counter = %d, %v; want -3", n, err)
	}
}

func metaTestAddKeepsValue(t *testing.T, s meta.Store) {
	exp := time.Now().Add(time.Hour)
	it := meta.Item{PK: "blob#1", SK: "blob", Value: []byte("wrapped key"), N: 1, ExpiresAt: exp}
	h := &metaVersions{pk: it.PK, sk: it.SK}
	h.put(t, s, "Put", metaPut(t, s, it, meta.MustNew))
	n, err := s.Add(context.Background(), it.PK, it.SK, 2)
	if err != nil || n != 3 {
		t.Fatalf("Add = %d, %v; want 3", n, err)
	}
	it.N, it.Version = 3, h.wrote(t, s, "Add")
	metaCheckItem(t, s, it)
}

func metaTestAddConcurrent(t *testing.T, s meta.Store) {
	const workers, each = 8, 50
	ctx := context.Background()
	if _, err := s.Add(ctx, "usage#u", "bytes", 1); err != nil {
		t.Fatal(err)
	}
	first := metaGet(t, s, "usage#u", "bytes").Version
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if _, err := s.Add(ctx, "usage#u", "bytes", 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Add: %v", err)
	}
	if it := metaGet(t, s, "usage#u", "bytes"); it.N != 1+workers*each || it.Version <= 0 || it.Version == first {
		t.Fatalf("after %d Adds of 1: N %d Version %d (the first Add gave %d)", 1+workers*each, it.N, it.Version, first)
	}
}

// metaOrderKeys share prefixes and reach outside ASCII, so that only byte
// order puts them in the right order. Go compares strings bytewise, which is
// what sort.Strings and slices.Sort use.
var metaOrderKeys = []string{
	"e#a", "e#a#", "e#ab", "e#a#b", "e#", "e#b", "e#a ", "e#a\x01",
	"E#a", "f", "e", "~", "é", "e#é", "e#日本", "e#\U0001F600", "e#z", "e#Z",
	"e#a\u00ff", "e#a\u07ff", "e#a\uffff", "0", "e#10", "e#9", "e#1",
}

func metaTestQueryOrder(t *testing.T, s meta.Store) {
	keys := slices.Clone(metaOrderKeys)
	// Write them out of order.
	slices.Reverse(keys)
	keys[0], keys[len(keys)/2] = keys[len(keys)/2], keys[0]
	metaFill(t, s, "p", keys)
	want := slices.Sorted(slices.Values(metaOrderKeys))
	metaEqual(t, "forward order", metaQueryAll(t, s, "p", meta.QueryOpts{}), want)
	slices.Reverse(want)
	metaEqual(t, "reverse order", metaQueryAll(t, s, "p", meta.QueryOpts{Reverse: true}), want)
}

func metaTestQueryWholeItems(t *testing.T, s meta.Store) {
	exp := time.Now().Add(time.Hour)
	a := meta.Item{PK: "p", SK: "a", Value: []byte("va"), N: 9, ExpiresAt: exp}
	b := meta.Item{PK: "p", SK: "b", Value: []byte("vb")}
	a.Version = metaPut(t, s, a, meta.NoCond)
	metaPut(t, s, b, meta.NoCond)
	b.Version = metaPut(t, s, b, meta.NoCond)
	pg, err := s.Query(context.Background(), "p", meta.QueryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 2 {
		t.Fatalf("Query returned %d items, want 2", len(pg.Items))
	}
	for i, want := range []meta.Item{a, b} {
		if err := metaSame(pg.Items[i], want); err != nil {
			t.Fatalf("Query item %d: %v", i, err)
		}
	}
}

func metaTestQueryPrefix(t *testing.T, s meta.Store) {
	metaFill(t, s, "p", metaOrderKeys)
	for _, prefix := range []string{"e#a", "e#a#", "e#", "e", "é", "e#日", "x", "e#a\u00ff", "e#ab#"} {
		var want []string
		for _, k := range slices.Sorted(slices.Values(metaOrderKeys)) {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		got := metaQueryAll(t, s, "p", meta.QueryOpts{Prefix: prefix})
		metaEqual(t, fmt.Sprintf("Prefix %q", prefix), got, want)
		got = metaQueryAll(t, s, "p", meta.QueryOpts{Prefix: prefix, Limit: 2})
		metaEqual(t, fmt.Sprintf("Prefix %q, Limit 2", prefix), got, want)

		// Reverse must start at the last key with the prefix, not at the
		// first key past it and not at the end of the partition.
		slices.Reverse(want)
		got = metaQueryAll(t, s, "p", meta.QueryOpts{Prefix: prefix, Reverse: true})
		metaEqual(t, fmt.Sprintf("Prefix %q, Reverse", prefix), got, want)
		got = metaQueryAll(t, s, "p", meta.QueryOpts{Prefix: prefix, Reverse: true, Limit: 1})
		metaEqual(t, fmt.Sprintf("Prefix %q, Reverse, Limit 1", prefix), got, want)
	}
}

func metaTestQueryAfter(t *testing.T, s meta.Store) {
	metaFill(t, s, "p", metaOrderKeys)
	sorted := slices.Sorted(slices.Values(metaOrderKeys))
	for _, tc := range []struct{ prefix, after string }{
		{"", "e#a"}, {"", "e#a#"}, {"", "e#aa"}, {"", "0"}, {"", "/"}, {"", "~"}, {"", "\U0010FFFF"},
		{"e#a", "e#a"}, {"e#a", "e#a#"}, {"e#a", "d"}, {"e#a", "f"}, {"e#", "e#b"}, {"e#", "e#c"},
	} {
		var fwd, rev []string
		for _, k := range sorted {
			if !strings.HasPrefix(k, tc.prefix) {
				continue
			}
			if k > tc.after {
				fwd = append(fwd, k)
			}
			if k < tc.after {
				rev = append(rev, k)
			}
		}
		slices.Reverse(rev)
		o := meta.QueryOpts{Prefix: tc.prefix, After: tc.after}
		metaEqual(t, fmt.Sprintf("%+v", o), metaQueryAll(t, s, "p", o), fwd)
		o.Reverse = true
		metaEqual(t, fmt.Sprintf("%+v (strictly before)", o), metaQueryAll(t, s, "p", o), rev)
	}
}

func metaTestQueryReverse(t *testing.T, s meta.Store) {
	// Neighbouring partitions on both sides, so a reverse walk that starts
	// in the wrong place shows it.
	metaFill(t, s, "dir#0", []string{"e#z"})
	metaFill(t, s, "dir#1", []string{"e#a", "e#b", "e#c", "v#1"})
	metaFill(t, s, "dir#10", []string{"e#0", "e#a"})
	metaFill(t, s, "dir#2", []string{"a"})
	for _, tc := range []struct {
		o    meta.QueryOpts
		want []string
	}{
		{meta.QueryOpts{Reverse: true}, []string{"v#1", "e#c", "e#b", "e#a"}},
		{meta.QueryOpts{Reverse: true, Prefix: "e#"}, []string{"e#c", "e#b", "e#a"}},
		{meta.QueryOpts{Reverse: true, Prefix: "e#", After: "e#c"}, []string{"e#b", "e#a"}},
		{meta.QueryOpts{Reverse: true, Prefix: "e#", After: "e#bb"}, []string{"e#b", "e#a"}},
		{meta.QueryOpts{Reverse: true, Prefix: "e#", After: "e#a"}, nil},
		{meta.QueryOpts{Reverse: true, Prefix: "e#", After: "z"}, []string{"e#c", "e#b", "e#a"}},
		{meta.QueryOpts{Reverse: true, Prefix: "v#"}, []string{"v#1"}},
		{meta.QueryOpts{Reverse: true, Prefix: "w"}, nil},
		{meta.QueryOpts{Reverse: true, Prefix: "a"}, nil},
		{meta.QueryOpts{Reverse: true, After: "e#b"}, []string{"e#a"}},
	} {
		metaEqual(t, fmt.Sprintf("dir#1 %+v", tc.o), metaQueryAll(t, s, "dir#1", tc.o), tc.want)
		tc.o.Limit = 1
		metaEqual(t, fmt.Sprintf("dir#1 %+v", tc.o), metaQueryAll(t, s, "dir#1", tc.o), tc.want)
	}
}

func metaTestQueryLimit(t *testing.T, s meta.Store) {
	ctx := context.Background()
	keys := []string{"a", "b", "c", "d", "e"}
	metaFill(t, s, "p", keys)
	for _, limit := range []int{1, 2, 4, 5, 6, meta.MaxPageLimit} {
		metaEqual(t, fmt.Sprintf("Limit %d", limit), metaQueryAll(t, s, "p", meta.QueryOpts{Limit: limit}), keys)
	}
	pg, err := s.Query(ctx, "p", meta.QueryOpts{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) > 2 || pg.Next == "" {
		t.Fatalf("Limit 2 of 5 items: %d items, Next %q; want at most 2 and a Next", len(pg.Items), pg.Next)
	}
	for _, limit := range []int{-1, meta.MaxPageLimit + 1} {
		if _, err := s.Query(ctx, "p", meta.QueryOpts{Limit: limit}); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("Query with Limit %d: %v, want ErrInvalid", limit, err)
		}
	}
}

func metaTestQueryPaging(t *testing.T, s meta.Store) {
	// More than one page of the largest limit, and many of a small one.
	const n = 1500
	keys := make([]string, n)
	for i := range keys {
		// Not zero-padded, so numeric and byte order differ.
		keys[i] = fmt.Sprintf("e#%d", i*7919%n)
	}
	metaFill(t, s, "dir#1", keys)
	metaFill(t, s, "dir#10", []string{"e#0", "e#1"})
	metaFill(t, s, "dir#", []string{"e#0"})
	slices.Sort(keys)
	rev := slices.Clone(keys)
	slices.Reverse(rev)
	for _, o := range []meta.QueryOpts{
		{}, {Limit: 37}, {Limit: 1000}, {Prefix: "e#"}, {Limit: 999, Prefix: "e#"},
		{Reverse: true}, {Reverse: true, Limit: 37}, {Reverse: true, Prefix: "e#", Limit: 1000},
	} {
		want := keys
		if o.Reverse {
			want = rev
		}
		got := metaQueryAll(t, s, "dir#1", o)
		if len(got) != n {
			t.Fatalf("paging %+v visited %d items, want %d", o, len(got), n)
		}
		metaEqual(t, fmt.Sprintf("paging %+v", o), got, want)
	}
}

func metaTestQueryIsolation(t *testing.T, s meta.Store) {
	parts := map[string][]string{
		"dir":     {"a", "z"},
		"dir#":    {"a", "z"},
		"dir#1":   {"a", "m", "z"},
		"dir#1#":  {"a"},
		"dir#10":  {"a", "b", "z"},
		"dir#100": {"y"},
		"dir#2":   {"a"},
		"dir#0":   {"z"},
		"dir#1 ":  {"a"},
		"dir#1é":  {"é"},
	}
	for pk, sks := range parts {
		metaFill(t, s, pk, sks)
	}
	for pk, want := range parts {
		rev := slices.Clone(want)
		slices.Reverse(rev)
		metaEqual(t, fmt.Sprintf("partition %q", pk), metaQueryAll(t, s, pk, meta.QueryOpts{}), want)
		metaEqual(t, fmt.Sprintf("partition %q, Limit 1", pk), metaQueryAll(t, s, pk, meta.QueryOpts{Limit: 1}), want)
		metaEqual(t, fmt.Sprintf("partition %q, Reverse", pk), metaQueryAll(t, s, pk, meta.QueryOpts{Reverse: true}), rev)
		metaEqual(t, fmt.Sprintf("partition %q, Reverse, Limit 1", pk), metaQueryAll(t, s, pk, meta.QueryOpts{Reverse: true, Limit: 1}), rev)
	}
	for _, pk := range []string{"di", "dir#3", "dir#11", "dir#1#a", "e"} {
		metaEqual(t, fmt.Sprintf("absent partition %q", pk), metaQueryAll(t, s, pk, meta.QueryOpts{}), nil)
		metaEqual(t, fmt.Sprintf("absent partition %q, Reverse", pk), metaQueryAll(t, s, pk, meta.QueryOpts{Reverse: true}), nil)
	}
	// A sort key is not confused with the continuation of a partition key.
	metaMustBeMissing(t, s, "dir#1", "0")
	metaMustBeMissing(t, s, "dir#", "1")
}

func metaTestQueryEmpty(t *testing.T, s meta.Store) {
	ctx := context.Background()
	check := func(when string) {
		t.Helper()
		for _, o := range []meta.QueryOpts{{}, {Reverse: true}, {Prefix: "e#"}, {After: "a"}, {After: "a", Reverse: true}} {
			pg, err := s.Query(ctx, "p", o)
			if err != nil {
				t.Fatalf("%s: Query(%+v): %v", when, o, err)
			}
			if len(pg.Items) != 0 || pg.Next != "" {
				t.Fatalf("%s: Query(%+v) = %d items, Next %q; want none and \"\"", when, o, len(pg.Items), pg.Next)
			}
		}
	}
	check("never written")
	metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.NoCond)
	if err := s.Delete(ctx, "p", "s", meta.NoCond); err != nil {
		t.Fatal(err)
	}
	check("emptied")
}

func metaTestTransactApplies(t *testing.T, s meta.Store) {
	ctx := context.Background()
	vOld := metaPut(t, s, meta.Item{PK: "p", SK: "old", Value: []byte("old")}, meta.NoCond)
	metaPut(t, s, meta.Item{PK: "p", SK: "gone"}, meta.NoCond)
	vN := metaPut(t, s, meta.Item{PK: "c", SK: "n", N: 10, Value: []byte("counter")}, meta.NoCond)
	exp := time.Now().Add(time.Hour)
	err := s.Transact(ctx, []meta.Op{
		meta.Put(meta.Item{PK: "p", SK: "new", Value: []byte("new"), N: 4, ExpiresAt: exp}, meta.MustNew),
		meta.Put(meta.Item{PK: "p", SK: "old", Value: []byte("replaced")}, meta.AtVersion(vOld)),
		meta.Delete("p", "gone", meta.MustLive),
		meta.Delete("p", "never", meta.NoCond),
		meta.Add("c", "n", -3, meta.NoCond),
		meta.Add("c", "fresh", 2, meta.NoCond),
		meta.Check("p", "other-never", meta.MustNew),
	})
	if err != nil {
		t.Fatalf("Transact: %v", err)
	}
	metaCheckWritten(t, s, meta.Item{PK: "p", SK: "new", Value: []byte("new"), N: 4, ExpiresAt: exp})
	metaCheckWritten(t, s, meta.Item{PK: "p", SK: "old", Value: []byte("replaced")}, vOld)
	metaMustBeMissing(t, s, "p", "gone")
	metaMustBeMissing(t, s, "p", "never")
	metaMustBeMissing(t, s, "p", "other-never")
	metaCheckWritten(t, s, meta.Item{PK: "c", SK: "n", N: 7, Value: []byte("counter")}, vN)
	metaCheckWritten(t, s, meta.Item{PK: "c", SK: "fresh", N: 2})
}

func metaTestTransactAllOrNothing(t *testing.T, s meta.Store) {
	ctx := context.Background()
	a := meta.Item{PK: "p", SK: "a", Value: []byte("a"), N: 1}
	b := meta.Item{PK: "p", SK: "b", Value: []byte("b"), N: 2}
	ha := &metaVersions{pk: "p", sk: "a"}
	earlierA := ha.put(t, s, "first Put of a", metaPut(t, s, a, meta.NoCond))
	a.Version = ha.put(t, s, "second Put of a", metaPut(t, s, a, meta.NoCond))
	b.Version = metaPut(t, s, b, meta.NoCond)

	// Seven operations of every kind; each in turn is made to fail.
	ops := func(fail int) []meta.Op {
		cond := func(i int, ok meta.Cond, bad meta.Cond) meta.Cond {
			if i == fail {
				return bad
			}
			return ok
		}
		return []meta.Op{
			meta.Put(meta.Item{PK: "p", SK: "new", Value: []byte("x")}, cond(0, meta.MustNew, meta.MustLive)),
			meta.Delete("p", "a", cond(1, meta.AtVersion(a.Version), meta.AtVersion(earlierA))),
			meta.Check("q", "x", cond(2, meta.MustNew, meta.MustLive)),
			meta.Add("c", "n", 5, cond(3, meta.NoCond, meta.MustLive)),
			meta.Put(meta.Item{PK: "p", SK: "b", Value: []byte("changed")}, cond(4, meta.MustLive, meta.MustNew)),
			// A version of another item is nothing to a missing one.
			meta.Add("p", "a2", 1, cond(5, meta.MustNew, meta.AtVersion(a.Version))),
			meta.Delete("p", "b2", cond(6, meta.NoCond, meta.MustLive)),
		}
	}
	for fail := range 7 {
		err := s.Transact(ctx, ops(fail))
		var txErr *meta.TxError
		if !errors.As(err, &txErr) {
			t.Fatalf("operation %d failing: Transact = %v, want a *meta.TxError", fail, err)
		}
		if txErr.Index != fail {
			t.Fatalf("operation %d failing: TxError.Index = %d", fail, txErr.Index)
		}
		if !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("operation %d failing: %v does not match ErrConflict", fail, err)
		}
		metaMustBeMissing(t, s, "p", "new")
		metaCheckItem(t, s, a)
		metaMustBeMissing(t, s, "c", "n")
		metaCheckItem(t, s, b)
		metaMustBeMissing(t, s, "p", "a2")
	}
	if err := s.Transact(ctx, ops(-1)); err != nil {
		t.Fatalf("the same transaction with every condition holding: %v", err)
	}
	metaMustBeMissing(t, s, "p", "a")
	metaCheckWritten(t, s, meta.Item{PK: "c", SK: "n", N: 5})
	metaCheckWritten(t, s, meta.Item{PK: "p", SK: "b", Value: []byte("changed")}, b.Version)
}

func metaTestTransactCheck(t *testing.T, s meta.Store) {
	ctx := context.Background()
	h := &metaVersions{pk: "p", sk: "s"}
	h.put(t, s, "first Put", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.NoCond))
	cur := h.put(t, s, "second Put", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.NoCond))
	type check struct {
		sk string
		c  meta.Cond
		ok bool
	}
	checks := []check{
		{"s", meta.NoCond, true},
		{"s", meta.MustLive, true},
		{"s", meta.AtVersion(cur), true},
		{"s", meta.MustNew, false},
		{"missing", meta.NoCond, true},
		{"missing", meta.MustNew, true},
		{"missing", meta.MustLive, false},
		{"missing", meta.AtVersion(1), false},
		{"missing", meta.AtVersion(cur), false},
	}
	for _, v := range h.stale() {
		checks = append(checks, check{"s", meta.AtVersion(v), false})
	}
	for _, tc := range checks {
		err := s.Transact(ctx, []meta.Op{
			meta.Put(meta.Item{PK: "p", SK: "written"}, meta.NoCond),
			meta.Check("p", tc.sk, tc.c),
		})
		var txErr *meta.TxError
		switch {
		case tc.ok && err != nil:
			t.Fatalf("Check(%q, %+v): %v, want success", tc.sk, tc.c, err)
		case !tc.ok && (!errors.As(err, &txErr) || txErr.Index != 1 || !errors.Is(err, meta.ErrConflict)):
			t.Fatalf("Check(%q, %+v): %v, want a TxError at index 1", tc.sk, tc.c, err)
		}
	}
	// A check writes nothing: neither a new version nor an item.
	if it := metaGet(t, s, "p", "s"); it.Version != cur {
		t.Fatalf("checks changed the version from %d to %d", cur, it.Version)
	}
	metaMustBeMissing(t, s, "p", "missing")
}

func metaTestTransactAdd(t *testing.T, s meta.Store) {
	ctx := context.Background()
	tx := func(op meta.Op) error {
		return s.Transact(ctx, []meta.Op{op, meta.Put(meta.Item{PK: "p", SK: "marker"}, meta.NoCond)})
	}
	if err := tx(meta.Add("blob#1", "blob", 1, meta.MustLive)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Add MustLive on a missing item: %v, want ErrConflict", err)
	}
	metaMustBeMissing(t, s, "blob#1", "blob")
	metaMustBeMissing(t, s, "p", "marker")
	if err := tx(meta.Add("blob#1", "blob", 1, meta.AtVersion(1))); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Add AtVersion(1) on a missing item: %v, want ErrConflict", err)
	}
	metaMustBeMissing(t, s, "blob#1", "blob")
	if err := tx(meta.Add("blob#1", "blob", 1, meta.MustNew)); err != nil {
		t.Fatalf("Add MustNew on a missing item: %v", err)
	}
	h := &metaVersions{pk: "blob#1", sk: "blob"}
	h.wrote(t, s, "Add MustNew")
	metaCheckItem(t, s, meta.Item{PK: "blob#1", SK: "blob", N: 1, Version: h.cur()})
	if err := tx(meta.Add("blob#1", "blob", 1, meta.MustNew)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Add MustNew on an existing item: %v, want ErrConflict", err)
	}
	if err := tx(meta.Add("blob#1", "blob", 1, meta.MustLive)); err != nil {
		t.Fatalf("Add MustLive on an existing item: %v", err)
	}
	h.wrote(t, s, "Add MustLive")
	for _, v := range h.stale() {
		if err := tx(meta.Add("blob#1", "blob", 1, meta.AtVersion(v))); !errors.Is(err, meta.ErrConflict) {
			t.Fatalf("Add AtVersion(%d) of an item at version %d: %v, want ErrConflict", v, h.cur(), err)
		}
	}
	metaCheckItem(t, s, meta.Item{PK: "blob#1", SK: "blob", N: 2, Version: h.cur()})
	if err := tx(meta.Add("blob#1", "blob", -2, meta.AtVersion(h.cur()))); err != nil {
		t.Fatalf("Add at the current version: %v", err)
	}
	h.wrote(t, s, "Add at the current version")
	metaCheckItem(t, s, meta.Item{PK: "blob#1", SK: "blob", N: 0, Version: h.cur()})
}

// metaTestAtMost checks IfAtMost: the counter, a missing item counting as 0,
// must be at most Max, on every kind of operation.
func metaTestAtMost(t *testing.T, s meta.Store) {
	ctx := context.Background()
	tx := func(op meta.Op) error {
		return s.Transact(ctx, []meta.Op{op, meta.Put(meta.Item{PK: "p", SK: "marker"}, meta.NoCond)})
	}
	if err := tx(meta.Add("usage#1", "bytes", 5, meta.AtMost(-1))); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Add AtMost(-1) on a missing item (0): %v, want ErrConflict", err)
	}
	metaMustBeMissing(t, s, "usage#1", "bytes")
	metaMustBeMissing(t, s, "p", "marker")
	if err := tx(meta.Add("usage#1", "bytes", 5, meta.AtMost(0))); err != nil {
		t.Fatalf("Add AtMost(0) on a missing item (0): %v", err)
	}
	metaCheckItem(t, s, meta.Item{PK: "usage#1", SK: "bytes", N: 5, Version: metaGet(t, s, "usage#1", "bytes").Version})
	for _, max := range []int64{4, 0, -3} {
		var txe *meta.TxError
		if err := tx(meta.Add("usage#1", "bytes", 1, meta.AtMost(max))); !errors.As(err, &txe) || txe.Index != 0 {
			t.Fatalf("Add AtMost(%d) on a counter of 5: %v, want a *TxError at 0", max, err)
		}
	}
	if err := tx(meta.Add("usage#1", "bytes", 1, meta.AtMost(5))); err != nil {
		t.Fatalf("Add AtMost(5) on a counter of 5: %v", err)
	}
	if got := metaGet(t, s, "usage#1", "bytes").N; got != 6 {
		t.Fatalf("counter = %d, want 6", got)
	}
	// A big delta under the bound still gets the overflow guard's company.
	if err := tx(meta.Add("usage#1", "bytes", math.MaxInt64-6, meta.AtMost(6))); err != nil {
		t.Fatalf("Add up to MaxInt64 AtMost(6): %v", err)
	}
	if err := tx(meta.Add("usage#1", "bytes", -(math.MaxInt64 - 6), meta.AtMost(math.MaxInt64))); err != nil {
		t.Fatalf("Add back AtMost(MaxInt64): %v", err)
	}
	// Check, Put and Delete under the condition.
	if err := tx(meta.Check("usage#1", "bytes", meta.AtMost(5))); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Check AtMost(5) on 6: %v, want ErrConflict", err)
	}
	if err := tx(meta.Check("usage#1", "bytes", meta.AtMost(6))); err != nil {
		t.Fatalf("Check AtMost(6) on 6: %v", err)
	}
	if err := tx(meta.Check("usage#1", "none", meta.AtMost(0))); err != nil {
		t.Fatalf("Check AtMost(0) on a missing item: %v", err)
	}
	if _, err := s.Put(ctx, meta.Item{PK: "usage#1", SK: "bytes", N: 2}, meta.AtMost(5)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Put AtMost(5) on 6: %v, want ErrConflict", err)
	}
	if _, err := s.Put(ctx, meta.Item{PK: "usage#1", SK: "bytes", N: 2}, meta.AtMost(6)); err != nil {
		t.Fatalf("Put AtMost(6) on 6: %v", err)
	}
	if err := s.Delete(ctx, "usage#1", "bytes", meta.AtMost(1)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Delete AtMost(1) on 2: %v, want ErrConflict", err)
	}
	if err := s.Delete(ctx, "usage#1", "bytes", meta.AtMost(2)); err != nil {
		t.Fatalf("Delete AtMost(2) on 2: %v", err)
	}
	metaMustBeMissing(t, s, "usage#1", "bytes")
}

// metaTestConcurrentAtMost races Adds at a bound: exactly as many land as
// fit, and the counter never passes it.
func metaTestConcurrentAtMost(t *testing.T, s meta.Store) {
	ctx := context.Background()
	const writers, bound, step = 16, 10, 2
	var wg sync.WaitGroup
	var mu sync.Mutex
	landed := 0
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := s.Transact(ctx, []meta.Op{
					meta.Add("usage#c", "bytes", step, meta.AtMost(bound-step)),
					meta.Put(meta.Item{PK: "usage#c", SK: fmt.Sprintf("w%02d", i)}, meta.NoCond),
				})
				var txe *meta.TxError
				switch {
				case err == nil:
					mu.Lock()
					landed++
					mu.Unlock()
					return
				case errors.As(err, &txe):
					return // full
				case errors.Is(err, meta.ErrConflict):
					continue // a transaction in the way: try again
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := metaGet(t, s, "usage#c", "bytes").N; got != bound || landed != bound/step {
		t.Fatalf("counter %d after %d Adds landed, want %d after %d", got, landed, bound, bound/step)
	}
}

func metaTestTransactLimits(t *testing.T, s meta.Store) {
	ctx := context.Background()
	puts := func(n int) []meta.Op {
		ops := make([]meta.Op, n)
		for i := range ops {
			ops[i] = meta.Put(meta.Item{PK: "p", SK: fmt.Sprintf("k%03d", i)}, meta.MustNew)
		}
		return ops
	}
	invalid := func(what string, ops []meta.Op) {
		t.Helper()
		if err := s.Transact(ctx, ops); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("%s: %v, want ErrInvalid", what, err)
		}
		if pg, err := s.Query(ctx, "p", meta.QueryOpts{}); err != nil || len(pg.Items) != 0 {
			t.Fatalf("%s wrote %d items (%v)", what, len(pg.Items), err)
		}
	}
	invalid("nil transaction", nil)
	invalid("empty transaction", []meta.Op{})
	invalid(fmt.Sprintf("%d operations", meta.MaxTxOps+1), puts(meta.MaxTxOps+1))
	invalid("the same put twice", append(puts(3), puts(1)...))
	invalid("put and check of one item", append(puts(2), meta.Check("p", "k001", meta.NoCond)))
	invalid("delete and add of one item", []meta.Op{meta.Delete("p", "x", meta.NoCond), meta.Add("p", "x", 1, meta.NoCond)})

	if err := s.Transact(ctx, puts(meta.MaxTxOps)); err != nil {
		t.Fatalf("%d operations: %v", meta.MaxTxOps, err)
	}
	if got := metaQueryAll(t, s, "p", meta.QueryOpts{}); len(got) != meta.MaxTxOps {
		t.Fatalf("a transaction of %d puts wrote %d items", meta.MaxTxOps, len(got))
	}
	// The same key in two partitions, or two keys in one, are distinct.
	if err := s.Transact(ctx, []meta.Op{
		meta.Put(meta.Item{PK: "a", SK: "b#c"}, meta.NoCond),
		meta.Put(meta.Item{PK: "a#b", SK: "c"}, meta.NoCond),
		meta.Put(meta.Item{PK: "b#c", SK: "a"}, meta.NoCond),
	}); err != nil {
		t.Fatalf("distinct items sharing key text: %v", err)
	}
}

func metaTestInvalidKeys(t *testing.T, s meta.Store) {
	ctx := context.Background()
	for _, bad := range metaBadKeys {
		t.Run(bad.name, func(t *testing.T) {
			for _, k := range []struct{ pk, sk string }{{bad.key, "s"}, {"p", bad.key}} {
				at := fmt.Sprintf("(%q, %q)", metaShort([]byte(k.pk)), metaShort([]byte(k.sk)))
				check := func(what string, err error) {
					t.Helper()
					if !errors.Is(err, meta.ErrInvalid) {
						t.Errorf("%s %s: %v, want ErrInvalid", what, at, err)
					}
				}
				_, err := s.Get(ctx, k.pk, k.sk)
				check("Get", err)
				_, err = s.Put(ctx, meta.Item{PK: k.pk, SK: k.sk}, meta.NoCond)
				check("Put", err)
				check("Delete", s.Delete(ctx, k.pk, k.sk, meta.NoCond))
				_, err = s.Add(ctx, k.pk, k.sk, 1)
				check("Add", err)
				good := meta.Put(meta.Item{PK: "p", SK: "good"}, meta.NoCond)
				for _, op := range []meta.Op{
					meta.Put(meta.Item{PK: k.pk, SK: k.sk}, meta.NoCond),
					meta.Delete(k.pk, k.sk, meta.NoCond),
					meta.Add(k.pk, k.sk, 1, meta.NoCond),
					meta.Check(k.pk, k.sk, meta.NoCond),
				} {
					check(fmt.Sprintf("Transact op kind %d", op.Kind), s.Transact(ctx, []meta.Op{good, op}))
				}
			}
			_, err := s.Query(ctx, bad.key, meta.QueryOpts{})
			if !errors.Is(err, meta.ErrInvalid) {
				t.Errorf("Query of partition %q: %v, want ErrInvalid", metaShort([]byte(bad.key)), err)
			}
			metaMustBeMissing(t, s, "p", "good")
		})
	}
}

func metaTestMaxKeyLen(t *testing.T, s meta.Store) {
	pk := strings.Repeat("p", meta.MaxKeyLen)
	sk := strings.Repeat("é", meta.MaxKeyLen/2)
	h := &metaVersions{pk: pk, sk: sk}
	v := h.put(t, s, "Put", metaPut(t, s, meta.Item{PK: pk, SK: sk, Value: []byte("v")}, meta.MustNew))
	metaCheckItem(t, s, meta.Item{PK: pk, SK: sk, Value: []byte("v"), Version: v})
	metaEqual(t, "Query of the longest partition", metaQueryAll(t, s, pk, meta.QueryOpts{}), []string{sk})
}

func metaTestValueTooLarge(t *testing.T, s meta.Store) {
	ctx := context.Background()
	big := meta.Item{PK: "p", SK: "s", Value: make([]byte, meta.MaxValueLen+1)}
	if _, err := s.Put(ctx, big, meta.NoCond); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Put of %d bytes: %v, want ErrInvalid", len(big.Value), err)
	}
	if err := s.Transact(ctx, []meta.Op{meta.Put(big, meta.NoCond)}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Transact put of %d bytes: %v, want ErrInvalid", len(big.Value), err)
	}
	metaMustBeMissing(t, s, "p", "s")
}

func metaTestConcurrentIfVersion(t *testing.T, s meta.Store) {
	const workers, rounds = 8, 5
	ctx := context.Background()
	h := &metaVersions{pk: "p", sk: "s"}
	h.put(t, s, "Put MustNew", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.MustNew))
	for round := range rounds {
		at := h.cur()
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, conflicts := 0, 0
		var won int64
		var other []error
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				it := meta.Item{PK: "p", SK: "s", Value: []byte(fmt.Sprintf("round %d worker %d", round, w))}
				got, err := s.Put(ctx, it, meta.AtVersion(at))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					won = got
				case errors.Is(err, meta.ErrConflict):
					conflicts++
				default:
					other = append(other, fmt.Errorf("version %d, %w", got, err))
				}
			}()
		}
		wg.Wait()
		if wins != 1 || conflicts != workers-1 || len(other) > 0 {
			t.Fatalf("round %d, at version %d: %d wins, %d conflicts, others %v; want 1 and %d", round, at, wins, conflicts, other, workers-1)
		}
		h.put(t, s, fmt.Sprintf("round %d's winning Put", round), won)
	}
}

func metaTestConcurrentTransact(t *testing.T, s meta.Store) {
	const workers, rounds = 8, 5
	ctx := context.Background()
	h := &metaVersions{pk: "p", sk: "s"}
	h.put(t, s, "Put MustNew", metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.MustNew))
	for round := range rounds {
		at := h.cur()
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each worker moves "s" on and claims a slot of its own; the
				// loser's claim must vanish with its failed condition.
				errs[w] = s.Transact(ctx, []meta.Op{
					meta.Add("p", "wins", 1, meta.NoCond),
					meta.Put(meta.Item{PK: "p", SK: fmt.Sprintf("claim %d %d", round, w)}, meta.MustNew),
					meta.Put(meta.Item{PK: "p", SK: "s", Value: []byte(fmt.Sprint(w))}, meta.AtVersion(at)),
				})
			}()
		}
		wg.Wait()
		wins := 0
		for w, err := range errs {
			var txErr *meta.TxError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &txErr) && txErr.Index == 2:
				metaMustBeMissing(t, s, "p", fmt.Sprintf("claim %d %d", round, w))
			default:
				t.Fatalf("round %d worker %d: %v, want success or a TxError at index 2", round, w, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d, at version %d: %d transactions won, want 1", round, at, wins)
		}
		h.wrote(t, s, fmt.Sprintf("round %d's winning transaction", round))
	}
	if it := metaGet(t, s, "p", "wins"); it.N != rounds {
		t.Fatalf("win counter %d, want %d", it.N, rounds)
	}
	if got := metaQueryAll(t, s, "p", meta.QueryOpts{Prefix: "claim "}); len(got) != rounds {
		t.Fatalf("%d claims written, want %d: %q", len(got), rounds, got)
	}
}

func metaTestCancelled(t *testing.T, s meta.Store) {
	v := metaPut(t, s, meta.Item{PK: "p", SK: "s"}, meta.NoCond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", what, err)
		}
	}
	_, err := s.Get(ctx, "p", "s")
	check("Get", err)
	_, err = s.Put(ctx, meta.Item{PK: "p", SK: "new"}, meta.NoCond)
	check("Put", err)
	check("Delete", s.Delete(ctx, "p", "s", meta.NoCond))
	_, err = s.Add(ctx, "p", "n", 1)
	check("Add", err)
	_, err = s.Query(ctx, "p", meta.QueryOpts{})
	check("Query", err)
	check("Transact", s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "tx"}, meta.NoCond)}))

	// A call that fails for its context must not have acted.
	metaCheckItem(t, s, meta.Item{PK: "p", SK: "s", Version: v})
	metaMustBeMissing(t, s, "p", "new")
	metaMustBeMissing(t, s, "p", "n")
	metaMustBeMissing(t, s, "p", "tx")
}
