package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

// noted waits for the move's outcome.
func noted(t *testing.T, m *Manager, seq int) Note {
	t.Helper()
	return waitFor(t, m, "the move's end", func(s Snapshot) bool { return s.Note.Seq >= seq }).Note
}

func gone(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there (%v)", p, err)
	}
}

func TestMoveUploadTree(t *testing.T) {
	f := remotetest.New()
	m := newManager(t, f, Options{})
	src := filepath.Join(t.TempDir(), "tree")
	_, n := makeTree(t, src)
	want := tree(t, src)

	m.MoveUpload(src, "/home/tester")
	note := noted(t, m, 1)
	if note.Err || note.Text != "Moved tree to /home/tester" {
		t.Errorf("note %+v", note)
	}
	if s := m.Snapshot(); s.FilesDone != n {
		t.Fatalf("ended before its files:\n%s", dump(s))
	}
	for rel, data := range want {
		if strings.HasSuffix(rel, "/") {
			continue
		}
		if got, ok := f.Content("/home/tester/tree/" + rel); !ok || string(got) != data {
			t.Errorf("%s not uploaded", rel)
		}
	}
	gone(t, src)
}

func TestMoveDownloadTree(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/d/a.txt", []byte("a"))
	f.PutFile("/home/tester/d/sub/b.txt", []byte("bb"))
	f.PutFile("/home/tester/keep.txt", []byte("k"))
	m := newManager(t, f, Options{})
	out := t.TempDir()
	m.MoveDownload("/home/tester/d", true, out)
	note := noted(t, m, 1)
	if note.Err || note.Text != "Moved d to "+out+" (the original is in the trash)" {
		t.Errorf("note %+v", note)
	}
	if got := tree(t, filepath.Join(out, "d")); !reflect.DeepEqual(got, map[string]string{"a.txt": "a", "sub/": "", "sub/b.txt": "bb"}) {
		t.Errorf("downloaded %v", got)
	}
	if _, err := f.Stat(context.Background(), "/home/tester/d"); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("the source is still on Strata: %v", err)
	}
	// In the trash, whole: one entry that restores it as it was.
	items := f.TrashItems()
	if len(items) != 1 || items[0].Path != "/home/tester/d" {
		t.Fatalf("trash %+v", items)
	}
	if _, ok := f.Content("/home/tester/keep.txt"); !ok {
		t.Error("a file outside the move went")
	}
}

// What was skipped stays at the source; the rest moves.
func TestMoveKeepsSkipped(t *testing.T) {
	t.Run("upload", func(t *testing.T) {
		f := remotetest.New()
		src := filepath.Join(t.TempDir(), "d")
		writeFile(t, filepath.Join(src, "a.txt"), []byte("a"))
		writeFile(t, filepath.Join(src, "sub", "b.txt"), []byte("b"))
		writeFile(t, filepath.Join(src, "other", "c.txt"), []byte("c"))
		f.PutFile("/home/tester/d/sub/b.txt", []byte("theirs"))
		m := newManager(t, f, Options{})
		m.MoveUpload(src, "/home/tester")
		s := waitFor(t, m, "the conflict", func(s Snapshot) bool { return s.Conflict != nil })
		m.Resolve(s.Conflict.ID, Decision{Action: Skip})
		note := noted(t, m, 1)
		if note.Text != "Moved d to /home/tester; 1 item stayed (skipped or canceled)" {
			t.Errorf("note %+v", note)
		}
		if got := tree(t, src); !reflect.DeepEqual(got, map[string]string{"sub/": "", "sub/b.txt": "b"}) {
			t.Errorf("left at the source: %v", got)
		}
	})
	t.Run("download", func(t *testing.T) {
		f := remotetest.New()
		f.PutFile("/home/tester/d/a.txt", []byte("a"))
		f.PutFile("/home/tester/d/b.txt", []byte("b"))
		out := t.TempDir()
		writeFile(t, filepath.Join(out, "d", "b.txt"), []byte("mine"))
		m := newManager(t, f, Options{})
		m.MoveDownload("/home/tester/d", true, out)
		s := waitFor(t, m, "the conflict", func(s Snapshot) bool { return s.Conflict != nil })
		m.Resolve(s.Conflict.ID, Decision{Action: Skip})
		note := noted(t, m, 1)
		if note.Text != "Kept d on Strata: 1 item was skipped or canceled" {
			t.Errorf("note %+v", note)
		}
		if _, ok := f.Content("/home/tester/d/a.txt"); !ok {
			t.Error("the source went though a file was skipped")
		}
		if len(f.TrashItems()) != 0 {
			t.Error("something went to the trash")
		}
	})
}

