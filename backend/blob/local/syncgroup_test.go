package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// syncSpy stands in for (*os.File).Sync. It records what each fsync made
// durable: for a file its content, for a directory the names in it. It can
// hold the first directory sync until released, and fail the sync of a
// chosen file content or directory.
type syncSpy struct {
	s *Store

	mu       sync.Mutex
	data     map[string]bool // contents of files synced
	names    map[string]bool // path of each entry of the directories synced
	dirSyncs map[string]int  // fsyncs per directory
	failData string          // a file sync of this content fails
	failDir  string          // a sync of this directory fails
	hold     chan struct{}   // if not nil, the first directory sync waits for it
	held     chan struct{}   // closed once the first directory sync is waiting
}

var errSyncFailed = errors.New("sync failed (test)")

func spyOn(t *testing.T, s *Store) *syncSpy {
	t.Helper()
	sp := &syncSpy{s: s, data: map[string]bool{}, names: map[string]bool{}, dirSyncs: map[string]int{}}
	s.syncFile = sp.sync
	return sp
}

func (sp *syncSpy) sync(f *os.File) error {
	rel, err := filepath.Rel(sp.s.dir, f.Name())
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		content, err := os.ReadFile(f.Name())
		if err != nil {
			return err
		}
		sp.mu.Lock()
		defer sp.mu.Unlock()
		if sp.failData != "" && string(content) == sp.failData {
			return errSyncFailed
		}
		sp.data[string(content)] = true
		return nil
	}
	sp.mu.Lock()
	hold := sp.hold
	sp.hold = nil
	sp.mu.Unlock()
	if hold != nil {
		close(sp.held)
		<-hold
	}
	entries, err := os.ReadDir(f.Name())
	if err != nil {
		return err
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.failDir != "" && rel == sp.failDir {
		return errSyncFailed
	}
	sp.dirSyncs[rel]++
	for _, e := range entries {
		sp.names[filepath.Join(rel, e.Name())] = true
	}
	return nil
}

// holdFirst makes the next directory sync wait until release is called.
func (sp *syncSpy) holdFirst() (release func()) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	hold := make(chan struct{})
	sp.hold, sp.held = hold, make(chan struct{})
	return func() { close(hold) }
}

// durable reports whether key's object, holding data, was made durable: its
// content synced, its name in its shard when that was synced, and the
// shard's in objects/. (The shards there when the store was opened were
// synced before the spy came.)
func (sp *syncSpy) durable(key string, data []byte) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	shard := filepath.Dir(objectPath(key))
	return sp.data[string(data)] && sp.names[objectPath(key)] && sp.names[shard]
}

// putBehindGroup runs a Put of lead whose group it holds in its first
// directory sync, then n Puts of prefix+i (i from 1), holding "data i", and
// releases the group once queued of them wait for the next. It returns the
// Puts' errors, lead's first.
func putBehindGroup(t *testing.T, s *Store, sp *syncSpy, lead, prefix string, n, queued int) []error {
	t.Helper()
	ctx := context.Background()
	release := sp.holdFirst()
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[0] = s.Put(ctx, lead, strings.NewReader("lead"), 4)
	}()
	waitHeld(t, sp, &wg, errs)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := fmt.Sprintf("data %d", i)
			errs[i] = s.Put(ctx, fmt.Sprintf("%s%d", prefix, i), strings.NewReader(data), int64(len(data)))
		}()
	}
	waitQueued(s, queued)
	release()
	wg.Wait()
	return errs
}

// waitHeld returns once the first directory sync is held; it fails the test if
// the Put that was to make it (the only one in wg) returned first.
func waitHeld(t *testing.T, sp *syncSpy, wg *sync.WaitGroup, errs []error) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-sp.held:
	case <-done:
		t.Fatalf("the first Put returned (%v) without syncing", errs[0])
	}
}

// waitQueued returns once n Puts wait for the next group.
func waitQueued(s *Store, n int) {
	for {
		s.puts.mu.Lock()
		queued := len(s.puts.queue)
		s.puts.mu.Unlock()
		if queued >= n {
			return
		}
		runtime.Gosched()
	}
}

// Puts that arrive while a group is being synced are synced together in the
// next: their directory once for all.
func TestPutsShareSyncs(t *testing.T) {
	const waiting = 8
	s := openStore(t, t.TempDir())
	sp := spyOn(t, s)
	// Every key is in shard "zz"; it exists, so no Put creates it.
	put(t, s, "zz-first", []byte("first"))
	before := sp.dirSyncs[filepath.Join(objectsDir, "zz")]

	errs := putBehindGroup(t, s, sp, "zz-lead", "zz-", waiting, waiting)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	for i := 1; i <= waiting; i++ {
		key, data := fmt.Sprintf("zz-%d", i), fmt.Sprintf("data %d", i)
		if got := get(t, s, key); string(got) != data {
			t.Errorf("%s = %q, want %q", key, got, data)
		}
	}
	if n := sp.dirSyncs[filepath.Join(objectsDir, "zz")] - before; n != 2 {
		t.Errorf("shard synced %d times for 1 + %d Puts, want 2 (one per group)", n, waiting)
	}
	wantTmpEmpty(t, s)
}

// When a Put returns, its content and its name have been synced, and its
// shard's name in objects/ too, however many Puts run beside it, into shards
// that others may have just created.
func TestPutIsDurableWhenItReturns(t *testing.T) {
	const writers, each = 16, 8
	s := openStore(t, t.TempDir())
	sp := spyOn(t, s)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Two shards per writer, shared with others.
				key := fmt.Sprintf("k%d-%d-%d", (w+i)%4, w, i)
				data := []byte(key + " data")
				if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
					t.Error(err)
					return
				}
				if !sp.durable(key, data) {
					t.Errorf("Put %s returned before its object was durable", key)
				}
			}
		}()
	}
	wg.Wait()
	wantTmpEmpty(t, s)
}

// A Put fails when its own file or directory fails to sync, and only then:
// the others of its group are stored.
func TestPutFailsAloneInItsGroup(t *testing.T) {
	const waiting = 4
	s := openStore(t, t.TempDir())
	sp := spyOn(t, s)
	ctx := context.Background()
	for i := 1; i <= waiting; i++ {
		// The shards exist, so that the group syncs no more than them.
		put(t, s, fmt.Sprintf("k%d-before", i), nil)
	}
	sp.failData = "data 2"
	sp.failDir = filepath.Join(objectsDir, "k3")

	// k2 fails on its own, before it joins a group.
	errs := putBehindGroup(t, s, sp, "lead", "k", waiting, waiting-1)
	for i, err := range errs {
		if i == 2 || i == 3 {
			if !errors.Is(err, errSyncFailed) {
				t.Errorf("Put of k%d (a sync fails): %v, want %v", i, err, errSyncFailed)
			}
			continue
		}
		if err != nil {
			t.Errorf("Put %d: %v", i, err)
		}
	}
	if _, err := s.Stat(ctx, "k2"); err == nil {
		t.Error("k2 is stored though its file failed to sync")
	}
	for _, i := range []int{1, 4} {
		key, data := fmt.Sprintf("k%d", i), fmt.Sprintf("data %d", i)
		if got := get(t, s, key); string(got) != data {
			t.Errorf("%s = %q, want %q", key, got, data)
		}
	}
	wantTmpEmpty(t, s)
}
