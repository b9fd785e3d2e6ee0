package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/meta"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

func TestConformance(t *testing.T) {
	backendtest.RunMeta(t, func(t *testing.T) meta.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	_, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^fs.FileMode(0o600) != 0 {
		t.Fatalf("database file mode %v, want at most 0600", perm)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(2_000_000_000, 0)
	want := meta.Item{PK: "p", SK: "s", Value: []byte("kept"), N: 3, ExpiresAt: exp}
	if _, err := s.Put(ctx, want, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "p", "s", 1); err != nil {
		t.Fatal(err)
	}
	before, err := s.Get(ctx, "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Value) != "kept" || got.N != 4 || got.Version != before.Version || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("after reopen: %+v, want version %d", got, before.Version)
	}
}

// TestVersionsFollowOneSequence checks the driver's own way of meeting the
// contract on versions: every write, of any kind and to any item, takes the
// next value of one store-wide sequence, which deletes do not reset and a
// reopen does not lose. That is more than the contract asks (it asks only
// that an item's key never gets a version twice), but it is what makes the
// contract hold here.
func TestVersionsFollowOneSequence(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	var last int64
	next := func(what string, v int64) {
		t.Helper()
		if v <= last {
			t.Fatalf("%s: version %d, want more than the last one, %d", what, v, last)
		}
		last = v
	}
	get := func(what, sk string) {
		t.Helper()
		it, err := s.Get(ctx, "p", sk)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		next(what, it.Version)
	}
	put := func(what, sk string, c meta.Cond) int64 {
		t.Helper()
		v, err := s.Put(ctx, meta.Item{PK: "p", SK: sk}, c)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		next(what, v)
		if it, err := s.Get(ctx, "p", sk); err != nil || it.Version != v {
			t.Fatalf("%s returned version %d; Get = %+v, %v", what, v, it, err)
		}
		return v
	}
	transact := func(what string, ops ...meta.Op) {
		t.Helper()
		if err := s.Transact(ctx, ops); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	del := func(sk string) {
		t.Helper()
		if err := s.Delete(ctx, "p", sk, meta.MustLive); err != nil {
			t.Fatalf("delete %q: %v", sk, err)
		}
	}

	for round := range 3 {
		va := put("put a", "a", meta.MustNew)
		put("put b", "b", meta.MustNew)
		put("put a again", "a", meta.AtVersion(va))
		if _, err := s.Add(ctx, "p", "c", 1); err != nil {
			t.Fatal(err)
		}
		get("add c", "c")
		transact("transact put b", meta.Put(meta.Item{PK: "p", SK: "b"}, meta.MustLive))
		get("transact put b", "b")
		transact("transact add c", meta.Add("p", "c", 1, meta.MustLive))
		get("transact add c", "c")
		// One transaction's writes take one number each.
		transact("transact put a, add c", meta.Put(meta.Item{PK: "p", SK: "a"}, meta.MustLive), meta.Add("p", "c", 1, meta.NoCond))
		a, _ := s.Get(ctx, "p", "a")
		c, _ := s.Get(ctx, "p", "c")
		if a.Version <= last || c.Version <= last || a.Version == c.Version {
			t.Fatalf("one transaction gave versions %d and %d after %d", a.Version, c.Version, last)
		}
		last = max(a.Version, c.Version)
		del("a")
		del("b")
		del("c")
		if round == 1 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(path); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Taking a version writes to the bucket; a write that fails before it writes
// must not take one, so that its transaction stays read-only (see write).
func TestFailedWriteTakesNoVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", N: 1<<63 - 1}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	before := sequence(t, s)
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s"}, meta.MustNew); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Put MustNew of an existing item: %v", err)
	}
	if err := s.Delete(ctx, "p", "s", meta.AtVersion(before+1)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Delete at a wrong version: %v", err)
	}
	if _, err := s.Add(ctx, "p", "s", 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Add past MaxInt64: %v", err)
	}
	// The failing operation comes after ones that would take versions.
	err := s.Transact(ctx, []meta.Op{
		meta.Put(meta.Item{PK: "p", SK: "new"}, meta.MustNew),
		meta.Add("p", "n", 1, meta.NoCond),
		meta.Check("p", "s", meta.MustNew),
	})
	if _, ok := err.(*meta.TxError); !ok {
		t.Fatalf("Transact: %v, want a *meta.TxError", err)
	}
	err = s.Transact(ctx, []meta.Op{
		meta.Put(meta.Item{PK: "p", SK: "new"}, meta.MustNew),
		meta.Add("p", "s", 1, meta.NoCond),
	})
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Transact with an overflowing Add: %v, want ErrInvalid", err)
	}
	if after := sequence(t, s); after != before {
		t.Fatalf("failed writes moved the version sequence from %d to %d", before, after)
	}
}

// sequence is the version sequence's current value: the version of the
// latest write.
func sequence(tb testing.TB, s *Store) int64 {
	tb.Helper()
	var seq uint64
	if err := s.db.View(func(tx *bbolt.Tx) error { seq = tx.Bucket(bucketName).Sequence(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return int64(seq)
}

// Concurrent writers share transactions, which the group commit may run
// more than once; each caller must get a version of its own, from the run that
// committed.
func TestConcurrentWritesTakeDistinctVersions(t *testing.T) {
	const workers, each = 16, 25
	ctx := context.Background()
	s, _ := openTemp(t)
	versions := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// A shared item, and one of the worker's own whose version
				// no one else changes.
				if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "shared"}, meta.NoCond); err != nil {
					t.Error(err)
					return
				}
				own := meta.Item{PK: "p", SK: fmt.Sprintf("w%d", w), N: int64(i)}
				v, err := s.Put(ctx, own, meta.NoCond)
				if err != nil {
					t.Error(err)
					return
				}
				if it, err := s.Get(ctx, own.PK, own.SK); err != nil || it.Version != v || it.N != own.N {
					t.Errorf("worker %d: Put returned version %d; Get = %+v, %v", w, v, it, err)
					return
				}
				versions[w] = append(versions[w], v)
			}
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool)
	for _, vs := range versions {
		for _, v := range vs {
			if seen[v] {
				t.Fatalf("version %d returned twice", v)
			}
			seen[v] = true
		}
	}
	if seq := sequence(t, s); seq < 2*workers*each {
		t.Fatalf("sequence at %d after %d writes", seq, 2*workers*each)
	}
}

