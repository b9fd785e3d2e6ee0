package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/localtree"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

// makeTree writes a folder with subfolders, an empty folder and an empty
// file; it returns the total size and the number of files.
func makeTree(t *testing.T, root string) (int64, int) {
	t.Helper()
	files := map[string]int{
		"a.txt": 1000, "b.bin": 70000, "empty": 0,
		"sub/c.txt": 5, "sub/deeper/d.dat": 123456, "sub/deeper/e": 1,
		"other/f.jpg": 4096,
	}
	var total int64
	i := 0
	for name, n := range files {
		writeFile(t, filepath.Join(root, filepath.FromSlash(name)), content(i, n))
		total += int64(n)
		i++
	}
	if err := os.MkdirAll(filepath.Join(root, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	return total, len(files)
}

func TestUploadDownloadTree(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, f, Options{})
	src := filepath.Join(t.TempDir(), "tree")
	total, n := makeTree(t, src)

	m.Upload(src, "/home/tester")
	s := waitFor(t, m, "the upload", func(s Snapshot) bool { return finished(s) && s.FilesDone == n })
	if s.Files != n || s.Bytes != total || s.BytesDone != total || s.Failed != 0 {
		t.Fatalf("totals after upload:\n%s", dump(s))
	}
	for rel, data := range tree(t, src) {
		if strings.HasSuffix(rel, "/") {
			if _, err := f.Stat(context.Background(), "/home/tester/tree/"+strings.TrimSuffix(rel, "/")); err != nil {
				t.Errorf("folder %s: %v", rel, err)
			}
			continue
		}
		got, ok := f.Content("/home/tester/tree/" + rel)
		if !ok || string(got) != data {
			t.Errorf("%s: uploaded %d bytes, want %d", rel, len(got), len(data))
		}
	}

	m.ClearDone()
	if s := m.Snapshot(); s.Total != 0 || s.Files != 0 || s.Bytes != 0 {
		t.Fatalf("after ClearDone:\n%s", dump(s))
	}

	dst := t.TempDir()
	m.Download("/home/tester/tree", true, dst)
	s = waitFor(t, m, "the download", func(s Snapshot) bool { return finished(s) && s.FilesDone == n })
	if s.Files != n || s.Bytes != total || s.BytesDone != total || s.Failed != 0 {
		t.Fatalf("totals after download:\n%s", dump(s))
	}
	want, got := tree(t, src), tree(t, filepath.Join(dst, "tree"))
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("downloaded tree differs:\nwant %v\ngot  %v", keys(want), keys(got))
	}
}

func TestUploadSingleFileAndDownloadSingleFile(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, f, Options{})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "one.txt"), []byte("hello"))
	m.Upload(filepath.Join(dir, "one.txt"), "/home/tester")
	waitFor(t, m, "upload", func(s Snapshot) bool { return finished(s) && s.FilesDone == 1 })
	if got, _ := f.Content("/home/tester/one.txt"); string(got) != "hello" {
		t.Fatalf("uploaded %q", got)
	}
	out := t.TempDir()
	m.Download("/home/tester/one.txt", false, out)
	s := waitFor(t, m, "download", func(s Snapshot) bool { return finished(s) && s.FilesDone == 2 })
	if b, err := os.ReadFile(filepath.Join(out, "one.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("downloaded %q, %v\n%s", b, err, dump(s))
	}
}

