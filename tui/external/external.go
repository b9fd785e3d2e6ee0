// Package external finds the programs the file manager hands a file to —
// the user's pager and editor — and builds their commands.
//
// The pager is $PAGER, or else less, or else more; the editor is $VISUAL,
// or else $EDITOR, or else vi, or else nano (as git and lf choose). A
// variable may hold arguments ("less -R", "code --wait"): it is split on
// blanks, without shell quoting.
package external

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Kind is what the file is opened for.
type Kind int

// The kinds of programs.
const (
	Pager Kind = iota
	Editor
)

// String is "pager" or "editor".
func (k Kind) String() string {
	if k == Editor {
		return "editor"
	}
	return "pager"
}

// ErrNone says that no program of the kind was found.
var ErrNone = errors.New("no program found")

type choice struct {
	vars      []string
	fallbacks []string
}

var choices = map[Kind]choice{
	Pager:  {vars: []string{"PAGER"}, fallbacks: []string{"less", "more"}},
	Editor: {vars: []string{"VISUAL", "EDITOR"}, fallbacks: []string{"vi", "nano"}},
}

// Find returns the command line (program and arguments) of the pager or
// the editor. A variable that names a program that cannot be found is an
// error rather than a silent fallback, so that the user learns why their
// choice is not used.
func Find(k Kind) ([]string, error) {
	c := choices[k]
	for _, v := range c.vars {
		argv := strings.Fields(os.Getenv(v))
		if len(argv) == 0 {
			continue
		}
		if _, err := exec.LookPath(argv[0]); err != nil {
			return nil, fmt.Errorf("$%s is %q, which cannot be run: %w", v, os.Getenv(v), err)
		}
		return argv, nil
	}
	for _, p := range c.fallbacks {
		if _, err := exec.LookPath(p); err == nil {
			return []string{p}, nil
		}
	}
	return nil, noneError{fmt.Sprintf("no %s found: set $%s (%s are not installed)", k, c.vars[len(c.vars)-1],
		strings.Join(c.fallbacks, " and "))}
}

// noneError is ErrNone, worded for the kind of program.
type noneError struct{ msg string }

func (e noneError) Error() string        { return e.msg }
func (e noneError) Is(target error) bool { return target == ErrNone }

// Command is the command that opens file with the program argv (from
// Find).
func Command(argv []string, file string) *exec.Cmd {
	args := append(append([]string(nil), argv[1:]...), file)
	return exec.Command(argv[0], args...)
}