// A file from before versions came from the sequence has items whose
// versions each counted from 1, and a sequence at 0. Open must move the
// sequence past every version such a file can have given out, including
// those of items deleted since.
func TestOpenUpgradesPerItemVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As the old driver could have left it: "live" at version 3, and "gone"
	// deleted after reaching version 1500 over two (large) transactions.
	steps := []struct {
		sk      string
		version int64 // 0: delete
	}{{"gone", 1000}, {"gone", 1500}, {"live", 3}, {"gone", 0}}
	for i, step := range steps {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketName)
			if err != nil {
				return err
			}
			if step.version == 0 {
				return b.Delete(itemKey("p", step.sk))
			}
			return b.Put(itemKey("p", step.sk), encodeItem(step.version, 0, time.Time{}, nil))
		})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 { // the second Open must leave the sequence alone
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, sk := range []string{"live", "gone"} {
			v, err := s.Put(ctx, meta.Item{PK: "p", SK: sk}, meta.NoCond)
			if err != nil {
				t.Fatal(err)
			}
			if v <= 1500 {
				t.Fatalf("Put of %q after the upgrade: version %d, not above the old ones", sk, v)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNewFileStartsSequenceAtZero(t *testing.T) {
	s, _ := openTemp(t)
	if seq := sequence(t, s); seq != 0 {
		t.Fatalf("new file: sequence %d, want 0", seq)
	}
	v, err := s.Put(context.Background(), meta.Item{PK: "p", SK: "s"}, meta.NoCond)
	if err != nil || v != 1 {
		t.Fatalf("first Put = %d, %v; want version 1", v, err)
	}
}

// bbolt's flock belongs to the open file description, and Open opens the
// file anew, so a second Open in the same process contends for the lock just
// as another process would.
func TestSecondOpenInProcessIsLocked(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	s2, err := Open(path)
	elapsed := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a held database succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	// Generous: the point is "fails fast", not a timing assertion.
	if elapsed > 2*time.Second {
		t.Fatalf("second Open took %v to fail", elapsed)
	}
	t.Logf("second Open failed after %v: %v", elapsed, err)
}

func TestOpenAfterCloseIsNotLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	for i := range 3 {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// lockHolderEnv makes the test binary, re-run as a child, hold the database
// open until its stdin closes.
const lockHolderEnv = "STRATA_BOLT_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHolderEnv); path != "" {
		os.Exit(holdLock(path))
	}
	os.Exit(m.Run())
}

func holdLock(path string) int {
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("lock holder: %v", err)
		}
	}()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("lock holder said %q, %v", line, err)
	}

	start := time.Now()
	s, err := Open(path)
	elapsed := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database held by another process succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open: %v, want ErrLocked", err)
	}
	if elapsed > 2*time.Second {
		t.Fatalf("Open took %v to fail", elapsed)
	}
}