// TestParallel checks that exactly Parallel files are in flight.
func TestParallel(t *testing.T) {
	for _, parallel := range []int{0, 2} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			want := parallel
			if want == 0 {
				want = 4
			}
			var inflight, peak atomic.Int32
			gate := make(chan struct{}) // each send lets one upload through
			f := remotetest.New()
			h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				select {
				case <-gate:
				case <-ctx.Done(): // Close, after a failure
					return remote.Entry{}, ctx.Err()
				}
				return next()
			}}
			m := newManager(t, h, Options{Parallel: parallel})
			src := t.TempDir()
			for i := range 10 {
				writeFile(t, filepath.Join(src, fmt.Sprintf("f%02d", i)), content(i, 100))
			}
			m.Upload(src, "/home/tester")
			// One upload at a time is let through; each time, the pool
			// fills again, and a worker too many would take a job too.
			for done := range 10 {
				busy := min(want, 10-done)
				s := waitFor(t, m, "the pool to fill", func(s Snapshot) bool {
					return s.FilesDone == done && s.Running == busy && inflight.Load() == int32(busy)
				})
				if peak.Load() != int32(want) {
					t.Fatalf("peak %d in flight, want %d\n%s", peak.Load(), want, dump(s))
				}
				gate <- struct{}{}
			}
			waitFor(t, m, "the batch", func(s Snapshot) bool { return finished(s) && s.FilesDone == 10 })
			if peak.Load() != int32(want) {
				t.Fatalf("peak %d in flight, want %d", peak.Load(), want)
			}
		})
	}
}

// blockingUploads makes every upload report a byte and then hang until
// canceled.
func blockingUploads(f *remotetest.Fake) *hooked {
	return &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		progress(1)
		<-ctx.Done()
		return remote.Entry{}, ctx.Err()
	}}
}

func TestCancel(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, blockingUploads(f), Options{Parallel: 2})
	src := t.TempDir()
	for i := range 5 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), content(i, 10))
	}
	m.Upload(src, "/home/tester")
	s := waitFor(t, m, "two running", func(s Snapshot) bool { return s.Running == 2 && s.Queued == 3 && s.BytesDone == 2 })
	running, queued := s.Jobs[0], s.Jobs[2]
	m.Cancel(running.ID)
	m.Cancel(queued.ID)
	s = waitFor(t, m, "the cancel", func(s Snapshot) bool { return s.Running == 2 && s.Queued == 1 && s.BytesDone == 2 })
	for _, j := range s.Jobs {
		if (j.ID == running.ID || j.ID == queued.ID) != (j.State == Canceled) {
			t.Fatalf("job %d is %s\n%s", j.ID, j.State, dump(s))
		}
	}
	// Canceled jobs leave the batch; the canceled running one kept its byte.
	if s.Files != 3 || s.BytesDone != 2 {
		t.Fatalf("totals after cancel:\n%s", dump(s))
	}

	m.CancelAll()
	s = waitFor(t, m, "cancel all", func(s Snapshot) bool { return finished(s) })
	for _, j := range s.Jobs {
		if j.State != Canceled {
			t.Fatalf("job %d is %s after CancelAll\n%s", j.ID, j.State, dump(s))
		}
	}
	if s.Files != 0 || s.Bytes != 0 {
		t.Fatalf("totals after cancel all:\n%s", dump(s))
	}

	// A canceled job can be retried.
	m.Retry(queued.ID)
	waitFor(t, m, "the retried job to run", func(s Snapshot) bool { return s.Running == 1 })
}

func TestCancelAllStopsWalks(t *testing.T) {
	f := remotetest.New()
	for i := range 3 {
		f.PutFile(fmt.Sprintf("/home/tester/d/sub%d/x", i), []byte("x"))
	}
	listed := make(chan struct{})
	var once sync.Once
	h := &hooked{Fake: f, list: func(ctx context.Context, dir string, next func() (remote.Page, error)) (remote.Page, error) {
		if dir != "/home/tester/d" {
			once.Do(func() { close(listed) })
			<-ctx.Done()
			return remote.Page{}, ctx.Err()
		}
		return next()
	}}
	out := t.TempDir() // before the Manager: cleaned up after Close
	m := newManager(t, h, Options{})
	m.Download("/home/tester/d", true, out)
	<-listed
	waitFor(t, m, "the walk", func(s Snapshot) bool { return s.Walking == 3 })
	m.CancelAll()
	s := waitFor(t, m, "no walks", func(s Snapshot) bool { return s.Walking == 0 })
	if s.Total != 0 {
		t.Fatalf("jobs after CancelAll:\n%s", dump(s))
	}
}

