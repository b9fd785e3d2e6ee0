package complete_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-storage/strata/tui/complete"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

func TestResolve(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip(err)
	}
	fake := remotetest.New()
	for _, tc := range []struct {
		tree    complete.Tree
		in, out string
	}{
		{complete.RemoteTree(fake, "/"), "//home/tester", "/home/tester"},
		{complete.RemoteTree(fake, "/home/tester"), "projects", "/home/tester/projects"},
		{complete.RemoteTree(fake, "/home/tester"), "/a/./b/../c/", "/a/c"},
		{complete.RemoteTree(fake, "/home"), "..", "/"},
		{complete.RemoteTree(fake, "/"), "../..", "/"},
		{complete.RemoteTree(fake, "/home"), "", "/home"},
		{complete.LocalTree("/tmp"), "x//y", "/tmp/x/y"},
		{complete.LocalTree("/tmp"), "/var/../etc", "/etc"},
		{complete.LocalTree("/tmp"), "~", home},
		{complete.LocalTree("/tmp"), "~/docs", filepath.Join(home, "docs")},
	} {
		if got := tc.tree.Resolve(tc.in); got != tc.out {
			t.Errorf("Resolve(%q) = %q, want %q", tc.in, got, tc.out)
		}
	}
}

func TestPath(t *testing.T) {
	ctx := context.Background()
	local := t.TempDir()
	for _, d := range []string{"photos-2025", "photos-2026", "projects", ".config", "music"} {
		if err := os.Mkdir(filepath.Join(local, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(local, "photos.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(local, "music"), filepath.Join(local, "musiclink")); err != nil {
		t.Fatal(err)
	}
	fake := remotetest.New()
	for _, d := range []string{"photos-2025", "photos-2026", "projects", ".config", "music", "musiclink"} {
		fake.MkdirAll("/home/tester/" + d)
	}
	fake.PutFile("/home/tester/photos.txt", nil)

	trees := map[string]complete.Tree{
		"local":  complete.LocalTree(local),
		"remote": complete.RemoteTree(fake, "/home/tester"),
	}
	for name, tree := range trees {
		t.Run(name, func(t *testing.T) {
			for _, tc := range []struct {
				typed, value string
				cands        []string
			}{
				{"pr", "projects/", nil},
				{"ph", "photos-202", []string{"photos-2025", "photos-2026"}},
				{"photos-2026", "photos-2026/", nil},
				{"mu", "music", []string{"music", "musiclink"}},
				{"", "", []string{"music", "musiclink", "photos-2025", "photos-2026", "projects"}},
				{".c", ".config/", nil},
			} {
				res, err := tree.Path(ctx, tc.typed)
				if err != nil {
					t.Errorf("Path(%q): %v", tc.typed, err)
					continue
				}
				if res.Value != tc.value || !slices.Equal(res.Candidates, tc.cands) {
					t.Errorf("Path(%q) = %q %v, want %q %v", tc.typed, res.Value, res.Candidates, tc.value, tc.cands)
				}
			}
			var nm *complete.NoMatchError
			if _, err := tree.Path(ctx, "zz"); !errors.As(err, &nm) || nm.Prefix != "zz" {
				t.Errorf("Path(zz) = %v, want a NoMatchError", err)
			}
		})
	}
	// The typed folder part is kept as typed.
	res, err := trees["remote"].Path(ctx, "/home/tester/pro")
	if err != nil || res.Value != "/home/tester/projects/" {
		t.Fatalf("absolute: %q %v", res.Value, err)
	}
	// Only the prefix's names are asked for.
	fake.Calls["List"] = 0
	if _, err := trees["remote"].Path(ctx, "pro"); err != nil || fake.Calls["List"] != 0 || fake.Calls["ListPrefix"] == 0 {
		t.Fatalf("listed the whole folder: %v %v", fake.Calls, err)
	}
}
