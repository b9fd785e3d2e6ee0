package treecount

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

func TestRemotePaged(t *testing.T) {
	f := remotetest.New()
	const n = 2500
	for i := range n {
		f.PutFile(fmt.Sprintf("/home/tester/big/f%04d", i), []byte("12345"))
	}
	f.PutFile("/home/tester/big/sub/deeper/x", make([]byte, 100))
	f.PutFile("/home/tester/one", make([]byte, 7))
	var reports []Total
	got, err := Remote(context.Background(), f, []string{"/home/tester/big", "/home/tester/one"}, func(t Total) { reports = append(reports, t) })
	if err != nil {
		t.Fatal(err)
	}
	hot := Tally{Files: n + 2, Bytes: n*5 + 100 + 7}
	if want := (Total{Files: n + 2, Folders: 2, Bytes: n*5 + 100 + 7, Hot: hot}); got != want {
		t.Errorf("counted %+v, want %+v", got, want)
	}
	// big: 3 pages of at most 1,000 (it holds 2,501 entries); sub and deeper: 1 each.
	if got := f.Calls["List"]; got != 5 {
		t.Errorf("%d List calls, want 5 (paged)", got)
	}
	// A report after each page, growing.
	if len(reports) != 5 || reports[0].Files != 1+1000 || reports[4] != got {
		t.Errorf("reports %+v", reports)
	}
}

func TestRemoteErrors(t *testing.T) {
	f := remotetest.New()
	if _, err := Remote(context.Background(), f, []string{"/nope"}, nil); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	f.PutFile("/home/tester/a", []byte("x"))
	f.SetDown(true)
	if _, err := Remote(context.Background(), f, []string{"/home/tester"}, nil); !errors.Is(err, remote.ErrUnavailable) {
		t.Errorf("down: %v", err)
	}
	f.SetDown(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Remote(ctx, f, []string{"/home/tester"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "x"), make([]byte, 10), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "y"), make([]byte, 20), 0o644))
	must(os.WriteFile(filepath.Join(dir, "z"), make([]byte, 5), 0o644))
	must(os.Symlink(dir, filepath.Join(dir, "a", "loop"))) // counted, not followed
	got, err := Local(context.Background(), []string{filepath.Join(dir, "a"), filepath.Join(dir, "z")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Total{Files: 4, Folders: 1, Bytes: 35}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := Local(context.Background(), []string{filepath.Join(dir, "missing")}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func TestLocalReportsAndUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	dir := t.TempDir()
	for i := range 2500 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), []byte("1"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	var reports []Total
	got, err := Local(context.Background(), []string{dir}, func(t Total) { reports = append(reports, t) })
	if err != nil {
		t.Fatal(err)
	}
	if want := (Total{Files: 2500, Folders: 1, Bytes: 2500, Unreadable: 1}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if len(reports) != 2 {
		t.Errorf("%d reports for 2,502 entries, want one per thousand: %+v", len(reports), reports)
	}
	// The root itself must be readable.
	if _, err := Local(context.Background(), []string{locked}, nil); !errors.Is(err, os.ErrPermission) {
		t.Errorf("locked root: %v", err)
	}
}

func TestString(t *testing.T) {
	for _, c := range []struct {
		t    Total
		want string
	}{
		{Total{Files: 1204, Folders: 37, Bytes: 3435973837}, "1,204 files in 37 folders, 3.2 GiB"},
		{Total{Files: 1, Bytes: 5}, "1 file, 5 B"},
		{Total{Folders: 1, Unreadable: 2}, "0 files in 1 folder, 0 B (2 folders could not be read)"},
	} {
		if got := c.t.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