func TestRetryAfterDisconnect(t *testing.T) {
	f := remotetest.New()
	var calls atomic.Int32
	pinged := make(chan struct{}, 10)
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		if calls.Add(1) == 1 {
			f.SetDown(true) // the server goes away during the first upload
		}
		return next()
	}, ping: func(ctx context.Context, next func() error) error {
		err := next()
		select {
		case pinged <- struct{}{}:
		default:
		}
		return err
	}}
	m := newManager(t, h, Options{Backoff: 20 * time.Millisecond})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), content(1, 3000))
	m.Upload(filepath.Join(dir, "a"), "/home/tester")
	s := waitFor(t, m, "connection lost", func(s Snapshot) bool { return s.Offline && s.Queued == 1 })
	if j := s.Jobs[0]; !remote.IsDisconnected(j.Err) || j.Attempts != 1 {
		t.Fatalf("job while offline: %+v", j)
	}
	for range 3 { // several pings fail; no retry starts while offline
		select {
		case <-pinged:
		case <-time.After(10 * time.Second):
			t.Fatal("no ping while offline")
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d upload calls while offline", calls.Load())
	}
	f.SetDown(false)
	s = waitFor(t, m, "the retry", func(s Snapshot) bool { return finished(s) && s.FilesDone == 1 })
	if j := s.Jobs[0]; j.State != Done || j.Attempts != 2 || j.Err != nil || s.Offline {
		t.Fatalf("after the retry:\n%s", dump(s))
	}
	if got, _ := f.Content("/home/tester/a"); !bytes.Equal(got, content(1, 3000)) {
		t.Fatal("content differs")
	}
}

func TestRetriesRunOut(t *testing.T) {
	f := remotetest.New()
	var calls atomic.Int32
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		calls.Add(1)
		return remote.Entry{}, fmt.Errorf("put: %w", context.DeadlineExceeded) // a timeout
	}}
	m := newManager(t, h, Options{Retries: 2, Backoff: time.Millisecond})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), []byte("a"))
	m.Upload(filepath.Join(dir, "a"), "/home/tester")
	s := waitFor(t, m, "failure", func(s Snapshot) bool { return s.Failed == 1 })
	if calls.Load() != 3 || s.Jobs[0].Attempts != 3 || s.Offline {
		t.Fatalf("%d calls\n%s", calls.Load(), dump(s))
	}
}

func TestRefusalNotRetried(t *testing.T) {
	f := remotetest.New()
	var calls atomic.Int32
	var refuse atomic.Bool
	refuse.Store(true)
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		calls.Add(1)
		if refuse.Load() {
			return remote.Entry{}, fmt.Errorf("put %s: %w", p, remote.ErrForbidden)
		}
		return next()
	}}
	m := newManager(t, h, Options{Backoff: time.Millisecond})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), []byte("abc"))
	m.Upload(filepath.Join(dir, "a"), "/home/tester")
	// Failed with no retry pending: nothing will run it again by itself.
	s := waitFor(t, m, "failure", func(s Snapshot) bool { return s.Failed == 1 && s.Running == 0 })
	j := s.Jobs[0]
	if calls.Load() != 1 || j.Attempts != 1 || !errors.Is(j.Err, remote.ErrForbidden) || s.Offline || s.Retrying != 0 || !j.RetryAt.IsZero() {
		t.Fatalf("%d calls\n%s", calls.Load(), dump(s))
	}
	refuse.Store(false)
	m.Retry(j.ID)
	s = waitFor(t, m, "the manual retry", func(s Snapshot) bool { return s.FilesDone == 1 })
	if s.Jobs[0].Attempts != 2 || s.Failed != 0 {
		t.Fatalf("after retry:\n%s", dump(s))
	}
}

