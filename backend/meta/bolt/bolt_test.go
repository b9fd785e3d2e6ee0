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
	if string(got.Value) != "kept" || got.N != 4 || got.Version != 2 || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("after reopen: %+v", got)
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
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", N: 1<<63 - 1}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "p", "s", 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Add past MaxInt64: %v, want ErrInvalid", err)
	}
	if it, err := s.Get(ctx, "p", "s"); err != nil || it.N != 1<<63-1 || it.Version != 1 {
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

// BenchmarkParallelPut shows Batch at work: concurrent writers share
// commits, and so fsyncs. commits/op is write transactions per Put; without
// Batch it would be 1.
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
