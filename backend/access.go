package backend

import (
	"fmt"

	"github.com/strata-storage/strata/internal/storepath"
)

// action is what a principal wants to do to a path.
type action int

const (
	actRead   action = iota // read a file or stat an entry
	actList                 // list a folder
	actWrite                // create or change an entry at the path
	actDelete               // remove the entry at the path (trash, move away)
)

// authorize decides whether pr may do act on p. Until the policy engine
// arrives: an admin may do anything; any other user is confined to their home
// folder, may not remove or rename the home folder itself, and gets the same
// ErrForbidden for every path outside it whether or not it exists, so that
// nothing about other users' files leaks.
func authorize(pr Principal, p storepath.Path, act action) error {
	if pr.UserID == "" {
		return ErrUnauthorized
	}
	if pr.Admin {
		if p.IsRoot() && act == actDelete {
			return fmt.Errorf("/: %w", ErrForbidden)
		}
		return nil
	}
	home := pr.Home()
	if !p.Within(home) {
		return fmt.Errorf("%s: %w", p, ErrForbidden)
	}
	if p == home && (act == actDelete || act == actWrite) {
		return fmt.Errorf("%s: %w: the home folder itself cannot be changed", p, ErrForbidden)
	}
	return nil
}