func TestConflictsUpload(t *testing.T) {
	f := remotetest.New()
	src := filepath.Join(t.TempDir(), "d")
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "new.txt"} {
		writeFile(t, filepath.Join(src, n), []byte("local "+n))
	}
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "c (1).txt"} {
		f.PutFile("/home/tester/d/"+n, []byte("remote "+n))
	}
	m := newManager(t, f, Options{})
	m.Upload(src, "/home/tester")
	s := waitFor(t, m, "three conflicts", func(s Snapshot) bool { return s.Conflicts == 3 && finished(s) == false && s.FilesDone == 1 })
	if s.Conflict == nil || s.Conflict.Dst != "/home/tester/d/a.txt" {
		t.Fatalf("first conflict: %+v", s.Conflict)
	}
	m.Resolve(jobByDst(t, s, "/home/tester/d/a.txt").ID, Decision{Action: Overwrite})
	m.Resolve(jobByDst(t, s, "/home/tester/d/b.txt").ID, Decision{Action: Skip})
	m.Resolve(jobByDst(t, s, "/home/tester/d/c.txt").ID, Decision{Action: Rename})
	s = waitFor(t, m, "the decisions", finished)
	for n, want := range map[string]string{
		"a.txt": "local a.txt", "b.txt": "remote b.txt", "c.txt": "remote c.txt",
		"c (1).txt": "remote c (1).txt", "c (2).txt": "local c.txt", "new.txt": "local new.txt",
	} {
		if got, _ := f.Content("/home/tester/d/" + n); string(got) != want {
			t.Errorf("%s = %q, want %q", n, got, want)
		}
	}
	if j := jobByDst(t, s, "/home/tester/d/b.txt"); j.State != Skipped {
		t.Errorf("b.txt is %s", j.State)
	}
	if s.Files != 3 || s.FilesDone != 3 {
		t.Errorf("totals:\n%s", dump(s))
	}
}

func TestConflictsForAll(t *testing.T) {
	f := remotetest.New()
	gate := make(chan struct{})
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		if filepath.Base(local) == "slow" {
			<-gate
		}
		return next()
	}}
	src := filepath.Join(t.TempDir(), "d")
	for i := range 4 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), []byte("local"))
		f.PutFile(fmt.Sprintf("/home/tester/d/f%d", i), []byte("remote"))
	}
	m := newManager(t, h, Options{})
	m.Upload(src, "/home/tester")
	s := waitFor(t, m, "conflicts", func(s Snapshot) bool { return s.Conflicts == 4 })
	m.Resolve(s.Conflict.ID, Decision{Action: Rename, ForAll: true})
	waitFor(t, m, "the renames", func(s Snapshot) bool { return finished(s) && s.FilesDone == 4 })
	for i := range 4 {
		if got, _ := f.Content(fmt.Sprintf("/home/tester/d/f%d (1)", i)); string(got) != "local" {
			t.Errorf("f%d (1) = %q", i, got)
		}
	}

	// The standing decision ended with the batch: a new conflict asks.
	slow := filepath.Join(t.TempDir(), "slow")
	writeFile(t, slow, []byte("slow"))
	m.Upload(slow, "/home/tester") // keeps the batch going
	m.Upload(filepath.Join(src, "f0"), "/home/tester/d")
	s = waitFor(t, m, "a new conflict", func(s Snapshot) bool { return s.Conflicts == 1 && s.Running == 1 })

	// While the batch lasts, a standing decision also answers conflicts
	// found later.
	m.Resolve(s.Conflict.ID, Decision{Action: Overwrite, ForAll: true})
	waitFor(t, m, "the overwrite", func(s Snapshot) bool { return s.FilesDone == 5 })
	m.Upload(filepath.Join(src, "f1"), "/home/tester/d")
	waitFor(t, m, "a later overwrite", func(s Snapshot) bool { return s.FilesDone == 6 && s.Conflicts == 0 })
	close(gate)
	waitFor(t, m, "the batch", func(s Snapshot) bool { return finished(s) && s.FilesDone == 7 })
	for _, n := range []string{"f0", "f1"} {
		if got, _ := f.Content("/home/tester/d/" + n); string(got) != "local" {
			t.Errorf("%s = %q", n, got)
		}
	}
}