// A source stays while its transfer fails; a retry that works moves it.
func TestMoveWaitsForRetry(t *testing.T) {
	f := remotetest.New()
	refuse := true
	h := &hooked{Fake: f, upload: func(ctx context.Context, local, p string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		if refuse {
			return remote.Entry{}, remote.ErrForbidden
		}
		return next()
	}}
	m := newManager(t, h, Options{})
	src := filepath.Join(t.TempDir(), "one.txt")
	writeFile(t, src, []byte("x"))
	m.MoveUpload(src, "/home/tester")
	s := waitFor(t, m, "the failure", func(s Snapshot) bool { return s.Failed == 1 })
	if _, err := os.Stat(src); err != nil {
		t.Fatalf("the source went with its upload failed: %v", err)
	}
	if s.Note.Seq != 0 {
		t.Fatalf("the move ended: %+v", s.Note)
	}
	m.mu.Lock()
	refuse = false
	m.mu.Unlock()
	m.Retry(s.Jobs[0].ID)
	if note := noted(t, m, 1); note.Text != "Moved one.txt to /home/tester" {
		t.Errorf("note %+v", note)
	}
	gone(t, src)
}

// A canceled move keeps its sources.
func TestMoveCanceled(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/d/a.txt", []byte("a"))
	h := &hooked{Fake: f, download: func(ctx context.Context, p, local string, progress remote.Progress, next func() (remote.Entry, error)) (remote.Entry, error) {
		<-ctx.Done()
		return remote.Entry{}, ctx.Err()
	}}
	m := newManager(t, h, Options{})
	m.MoveDownload("/home/tester/d", true, t.TempDir())
	waitFor(t, m, "running", func(s Snapshot) bool { return s.Running == 1 })
	m.CancelAll()
	if note := noted(t, m, 1); !strings.Contains(note.Text, "Kept d on Strata") {
		t.Errorf("note %+v", note)
	}
	if _, ok := f.Content("/home/tester/d/a.txt"); !ok {
		t.Error("the source went")
	}
}

// A move interrupted by Close finishes with the next Manager, sources
// removed only then.
func TestMovePersistence(t *testing.T) {
	f := remotetest.New()
	state := filepath.Join(t.TempDir(), "transfers.json")
	src := filepath.Join(t.TempDir(), "d")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("a"))
	writeFile(t, filepath.Join(src, "sub", "b.txt"), []byte("b"))
	m1, err := New(blockingUploads(f), Options{Parallel: 1, StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	m1.MoveUpload(src, "/home/tester")
	waitFor(t, m1, "one running", func(s Snapshot) bool { return s.Running == 1 && s.Walking == 0 })
	m1.Close()
	b, _ := os.ReadFile(state)
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Moves) != 1 || st.Jobs[0].Move != st.Moves[0].ID {
		t.Fatalf("state: %s", b)
	}
	if _, err := os.Stat(filepath.Join(src, "a.txt")); err != nil {
		t.Fatal("a source went before its upload")
	}

	m2 := newManager(t, f, Options{StatePath: state})
	if note := noted(t, m2, 1); note.Text != "Moved d to /home/tester" {
		t.Errorf("note %+v", note)
	}
	gone(t, src)
}

