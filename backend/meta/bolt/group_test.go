package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/strata-storage/strata/backend/meta"
)

// A lone write commits at once: nothing waits for company on a clock.
// (bbolt's Batch held every batch open for MaxBatchDelay; with the delay
// at an hour this test hung.)
func TestLoneWriteDoesNotWait(t *testing.T) {
	s, _ := openTemp(t)
	s.db.MaxBatchDelay = time.Hour
	if _, err := s.Put(t.Context(), meta.Item{PK: "p", SK: "s"}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
}

// holdCommit starts a write whose transaction stays open until the
// returned function is called, and returns once it is open.
func holdCommit(t *testing.T, s *Store) (release func()) {
	t.Helper()
	open, release2 := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.writes.update(func(tx *bbolt.Tx) error {
			close(open)
			<-release2
			return tx.Bucket(bucketName).Put([]byte("held"), []byte("x"))
		})
	}()
	<-open
	return func() {
		close(release2)
		if err := <-done; err != nil {
			t.Errorf("held write: %v", err)
		}
	}
}

// waitQueued makes s's group report arrivals, and returns a function that
// waits until n writers are queued.
func waitQueued(s *Store) func(n int) {
	ch := make(chan int, 1024)
	s.writes.queued = func(n int) { ch <- n }
	return func(n int) {
		for got := range ch {
			if got >= n {
				return
			}
		}
	}
}

// Writers that arrive while a commit runs all go into the next commit, one
// transaction, however long they waited.
func TestWritersQueuedDuringCommitShareOne(t *testing.T) {
	const writers = 8
	s, _ := openTemp(t)
	ctx := context.Background()
	queued := waitQueued(s)
	release := holdCommit(t, s)
	queued(1)
	before := lastTxID(t, s)
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			_, err := s.Put(ctx, meta.Item{PK: "p", SK: fmt.Sprintf("w%d", i)}, meta.MustNew)
			errs <- err
		}()
	}
	queued(writers)
	release()
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// The held write's commit, then one for all the others.
	if got := lastTxID(t, s) - before; got != 2 {
		t.Fatalf("%d commits after the held one began, want 2", got)
	}
	for i := range writers {
		if _, err := s.Get(ctx, "p", fmt.Sprintf("w%d", i)); err != nil {
			t.Errorf("w%d: %v", i, err)
		}
	}
}

// A function that fails (or panics) in a shared transaction gets its own
// error from a run alone; the others are committed without it.
func TestFailedWriterDoesNotFailTheGroup(t *testing.T) {
	s, _ := openTemp(t)
	queued := waitQueued(s)
	release := holdCommit(t, s)
	queued(1)
	boom := errors.New("boom")
	fns := map[string]func(*bbolt.Tx) error{
		"ok1":   func(tx *bbolt.Tx) error { return tx.Bucket(bucketName).Put([]byte("ok1"), []byte("1")) },
		"fails": func(tx *bbolt.Tx) error { tx.Bucket(bucketName).Put([]byte("fails"), []byte("1")); return boom },
		"ok2":   func(tx *bbolt.Tx) error { return tx.Bucket(bucketName).Put([]byte("ok2"), []byte("1")) },
	}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(fns))
	n := 0 // the held write's leader took itself off the queue
	for name, fn := range fns {
		go func() { results <- result{name, s.writes.update(fn)} }()
		n++
		queued(n)
	}
	release()
	for range fns {
		r := <-results
		if want := map[bool]error{true: boom, false: nil}[r.name == "fails"]; !errors.Is(r.err, want) {
			t.Errorf("%s: err = %v, want %v", r.name, r.err, want)
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketName)
		for _, k := range []string{"ok1", "ok2", "held"} {
			if b.Get([]byte(k)) == nil {
				t.Errorf("%s was not committed", k)
			}
		}
		if b.Get([]byte("fails")) != nil {
			t.Error("the failed function's write was committed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A panicking function fails its own write with an error.
func TestPanickingWriterFailsAlone(t *testing.T) {
	s, _ := openTemp(t)
	defer func() {
		// Run alone, as bbolt's Update does, the panic reaches the caller.
		if p := recover(); p == nil {
			t.Fatal("no panic")
		}
		if _, err := s.Put(t.Context(), meta.Item{PK: "p", SK: "after"}, meta.NoCond); err != nil {
			t.Fatalf("write after the panic: %v", err)
		}
	}()
	s.writes.update(func(*bbolt.Tx) error { panic("bug") })
}

// A panic in bbolt's commit itself (here an OnCommit hook; in life an
// assertion on a damaged file) fails the writers of that round and goes
// on up the leader's goroutine, but the group goes on: the next write
// commits, rather than queuing forever behind a leader that is gone.
func TestCommitPanicDoesNotStopWrites(t *testing.T) {
	s, _ := openTemp(t)
	release := holdCommit(t, s)
	queued := waitQueued(s)

	type outcome struct {
		err   error
		panic any
	}
	results := make(chan outcome, 2)
	write := func(fn func(*bbolt.Tx) error) {
		var o outcome
		defer func() {
			o.panic = recover()
			results <- o
		}()
		o.err = s.writes.update(fn)
	}
	go write(func(tx *bbolt.Tx) error {
		tx.OnCommit(func() { panic("damaged page") })
		return nil
	})
	queued(1)
	go write(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketName).Put([]byte("other"), []byte("x"))
	})
	queued(2)
	release()

	bound := time.After(30 * time.Second) // a bound for a hang, not a wait
	var panicked, failed int
	for range 2 {
		select {
		case o := <-results:
			switch {
			case o.panic != nil:
				panicked++
			case o.err != nil && strings.Contains(o.err.Error(), "damaged page"):
				failed++
			default:
				t.Errorf("a writer of the round: err %v, want the commit's panic", o.err)
			}
		case <-bound:
			t.Fatal("a writer of the round was never answered")
		}
	}
	if panicked != 1 || failed != 1 {
		t.Fatalf("%d writers panicked and %d failed, want 1 and 1 (the leader goes on panicking, the other is told)", panicked, failed)
	}
	next := make(chan error, 1)
	go func() {
		next <- s.writes.update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketName).Put([]byte("next"), []byte("x"))
		})
	}()
	select {
	case err := <-next:
		if err != nil {
			t.Fatal(err)
		}
	case <-bound:
		t.Fatal("a write after the panic never committed: the group is stuck")
	}
}