func TestConflictsDownload(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/pics/photo.jpg", []byte("remote photo"))
	f.PutFile("/home/tester/pics/.profile", []byte("remote profile"))
	f.PutFile("/home/tester/pics/keep", []byte("remote keep"))
	out := t.TempDir()
	writeFile(t, filepath.Join(out, "pics", "photo.jpg"), []byte("local photo"))
	writeFile(t, filepath.Join(out, "pics", ".profile"), []byte("local profile"))
	writeFile(t, filepath.Join(out, "pics", "keep"), []byte("local keep"))
	m := newManager(t, f, Options{})
	m.Download("/home/tester/pics", true, out)
	s := waitFor(t, m, "conflicts", func(s Snapshot) bool { return s.Conflicts == 3 })
	pics := filepath.Join(out, "pics")
	m.Resolve(jobByDst(t, s, filepath.Join(pics, "photo.jpg")).ID, Decision{Action: Rename})
	m.Resolve(jobByDst(t, s, filepath.Join(pics, ".profile")).ID, Decision{Action: Rename})
	m.Resolve(jobByDst(t, s, filepath.Join(pics, "keep")).ID, Decision{Action: Skip, ForAll: true})
	waitFor(t, m, "the decisions", finished)
	want := map[string]string{
		"photo.jpg": "local photo", "photo (1).jpg": "remote photo",
		".profile": "local profile", ".profile (1)": "remote profile", "keep": "local keep",
	}
	if got := tree(t, pics); !reflect.DeepEqual(got, want) {
		t.Fatalf("local folder: %v", got)
	}
}

// TestPersistence closes a Manager mid-batch and finishes the batch in a
// new one.
func TestPersistence(t *testing.T) {
	f := remotetest.New()
	state := filepath.Join(t.TempDir(), "state", "transfers.json")
	src := t.TempDir()
	for i := range 6 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), content(i, 100+i))
	}
	m1, err := New(blockingUploads(f), Options{Parallel: 2, StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	m1.Upload(src, "/home/tester")
	waitFor(t, m1, "two running", func(s Snapshot) bool { return s.Running == 2 && s.Queued == 4 && s.Walking == 0 })
	m1.Close()

	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v", fi.Mode())
	}
	b, _ := os.ReadFile(state)
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Version != 1 || len(st.Jobs) != 6 || len(st.Walks) != 0 {
		t.Fatalf("state: %s", b)
	}
	for _, j := range st.Jobs {
		if j.State != "queued" || j.Kind != Upload {
			t.Fatalf("state: %s", b)
		}
	}

	m2 := newManager(t, f, Options{StatePath: state})
	if n := m2.Resumed(); n != 6 {
		t.Fatalf("Resumed = %d", n)
	}
	s := waitFor(t, m2, "the rest", func(s Snapshot) bool { return finished(s) && s.FilesDone == 6 })
	var total int64
	for i := range 6 {
		total += int64(100 + i)
		if got, _ := f.Content(fmt.Sprintf("%s/f%d", "/home/tester/"+filepath.Base(src), i)); !bytes.Equal(got, content(i, 100+i)) {
			t.Errorf("f%d differs", i)
		}
	}
	if s.Bytes != total || s.BytesDone != total {
		t.Fatalf("totals:\n%s", dump(s))
	}
	// With nothing unfinished the state file goes away. The saver's
	// debounce runs on the real clock, so the save is the one Close makes.
	m2.Close()
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file left after the batch: %v", err)
	}
}