// A quit between a move's last file and the removal of its source leaves
// the move alone in the state file: the next Manager removes the source.
func TestMoveEndsAfterRestart(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/d/a.txt", []byte("a"))
	state := filepath.Join(t.TempDir(), "transfers.json")
	b, _ := json.Marshal(stateFile{Version: stateVersion, Moves: []stateMove{{ID: 4, Kind: Download, Src: "/home/tester/d", Dst: "/tmp"}}})
	if err := os.WriteFile(state, b, 0o600); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, f, Options{StatePath: state})
	if note := noted(t, m, 1); !strings.Contains(note.Text, "the original is in the trash") {
		t.Errorf("note %+v", note)
	}
	if items := f.TrashItems(); len(items) != 1 {
		t.Errorf("trash %+v", items)
	}
	m.MoveUpload(filepath.Join(t.TempDir(), "missing"), "/home/tester")
	waitFor(t, m, "the failure", func(s Snapshot) bool { return s.Failed == 1 })
	m.Close()
	b, _ = os.ReadFile(state)
	if err := json.Unmarshal(b, new(stateFile)); err != nil || !strings.Contains(string(b), `"id":5`) {
		t.Errorf("a new move reused an id: %s", b)
	}
}

// A job that ran before (Attempts > 0) and finds its destination holding
// its bytes is done without sending them again, by the server's SHA-256 or
// by one its own user's client gave; a digest that is another uploader's
// word (api.Entry.ClientDigest), or some client's not known whose, proves
// nothing about what is stored, and the job asks, as for any file in the
// way, rather than take it for its own.
func TestResumedJobTrustsOnlyTheServersDigest(t *testing.T) {
	for _, c := range []struct {
		name         string
		clientDigest bool
		by           string // whose client gave it
		noWhoami     bool   // the user may not ask who they are
		trusted      bool
	}{
		{name: "the server's", trusted: true},
		{name: "own client's", clientDigest: true, by: "u1", trusted: true},
		{name: "another user's client's", clientDigest: true, by: "u-mallory"},
		{name: "some client's", clientDigest: true},
		{name: "own client's, not told whose", clientDigest: true, by: "u1", noWhoami: true},
	} {
		clientDigest := c.clientDigest
		f := remotetest.New()
		local := filepath.Join(t.TempDir(), "a.txt")
		if err := os.WriteFile(local, []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		f.PutFile("/home/tester/a.txt", []byte("hello"))
		if clientDigest {
			f.MarkClientDigest("/home/tester/a.txt", c.by)
		}
		if me, err := f.Whoami(context.Background()); err != nil || me.ID != "u1" {
			t.Fatalf("the fake's user %+v %v", me, err)
		}
		state := filepath.Join(t.TempDir(), "transfers.json")
		b, _ := json.Marshal(stateFile{Version: stateVersion, Jobs: []stateJob{{Kind: Upload, Src: local, Dst: "/home/tester/a.txt", Size: 5, State: "queued", Attempts: 1}}})
		if err := os.WriteFile(state, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var r remote.Remote = f
		if c.noWhoami {
			r = forbiddenWhoami{f}
		}
		m := newManager(t, r, Options{StatePath: state})
		if !c.trusted {
			waitFor(t, m, c.name+": the question", func(s Snapshot) bool { return s.Conflicts == 1 })
		} else {
			waitFor(t, m, c.name+": the job done", func(s Snapshot) bool { return s.FilesDone == 1 })
		}
		m.Close()
		if f.Calls["Upload"] != 0 {
			t.Errorf("%s: sent again", c.name)
		}

		// A download that ran before and finds the file in place is done
		// either way: the download is checked against that same digest.
		f.Calls = map[string]int{}
		dst := filepath.Join(t.TempDir(), "a.txt")
		if err := os.WriteFile(dst, []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(stateFile{Version: stateVersion, Jobs: []stateJob{{Kind: Download, Src: "/home/tester/a.txt", Dst: dst, Size: 5, State: "queued", Attempts: 1}}})
		if err := os.WriteFile(state, b, 0o600); err != nil {
			t.Fatal(err)
		}
		m = newManager(t, f, Options{StatePath: state})
		waitFor(t, m, "the download done", func(s Snapshot) bool { return s.FilesDone == 1 })
		m.Close()
		if f.Calls["Read"] != 0 {
			t.Errorf("%s: downloaded again", c.name)
		}
	}
}

// forbiddenWhoami is a server whose user may not ask who they are (a
// token's session policy without strata:GetUser).
type forbiddenWhoami struct{ *remotetest.Fake }

func (forbiddenWhoami) Whoami(context.Context) (remote.User, error) {
	return remote.User{}, remote.ErrForbidden
}
