// Package lazyregexp compiles a package's fixed regular expressions when
// they are first used rather than when the program starts: every strata
// command (ls, version) ran the compilation of all of them before doing
// anything, though most commands use none.
package lazyregexp

import (
	"regexp"
	"sync"
)

// New returns a function that gives the regular expression expr, compiled
// on the first call (and panicking then if expr is not valid, as
// regexp.MustCompile does). It is safe for concurrent use.
func New(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