// TestPersistenceWalk closes a Manager while a folder is being listed.
func TestPersistenceWalk(t *testing.T) {
	f := remotetest.New()
	for _, p := range []string{"top.txt", "sub/a", "sub/b", "sub/deep/c", "zz/d"} {
		f.PutFile("/home/tester/big/"+p, []byte("data of "+p))
	}
	state := filepath.Join(t.TempDir(), "transfers.json")
	out := t.TempDir()
	blocked := make(chan struct{}, 1)
	h := &hooked{Fake: f, list: func(ctx context.Context, dir string, next func() (remote.Page, error)) (remote.Page, error) {
		if dir == "/home/tester/big/sub" {
			blocked <- struct{}{}
			<-ctx.Done()
			return remote.Page{}, ctx.Err()
		}
		return next()
	}}
	m1, err := New(h, Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	m1.Download("/home/tester/big", true, out)
	<-blocked
	waitFor(t, m1, "the top files", func(s Snapshot) bool { return s.FilesDone >= 1 && s.Walking >= 1 })
	m1.Close()

	m2 := newManager(t, f, Options{StatePath: state})
	if m2.Resumed() == 0 {
		t.Fatal("nothing resumed")
	}
	waitFor(t, m2, "the rest", func(s Snapshot) bool { return finished(s) && s.Failed == 0 })
	want := map[string]string{"top.txt": "data of top.txt", "sub/": "", "sub/a": "data of sub/a", "sub/b": "data of sub/b",
		"sub/deep/": "", "sub/deep/c": "data of sub/deep/c", "zz/": "", "zz/d": "data of zz/d"}
	if got := tree(t, filepath.Join(out, "big")); !reflect.DeepEqual(got, want) {
		t.Fatalf("downloaded: %v", got)
	}
}

func TestPersistenceKeepsFailed(t *testing.T) {
	f := remotetest.New()
	state := filepath.Join(t.TempDir(), "transfers.json")
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		return remote.Entry{}, fmt.Errorf("put: %w", remote.ErrForbidden)
	}}
	m1, err := New(h, Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), []byte("a"))
	m1.Upload(filepath.Join(dir, "a"), "/home/tester")
	m1.Upload(filepath.Join(dir, "missing"), "/home/tester")
	waitFor(t, m1, "failures", func(s Snapshot) bool { return s.Failed == 2 && finished(s) })
	m1.Close()

	m2 := newManager(t, f, Options{StatePath: state})
	s := m2.Snapshot()
	if m2.Resumed() != 0 || s.Failed != 2 {
		t.Fatalf("resumed %d\n%s", m2.Resumed(), dump(s))
	}
	for _, j := range s.Jobs {
		if j.Err == nil || (j.Dir && !strings.Contains(j.Err.Error(), "missing")) {
			t.Fatalf("failed job lost its error: %+v", j)
		}
	}
	// The folder-level failure retries as a listing.
	writeFile(t, filepath.Join(dir, "missing"), []byte("now here"))
	for _, j := range s.Jobs {
		if j.Dir {
			m2.Retry(j.ID)
		}
	}
	waitFor(t, m2, "the retried listing", func(s Snapshot) bool { return s.FilesDone == 1 && finished(s) })
	if got, _ := f.Content("/home/tester/missing"); string(got) != "now here" {
		t.Fatalf("missing = %q", got)
	}
}

func TestCorruptStateRefused(t *testing.T) {
	state := filepath.Join(t.TempDir(), "transfers.json")
	writeFile(t, state, []byte("{nope"))
	if _, err := New(remotetest.New(), Options{StatePath: state}); err == nil {
		t.Fatal("corrupt state accepted")
	}
}

// TestProgressUndo: an attempt that reports bytes and fails undoes them;
// bytes an attempt leaves behind (resumable) are not counted twice by the
// retry; progress never passes the size or goes back otherwise.
func TestProgressUndo(t *testing.T) {
	const size = 10000
	f := remotetest.New()
	var m *Manager
	var mu sync.Mutex
	var seen []int64 // Done after each callback
	var calls atomic.Int32
	release := make(chan struct{})
	record := func() {
		s := m.Snapshot()
		mu.Lock()
		seen = append(seen, s.Jobs[0].Done)
		mu.Unlock()
	}
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		switch calls.Add(1) {
		case 1: // sends half, fails, undoes it
			progress(size / 2)
			record()
			progress(-size / 2)
			record()
			return remote.Entry{}, fmt.Errorf("put: %w", context.DeadlineExceeded)
		case 2: // sends 3000 that the server keeps (a part), then fails
			progress(3000)
			record()
			<-release
			return remote.Entry{}, fmt.Errorf("put: %w", context.DeadlineExceeded)
		default: // resumes: reports the kept part again, then too much
			progress(3000)
			record()
			progress(2000)
			record()
			progress(size)
			record()
			return next()
		}
	}}
	m = newManager(t, h, Options{Backoff: 150 * time.Millisecond})
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), content(3, size))
	m.Upload(filepath.Join(dir, "a"), "/home/tester")

	s := waitFor(t, m, "the first retry's wait", func(s Snapshot) bool { return s.Retrying == 1 && s.Jobs[0].Attempts == 1 })
	if s.BytesDone != 0 || s.Jobs[0].Done != 0 {
		t.Fatalf("undone bytes still counted:\n%s", dump(s))
	}
	waitFor(t, m, "the second attempt", func(s Snapshot) bool { return calls.Load() == 2 && s.Jobs[0].Done == 3000 })
	close(release)
	s = waitFor(t, m, "the second retry's wait", func(s Snapshot) bool { return s.Retrying == 1 && s.Jobs[0].Attempts == 2 })
	if s.BytesDone != 3000 {
		t.Fatalf("kept bytes:\n%s", dump(s))
	}
	s = waitFor(t, m, "done", func(s Snapshot) bool { return s.FilesDone == 1 })
	if s.Bytes != size || s.BytesDone != size {
		t.Fatalf("totals:\n%s", dump(s))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []int64{size / 2, 0, 3000, 3000, 5000, size}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("Done after each callback: %v, want %v", seen, want)
	}
}

