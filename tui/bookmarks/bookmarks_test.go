package bookmarks

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "strata", "bookmarks.json")
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	local := Place{}
	a, b := Place{Remote: true, Server: "https://a"}, Place{Remote: true, Server: "https://b"}
	for _, set := range []struct {
		p         Place
		key, path string
	}{{local, "d", "/home/ann/docs"}, {a, "p", "/home/ann/photos"}, {a, "d", "/home/ann/docs-a"}, {local, "d", "/tmp"}} {
		if err := s.Set(set.p, set.key, set.path); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(local, "'", "/x"); err == nil {
		t.Error("' taken as a bookmark's name")
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file %v, %v", fi, err)
	}
	s2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s2.Get(local, "d"); !ok || got != "/tmp" {
		t.Errorf("local d = %q %v (the later Set wins)", got, ok)
	}
	if got := s2.List(a); !reflect.DeepEqual(got, []Mark{{"d", "/home/ann/docs-a"}, {"p", "/home/ann/photos"}}) {
		t.Errorf("server a: %v", got)
	}
	if got := s2.List(b); len(got) != 0 {
		t.Errorf("server b has another server's bookmarks: %v", got)
	}
	if _, ok := s2.Get(b, "p"); ok {
		t.Error("server b has a's p")
	}
}

// A file that cannot be read is reported and never overwritten.
func TestCorruptFileKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bookmarks.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err == nil {
		t.Fatal("corrupt file accepted")
	}
	if err := s.Set(Place{}, "a", "/a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err == nil {
		t.Error("saved over a file it could not read")
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Errorf("file now %q", b)
	}
	if got, ok := s.Get(Place{}, "a"); !ok || got != "/a" {
		t.Error("the bookmark is not kept for this session")
	}
}

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{"a": true, "Z": true, "7": true, "'": false, "": false, "ab": false, "é": false, " ": false} {
		if ValidKey(k) != want {
			t.Errorf("ValidKey(%q) = %v", k, !want)
		}
	}
}
