// Package storepath parses and checks paths in Strata's namespace ("/a/b/c").
//
// The rules are strict so that a path means one thing everywhere (server,
// client, CLI, TUI) and can never be turned into something else by a later
// join or clean: no empty, "." or ".." segments, valid UTF-8, no control
// characters, at most MaxName bytes per name and MaxPath bytes in all.
// These paths never reach a local filesystem: the core maps them to IDs.
package storepath

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/strata-storage/strata/internal/clip"
)

// Limits, in bytes.
const (
	MaxName = 255
	MaxPath = 4096
)

// ErrInvalid is wrapped by every error this package returns.
var ErrInvalid = errors.New("invalid path")

// Error says what is wrong with a path.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid path %q: %s", clip.Text(e.Path), e.Reason)
}

func (e *Error) Unwrap() error { return ErrInvalid }

// Path is a checked absolute path. The zero value is the root "/".
type Path struct {
	s string // "" for root, else "/a/b"
}

// Root is the path "/".
var Root = Path{}

// Parse checks an absolute path: "/" or "/a/b". A single trailing slash is
// accepted ("/a/b/" is "/a/b"), as users type it for folders.
func Parse(s string) (Path, error) {
	if s == "/" {
		return Root, nil
	}
	if !strings.HasPrefix(s, "/") {
		return Path{}, &Error{s, "must start with /"}
	}
	if len(s) > MaxPath {
		return Path{}, &Error{s, fmt.Sprintf("longer than %d bytes", MaxPath)}
	}
	body := strings.TrimSuffix(s[1:], "/")
	return FromSegments(strings.Split(body, "/"))
}

// FromSegments builds a path from names; each must pass ValidName (so a name
// holding "/" is refused, which matters when names come from URL segments that
// were unescaped one by one).
func FromSegments(segs []string) (Path, error) {
	if len(segs) == 0 {
		return Root, nil
	}
	n := 0
	for i, seg := range segs {
		if err := ValidName(seg); err != nil {
			return Path{}, &Error{"/" + strings.Join(segs, "/"), fmt.Sprintf("segment %d: %s", i+1, reason(err))}
		}
		n += 1 + len(seg)
	}
	if n > MaxPath {
		return Path{}, &Error{"/" + strings.Join(segs, "/"), fmt.Sprintf("longer than %d bytes", MaxPath)}
	}
	return Path{s: "/" + strings.Join(segs, "/")}, nil
}

// MustParse is Parse for constants in code and tests; it panics on error.
func MustParse(s string) Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// nameError is what ValidName returns; Error wraps its reason.
type nameError struct{ reason string }

func (e *nameError) Error() string { return "invalid name: " + e.reason }
func (e *nameError) Unwrap() error { return ErrInvalid }

func reason(err error) string {
	var ne *nameError
	if errors.As(err, &ne) {
		return ne.reason
	}
	return err.Error()
}

// ValidName checks one name (a path segment).
func ValidName(name string) error {
	switch {
	case name == "":
		return &nameError{"empty name"}
	case name == "." || name == "..":
		return &nameError{fmt.Sprintf("%q is not allowed", name)}
	case len(name) > MaxName:
		return &nameError{fmt.Sprintf("name longer than %d bytes", MaxName)}
	case !utf8.ValidString(name):
		return &nameError{"not valid UTF-8"}
	}
	for _, r := range name {
		switch {
		case r == '/':
			return &nameError{"name contains /"}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return &nameError{fmt.Sprintf("control character %U", r)}
		}
	}
	return nil
}

// String returns "/" or "/a/b".
func (p Path) String() string {
	if p.s == "" {
		return "/"
	}
	return p.s
}

// IsRoot reports whether p is "/".
func (p Path) IsRoot() bool { return p.s == "" }

// Segments returns the names along p ("/a/b" gives ["a", "b"]; root gives none).
func (p Path) Segments() []string {
	if p.s == "" {
		return nil
	}
	return strings.Split(p.s[1:], "/")
}

// Depth is the number of names in p.
func (p Path) Depth() int {
	if p.s == "" {
		return 0
	}
	return strings.Count(p.s, "/")
}

// Name is the last name of p ("" for root).
func (p Path) Name() string {
	i := strings.LastIndexByte(p.s, '/')
	if i < 0 {
		return ""
	}
	return p.s[i+1:]
}

// Parent is p without its last name (root's parent is root).
func (p Path) Parent() Path {
	i := strings.LastIndexByte(p.s, '/')
	if i <= 0 {
		return Root
	}
	return Path{s: p.s[:i]}
}

// Join appends one name.
func (p Path) Join(name string) (Path, error) {
	if err := ValidName(name); err != nil {
		return Path{}, &Error{p.s + "/" + name, reason(err)}
	}
	if len(p.s)+1+len(name) > MaxPath {
		return Path{}, &Error{p.s + "/" + name, fmt.Sprintf("longer than %d bytes", MaxPath)}
	}
	return Path{s: p.s + "/" + name}, nil
}

// Within reports whether p is q or lies under it.
func (p Path) Within(q Path) bool {
	if q.s == "" {
		return true
	}
	return p.s == q.s || strings.HasPrefix(p.s, q.s+"/")
}

// Rel returns p relative to its ancestor q ("" when equal); ok is false when
// p is not within q.
func (p Path) Rel(q Path) (rel string, ok bool) {
	if !p.Within(q) {
		return "", false
	}
	if p.s == q.s {
		return "", true
	}
	return p.s[len(q.s)+1:], true
}