// TestLinks: an upload follows links to files and folders (localtree's
// rule, as strata put -r), skips link cycles, broken links and special
// files with the reason on each, and counts them in the snapshot.
func TestLinks(t *testing.T) {
	f := remotetest.New()
	base := t.TempDir()
	src := filepath.Join(base, "d")
	writeFile(t, filepath.Join(src, "real"), []byte("x"))
	writeFile(t, filepath.Join(src, "deep", "y"), []byte("y"))
	writeFile(t, filepath.Join(base, "other", "z"), []byte("z"))
	for link, target := range map[string]string{"loop": src, "link": filepath.Join(src, "real"), "dir-link": "../other",
		"broken": "nowhere", "deep/up": ".."} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Skip("no symlinks:", err)
		}
	}
	m := newManager(t, f, Options{})
	m.Upload(src, "/home/tester")
	s := waitFor(t, m, "the batch", func(s Snapshot) bool { return finished(s) && s.FilesDone == 4 })
	for dst, reason := range map[string]error{"loop": localtree.ErrCycle, "deep/up": localtree.ErrCycle, "broken": localtree.ErrBrokenLink} {
		if j := jobByDst(t, s, "/home/tester/d/"+dst); j.State != Skipped || !errors.Is(j.Err, reason) {
			t.Errorf("%s: %+v, want skipped for %v", dst, j, reason)
		}
	}
	for p, want := range map[string]string{"link": "x", "dir-link/z": "z", "real": "x", "deep/y": "y"} {
		if got, _ := f.Content("/home/tester/d/" + p); string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	if s.Skipped != 3 || s.Failed != 0 {
		t.Fatalf("snapshot:\n%s", dump(s))
	}
}

