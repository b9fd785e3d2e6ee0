package iam

import (
	"fmt"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
)

// resourceKinds are the kinds of non-path resource a policy may name.
var resourceKinds = []ResourceKind{KindUserR, KindToken, KindTrash, KindUpload, KindJob, KindLink, KindSystem, KindPolicy, KindGroup}

const resourcePrefix = "strata:"

// compileResource checks and compiles a Resource element's pattern: "*",
// a path pattern ("/projects/*"), or a non-path one
// ("strata:token/${strata:username}/*"). * matches any run of characters,
// "/" included, as in an AWS ARN, so "/projects/*" is everything under
// /projects at any depth, but not /projects itself.
func compileResource(s string) (pattern, error) {
	if s == "" {
		return pattern{}, fmt.Errorf("empty resource: a resource is *, a path (/…) or strata:<kind>/…")
	}
	pat, err := compilePattern(s, true)
	if err != nil {
		return pattern{}, err
	}
	if pat.any {
		return pat, nil
	}
	// shape is the pattern with each variable as a plain name, for the
	// checks below.
	var b strings.Builder
	for _, t := range pat.toks {
		switch t.kind {
		case tokLiteral:
			for _, r := range t.lit {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					return pattern{}, fmt.Errorf("resource %q holds a control character %U", clip.Text(s), r)
				}
			}
			b.WriteString(t.lit)
		case tokStar:
			b.WriteByte('*')
		case tokOne:
			b.WriteByte('?')
		default:
			b.WriteString("name")
		}
	}
	shape := b.String()
	switch {
	case strings.HasPrefix(shape, "/"):
		if err := checkPathShape(shape); err != nil {
			return pattern{}, fmt.Errorf("resource %q: %w", clip.Text(s), err)
		}
	case strings.HasPrefix(shape, resourcePrefix):
		if err := checkKindShape(shape[len(resourcePrefix):]); err != nil {
			return pattern{}, fmt.Errorf("resource %q: %w", clip.Text(s), err)
		}
	default:
		return pattern{}, fmt.Errorf("resource %q is not *, a path (/…) or strata:<kind>/…", clip.Text(s))
	}
	return pat, nil
}

// checkPathShape refuses path patterns that no path can match: empty, "."
// or ".." names, and a trailing "/" (paths have none: a folder is
// /projects, its content /projects/*).
func checkPathShape(shape string) error {
	if shape == "/" {
		return nil
	}
	if strings.HasSuffix(shape, "/") {
		folder := strings.TrimRight(shape, "/")
		return fmt.Errorf("a path does not end with / (the folder is %q, everything in it %q)", folder, folder+"/*")
	}
	for _, seg := range strings.Split(shape[1:], "/") {
		switch seg {
		case "":
			return fmt.Errorf("a path has no empty names (//)")
		case ".", "..":
			return fmt.Errorf("a path has no %q names", seg)
		}
	}
	return nil
}

// checkKindShape refuses a non-path pattern whose kind is unknown: its
// text before the first wildcard must begin a known "<kind>/", or begin
// with one.
func checkKindShape(rest string) error {
	lit := rest
	if i := strings.IndexAny(rest, "*?"); i >= 0 {
		lit = rest[:i]
	}
	kinds := make([]string, len(resourceKinds))
	for i, k := range resourceKinds {
		kind := string(k) + "/"
		kinds[i] = resourcePrefix + kind + "…"
		if lit == rest && lit == string(k) {
			return fmt.Errorf("names no resource: write %s<name>", resourcePrefix+kind)
		}
		if strings.HasPrefix(kind, lit) || strings.HasPrefix(lit, kind) {
			return nil
		}
	}
	return fmt.Errorf("unknown resource kind: the kinds are %s", strings.Join(kinds, ", "))
}

// matchResource reports whether a statement's resources apply to
// subject (the resource's name): any pattern matches, or with
// NotResource none does.
func (s *statement) matchResource(subject string, v *vars) bool {
	for i := range s.resources {
		if s.resources[i].match(subject, v, false) {
			return !s.notResource
		}
	}
	return s.notResource
}
