package storepath

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	for in, want := range map[string]string{
		"/":              "/",
		"/a":             "/a",
		"/a/b":           "/a/b",
		"/a/b/":          "/a/b",
		"/é/日本":          "/é/日本",
		"/a b/.hidden":   "/a b/.hidden",
		"/...":           "/...",
		"/a\\b":          "/a\\b",
		"/" + n(255):     "/" + n(255),
		"/emoji 🙂/x.txt": "/emoji 🙂/x.txt",
	} {
		p, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if p.String() != want {
			t.Errorf("Parse(%q) = %q, want %q", in, p, want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	long := "/" + strings.Repeat(n(200)+"/", 21) // > 4096 bytes
	for _, in := range []string{
		"", "a", "a/b", "//", "/a//b", "/a/./b", "/a/../b", "/..", "/.", "/a/..",
		"/a\x00b", "/a\nb", "/a\x7fb", "/a\u0085b", "/\xff", "/a/\xc3",
		"/" + n(256), long, "/a//", "//a",
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, not ErrInvalid", in, err)
		}
	}
}

func TestFromSegmentsRefusesSlash(t *testing.T) {
	if _, err := FromSegments([]string{"a", "b/c"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
	if _, err := FromSegments([]string{"a", ".."}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v", err)
	}
}

func TestNavigation(t *testing.T) {
	p := MustParse("/home/alice/docs")
	if p.Name() != "docs" || p.Parent().String() != "/home/alice" || p.Depth() != 3 {
		t.Fatalf("name %q parent %q depth %d", p.Name(), p.Parent(), p.Depth())
	}
	if Root.Parent() != Root || Root.Name() != "" || !Root.IsRoot() || Root.Depth() != 0 {
		t.Fatal("root")
	}
	if MustParse("/a").Parent() != Root {
		t.Fatal("parent of /a")
	}
	if !p.Within(MustParse("/home/alice")) || !p.Within(p) || !p.Within(Root) {
		t.Fatal("within")
	}
	if MustParse("/home/alice2").Within(MustParse("/home/alice")) {
		t.Fatal("sibling with shared prefix counted as within")
	}
	if rel, ok := p.Rel(MustParse("/home")); !ok || rel != "alice/docs" {
		t.Fatalf("rel %q %v", rel, ok)
	}
	j, err := p.Join("x")
	if err != nil || j.String() != "/home/alice/docs/x" {
		t.Fatalf("join %v %v", j, err)
	}
	if _, err := p.Join(".."); err == nil {
		t.Fatal("join ..")
	}
	if got := strings.Join(p.Segments(), ","); got != "home,alice,docs" {
		t.Fatal(got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/../b", "/%2e%2e", "/a//b", "/\x00", "/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		// A parsed path re-parses to itself and its segments are valid names.
		q, err := Parse(p.String())
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %v %v", p, q, err)
		}
		for _, seg := range p.Segments() {
			if ValidName(seg) != nil || seg == "." || seg == ".." {
				t.Fatalf("bad segment %q in %q", seg, p)
			}
		}
		if len(p.String()) > MaxPath {
			t.Fatalf("too long: %d", len(p.String()))
		}
	})
}

func n(k int) string { return strings.Repeat("x", k) }