// TestLinkCycleAfterResume: a walk resumed from the state file still knows
// the folders above it, so a link back to one of them is a cycle there
// too, not one more copy of the tree.
func TestLinkCycleAfterResume(t *testing.T) {
	f := remotetest.New()
	src := filepath.Join(t.TempDir(), "d")
	writeFile(t, filepath.Join(src, "a", "b", "file"), []byte("f"))
	if err := os.Symlink("../..", filepath.Join(src, "a", "b", "up")); err != nil {
		t.Skip("no symlinks:", err)
	}
	state := filepath.Join(t.TempDir(), "transfers.json")
	blocked := make(chan struct{}, 1)
	h := &hooked{Fake: f, mkdir: func(ctx context.Context, p string, next func() (remote.Entry, error)) (remote.Entry, error) {
		if p == "/home/tester/d/a/b" {
			blocked <- struct{}{}
			<-ctx.Done()
			return remote.Entry{}, ctx.Err()
		}
		return next()
	}}
	m1, err := New(h, Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	m1.Upload(src, "/home/tester")
	<-blocked
	m1.Close()

	m2 := newManager(t, f, Options{StatePath: state})
	if m2.Resumed() == 0 {
		t.Fatal("nothing resumed")
	}
	s := waitFor(t, m2, "the rest", func(s Snapshot) bool { return finished(s) && s.FilesDone == 1 })
	if j := jobByDst(t, s, "/home/tester/d/a/b/up"); j.State != Skipped || !errors.Is(j.Err, localtree.ErrCycle) {
		t.Fatalf("up after resume: %+v\n%s", j, dump(s))
	}
	if _, ok := f.Content("/home/tester/d/a/b/up/a/b/file"); ok {
		t.Fatal("the cycle was followed once more after the resume")
	}
}

func TestUnsafeRemoteNames(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/d/ok", []byte("ok"))
	h := &hooked{Fake: f, list: func(ctx context.Context, dir string, next func() (remote.Page, error)) (remote.Page, error) {
		pg, err := next()
		pg.Entries = append(pg.Entries, remote.Entry{Name: "..", Kind: "file", Size: 1}, remote.Entry{Name: "a/../../x", Kind: "file", Size: 1})
		return pg, err
	}}
	m := newManager(t, h, Options{})
	out := t.TempDir()
	m.Download("/home/tester/d", true, out)
	s := waitFor(t, m, "the batch", func(s Snapshot) bool { return finished(s) && s.FilesDone == 1 })
	skipped := 0
	for _, j := range s.Jobs {
		if j.State == Skipped && j.Err != nil {
			skipped++
		}
	}
	if skipped != 2 {
		t.Fatalf("unsafe names not skipped:\n%s", dump(s))
	}
}

func TestSnapshotRange(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, blockingUploads(f), Options{Parallel: 2})
	src := t.TempDir()
	for i := range 8 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), content(i, 10))
	}
	m.Upload(src, "/home/tester")
	waitFor(t, m, "two running", func(s Snapshot) bool { return s.Running == 2 && s.Queued == 6 })
	m.Cancel(5)
	full := m.Snapshot()
	var order []State
	for _, j := range full.Jobs {
		order = append(order, j.State)
	}
	if full.Total != 8 || order[0] != Running || order[1] != Running || order[7] != Canceled {
		t.Fatalf("order %v", order)
	}
	for off := 0; off <= 8; off++ {
		for lim := 0; lim <= 9; lim++ {
			w := m.SnapshotRange(off, lim)
			want := full.Jobs[min(off, 8):min(off+lim, 8)]
			if len(w.Jobs) != len(want) {
				t.Fatalf("range %d+%d: %d jobs, want %d", off, lim, len(w.Jobs), len(want))
			}
			for i := range want {
				if w.Jobs[i].ID != want[i].ID {
					t.Fatalf("range %d+%d: job %d is #%d, want #%d", off, lim, i, w.Jobs[i].ID, want[i].ID)
				}
			}
		}
	}
}

func TestRate(t *testing.T) {
	c := newClock()
	var r rate
	r.reset(c.Now(), 0)
	for range 10 {
		c.Advance(time.Second)
		r.add(c.Now(), r.s[len(r.s)-1].n+1000)
	}
	if v := r.speed(c.Now()); v != 1000 {
		t.Fatalf("speed %v", v)
	}
	if len(r.s) > 7 {
		t.Fatalf("%d samples kept", len(r.s))
	}
	c.Advance(10 * time.Second) // stalled: the speed falls to 0
	if v := r.speed(c.Now()); v != 0 {
		t.Fatalf("stalled speed %v", v)
	}
}

// TestCloseStopsGoroutines: Close waits for the workers, walkers, saver
// and the pings of an unreachable server.
func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	f := remotetest.New()
	state := filepath.Join(t.TempDir(), "transfers.json")
	m, err := New(blockingUploads(f), Options{StatePath: state, Backoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for i := range 6 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), []byte("x"))
	}
	m.Upload(src, "/home/tester")
	waitFor(t, m, "uploads", func(s Snapshot) bool { return s.Running == 4 })
	f.SetDown(true)
	m.Download("/home/tester/nothing", true, t.TempDir())
	waitFor(t, m, "offline", func(s Snapshot) bool { return s.Offline })
	m.Close()
	m.Close() // twice is fine
	// Close returns once its goroutines have: none is left to wait for.
	if runtime.NumGoroutine() > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before Close:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
	}
	var st stateFile
	b, _ := os.ReadFile(state)
	if err := json.Unmarshal(b, &st); err != nil || len(st.Jobs) != 6 || len(st.Walks) != 1 {
		t.Fatalf("state after Close: %s", b)
	}
}