// The conformance suite cannot see whether Next is set on a page that turns
// out to be the last; this driver peeks, so it never is.
func TestNextEmptyOnExactLastPage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, sk := range []string{"a", "b", "c", "d"} {
		if _, err := s.Put(ctx, meta.Item{PK: "p", SK: sk}, meta.NoCond); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(ctx, meta.Item{PK: "p#", SK: "a"}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o         meta.QueryOpts
		n         int
		wantNext  string
		wantFirst string
	}{
		{meta.QueryOpts{Limit: 4}, 4, "", "a"},
		{meta.QueryOpts{Limit: 3}, 3, "c", "a"},
		{meta.QueryOpts{Limit: 2, After: "b"}, 2, "", "c"},
		{meta.QueryOpts{Limit: 2, Reverse: true}, 2, "c", "d"},
		{meta.QueryOpts{Limit: 2, Reverse: true, After: "c"}, 2, "", "b"},
		{meta.QueryOpts{Limit: 1, Prefix: "d"}, 1, "", "d"},
		{meta.QueryOpts{Limit: 1, Prefix: "d", Reverse: true}, 1, "", "d"},
	} {
		pg, err := s.Query(ctx, "p", tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) != tc.n || pg.Next != tc.wantNext || pg.Items[0].SK != tc.wantFirst {
			t.Errorf("Query(%+v) = %d items from %q, Next %q; want %d from %q, Next %q",
				tc.o, len(pg.Items), pg.Items[0].SK, pg.Next, tc.n, tc.wantFirst, tc.wantNext)
		}
	}
}

func TestTxErrorIsReturnedBare(t *testing.T) {
	s, _ := openTemp(t)
	err := s.Transact(context.Background(), []meta.Op{meta.Check("p", "s", meta.MustLive)})
	if _, ok := err.(*meta.TxError); !ok {
		t.Fatalf("Transact = %T %v, want a *meta.TxError", err, err)
	}
}

func TestAddOverflowIsInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	v, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", N: 1<<63 - 1}, meta.NoCond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "p", "s", 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Add past MaxInt64: %v, want ErrInvalid", err)
	}
	if it, err := s.Get(ctx, "p", "s"); err != nil || it.N != 1<<63-1 || it.Version != v {
		t.Fatalf("after a refused Add: %+v, %v", it, err)
	}
}

func TestUnknownConditionIsInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	bad := meta.Cond{Kind: 42}
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s"}, bad); !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("Put: %v, want ErrInvalid", err)
	}
	if err := s.Delete(ctx, "p", "s", bad); !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("Delete: %v, want ErrInvalid", err)
	}
	if err := s.Transact(ctx, []meta.Op{meta.Check("p", "s", bad)}); !errors.Is(err, meta.ErrInvalid) {
		t.Errorf("Transact: %v, want ErrInvalid", err)
	}
}

func TestCorruptItemIsAnError(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketName).Put(itemKey("p", "s"), []byte("short"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "p", "s"); !errors.Is(err, errCorrupt) {
		t.Errorf("Get: %v, want errCorrupt", err)
	}
	if _, err := s.Query(ctx, "p", meta.QueryOpts{}); !errors.Is(err, errCorrupt) {
		t.Errorf("Query: %v, want errCorrupt", err)
	}
	if _, err := s.Add(ctx, "p", "s", 1); !errors.Is(err, errCorrupt) {
		t.Errorf("Add: %v, want errCorrupt", err)
	}
}

func TestStorageErrNoSpace(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "write", Path: "meta.db", Err: syscall.ENOSPC},
		syscall.EDQUOT,
		// bbolt formats these with %s, keeping only the message.
		fmt.Errorf("file resize error: %s", syscall.ENOSPC),
		fmt.Errorf("file sync error: %s", &fs.PathError{Op: "sync", Path: "x", Err: syscall.EDQUOT}),
	} {
		if got := storageErr(err); !errors.Is(got, meta.ErrNoSpace) {
			t.Errorf("storageErr(%v) = %v, want ErrNoSpace", err, got)
		}
	}
	for _, err := range []error{syscall.EIO, errors.New("timeout")} {
		if got := storageErr(err); errors.Is(got, meta.ErrNoSpace) {
			t.Errorf("storageErr(%v) = %v, want not ErrNoSpace", err, got)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "b"}, {"p\x00", "p\x01"}, {"a\xff", "b"}, {"a\xff\xff", "b"}, {"\xff", ""}, {"", ""},
	} {
		if got := string(prefixEnd([]byte(tc.in))); got != tc.want {
			t.Errorf("prefixEnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkParallelPut shows the group commit at work: concurrent writers
// share commits, and so fsyncs. commits/op is write transactions per Put;
// without it it would be 1.
func BenchmarkParallelPut(b *testing.B) {
	for _, p := range []int{1, 4, 32} {
		b.Run(fmt.Sprintf("writers=%d", p*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, _ := openTemp(b)
			ctx := context.Background()
			value := make([]byte, 200)
			var seq atomic.Int64
			txBefore := lastTxID(b, s)
			b.SetParallelism(p)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					it := meta.Item{PK: fmt.Sprintf("dir#%d", n%16), SK: fmt.Sprintf("e#%d", n), Value: value}
					if _, err := s.Put(ctx, it, meta.MustNew); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			commits := lastTxID(b, s) - txBefore
			b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
		})
	}
}

// lastTxID is the id of the last committed write transaction; bbolt numbers
// them consecutively.
func lastTxID(tb testing.TB, s *Store) int {
	tb.Helper()
	var id int
	if err := s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return id
}

// BenchmarkParallelPutUnbatched is the baseline for BenchmarkParallelPut:
// the same writes, one bbolt Update (one commit and fsync) each.
func BenchmarkParallelPutUnbatched(b *testing.B) {
	for _, p := range []int{1, 4, 32} {
		b.Run(fmt.Sprintf("writers=%d", p*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			s, _ := openTemp(b)
			value := encodeItem(1, 0, time.Time{}, make([]byte, 200))
			var seq atomic.Int64
			b.SetParallelism(p)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					key := itemKey(fmt.Sprintf("dir#%d", n%16), fmt.Sprintf("e#%d", n))
					err := s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketName).Put(key, value) })
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
