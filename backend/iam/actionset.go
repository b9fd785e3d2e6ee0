package iam

import (
	"fmt"
	"strings"

	"github.com/strata-storage/strata/internal/clip"
)

// actionIndex numbers the known actions: the list Actions is the data, so
// a new action is one more constant in it. A policy's Action element
// compiles to the set of known actions it names.
var actionIndex = indexActions(Actions)

func indexActions(acts []Action) map[Action]int {
	m := make(map[Action]int, len(acts))
	for i, a := range acts {
		m[a] = i
	}
	return m
}

// actionSet is a set of known actions, one bit each.
type actionSet []uint64

func newActionSet() actionSet { return make(actionSet, (len(Actions)+63)/64) }

func (s actionSet) add(i int) { s[i/64] |= 1 << (i % 64) }

func (s actionSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// complement is every known action not in s (NotAction).
func (s actionSet) complement() actionSet {
	c := newActionSet()
	for i := range Actions {
		if !s.has(i) {
			c.add(i)
		}
	}
	return c
}

func (s actionSet) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

// addPattern adds the known actions that pattern names: "*", or
// strata:<name> where the name may hold * and ?. Action names are not
// case-sensitive (as in AWS: strata:getfile is strata:GetFile). A
// pattern that names no known action is an error, as in IAM.
func (s actionSet) addPattern(pat string) error {
	if pat == "*" {
		for i := range Actions {
			s.add(i)
		}
		return nil
	}
	prefix, name, ok := strings.Cut(pat, ":")
	if !ok {
		return fmt.Errorf("action %q is not strata:<Name> (or *)", clip.Text(pat))
	}
	if !strings.EqualFold(prefix, "strata") {
		return fmt.Errorf("unknown action %q: the actions are in the strata: namespace", clip.Text(pat))
	}
	if name == "" {
		return fmt.Errorf("action %q has no name", clip.Text(pat))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '*' || r == '?') {
			return fmt.Errorf("action %q: %q is not allowed in an action name (letters, digits, * and ?)", clip.Text(pat), r)
		}
	}
	p, err := compilePattern(strings.ToLower(pat), true)
	if err != nil {
		return fmt.Errorf("action %q: %w", clip.Text(pat), err)
	}
	found := false
	for i, a := range Actions {
		if p.match(strings.ToLower(string(a)), nil, false) {
			s.add(i)
			found = true
		}
	}
	if !found {
		return fmt.Errorf("unknown action %q", clip.Text(pat))
	}
	return nil
}

// Known reports whether a is one of the actions.
func Known(a Action) bool {
	_, ok := actionIndex[a]
	return ok
}
