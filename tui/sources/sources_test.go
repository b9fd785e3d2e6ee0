package sources

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

func names(items []filelist.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func write(t *testing.T, p string, size int) {
	t.Helper()
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLocal(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "a.txt"), 5)
	write(t, filepath.Join(root, "b.bin"), 1000)
	write(t, filepath.Join(root, ".hidden"), 1)
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "sub", "inner"), 3)
	for link, target := range map[string]string{"linkdir": "sub", "linkfile": "b.bin", "dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	src := Local(root)
	ctx := context.Background()

	p1, err := src.Page(ctx, root, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p1.Items); !slices.Equal(got, []string{".hidden", "a.txt", "b.bin"}) || p1.Cursor != "b.bin" {
		t.Fatalf("page 1: %v, cursor %q", got, p1.Cursor)
	}
	a := p1.Items[1]
	if a.Path != filepath.Join(root, "a.txt") || a.Dir || a.Size != 5 || a.ModTime.IsZero() {
		t.Errorf("a.txt: %+v", a)
	}

	// Later pages come from the first page's snapshot: an entry created
	// since is not listed, one deleted since is skipped.
	write(t, filepath.Join(root, "c.txt"), 1)
	if err := os.Remove(filepath.Join(root, "dangling")); err != nil {
		t.Fatal(err)
	}
	p2, err := src.Page(ctx, root, p1.Cursor, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p2.Items); !slices.Equal(got, []string{"linkdir", "linkfile"}) || p2.Cursor != "linkfile" {
		t.Fatalf("page 2: %v, cursor %q", got, p2.Cursor)
	}
	if ld, lf := p2.Items[0], p2.Items[1]; !ld.Dir || ld.Size != 0 || lf.Dir || lf.Size != 1000 {
		t.Errorf("links: %+v %+v", ld, lf)
	}
	p3, err := src.Page(ctx, root, p2.Cursor, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p3.Items); !slices.Equal(got, []string{"sub"}) || p3.Cursor != "" || !p3.Items[0].Dir {
		t.Fatalf("page 3: %v, cursor %q", got, p3.Cursor)
	}
	// A first page reads the folder again.
	all, err := src.Page(ctx, root, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all.Items); !slices.Equal(got, []string{".hidden", "a.txt", "b.bin", "c.txt", "linkdir", "linkfile", "sub"}) || all.Cursor != "" {
		t.Fatalf("reread: %v", got)
	}

	// A broken link is shown as itself.
	if err := os.Symlink("nowhere", filepath.Join(root, "zbroken")); err != nil {
		t.Fatal(err)
	}
	all, _ = src.Page(ctx, root, "", 100)
	if z := all.Items[len(all.Items)-1]; z.Name != "zbroken" || z.Dir {
		t.Errorf("broken link: %+v", z)
	}

	sub := src.Join(root, "sub")
	if sub != filepath.Join(root, "sub") || src.Parent(sub) != root || src.Parent(root) != root || src.Root() != root {
		t.Errorf("paths: join %q, parent %q, parent of root %q", sub, src.Parent(sub), src.Parent(root))
	}
	if src.Title() != "Local" {
		t.Error(src.Title())
	}
	if _, err := src.Page(ctx, filepath.Join(root, "missing"), "", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := src.Page(cancelled, root, "", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if Local("").Root() != string(filepath.Separator) {
		t.Error("default root")
	}
}

func TestRemote(t *testing.T) {
	f := remotetest.New()
	f.PutFile("/home/tester/b.txt", []byte("hello"))
	f.PutFile("/home/tester/b.txt", []byte("hello, again"))
	f.PutFile("/home/tester/a.txt", []byte("x"))
	f.PutFile("/home/tester/.dot", []byte("."))
	f.MkdirAll("/home/tester/docs")
	src := Remote(f)
	ctx := context.Background()

	p1, err := src.Page(ctx, "/home/tester", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p1.Items); !slices.Equal(got, []string{".dot", "a.txt"}) || p1.Cursor == "" {
		t.Fatalf("page 1: %v, cursor %q", got, p1.Cursor)
	}
	p2, err := src.Page(ctx, "/home/tester", p1.Cursor, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p2.Items); !slices.Equal(got, []string{"b.txt", "docs"}) || p2.Cursor != "" {
		t.Fatalf("page 2: %v, cursor %q", got, p2.Cursor)
	}
	b, docs := p2.Items[0], p2.Items[1]
	if b.Path != "/home/tester/b.txt" || b.Dir || b.Size != 12 || b.Version != 2 || b.State != "hot" || len(b.SHA256) != 64 || b.ModTime.IsZero() || b.Created.IsZero() {
		t.Errorf("b.txt: %+v", b)
	}
	if !docs.Dir || docs.Path != "/home/tester/docs" {
		t.Errorf("docs: %+v", docs)
	}
	if n := f.Calls["List"]; n != 2 {
		t.Errorf("%d List calls", n)
	}

	if _, err := src.Page(ctx, "/nope", "", 10); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	f.SetDown(true)
	if _, err := src.Page(ctx, "/", "", 10); !remote.IsDisconnected(err) {
		t.Errorf("down: %v", err)
	}
	if src.Root() != "/" || src.Parent("/") != "/" || src.Parent("/home/tester") != "/home" || src.Join("/", "home") != "/home" || src.Title() != "Strata" {
		t.Error("paths")
	}
}
