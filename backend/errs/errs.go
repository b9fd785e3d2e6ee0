// Package errs holds the errors of Strata's core (the file tree and
// identity), each of which the server maps to one stable API code. Callers
// test them with errors.Is; the core wraps them with what they are about.
package errs

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/internal/storepath"
)

// The core's errors.
var (
	ErrNotFound       = errors.New("not found")
	ErrExists         = errors.New("already exists")
	ErrNotDir         = errors.New("not a folder")
	ErrIsDir          = errors.New("is a folder")
	ErrNotEmpty       = errors.New("folder not empty")
	ErrForbidden      = errors.New("access denied")
	ErrUnauthorized   = errors.New("invalid or missing token")
	ErrInvalidPath    = storepath.ErrInvalid
	ErrInvalid        = errors.New("invalid request")
	ErrInvalidRange   = errors.New("range not satisfiable")
	ErrDigestMismatch = errors.New("content digest mismatch")
	ErrLengthMismatch = errors.New("content length mismatch")
	ErrNoSpace        = errors.New("insufficient storage")
	ErrConflict       = errors.New("concurrent modification, try again")
	ErrPrecondition   = errors.New("precondition failed")
	ErrIntegrity      = errors.New("stored data failed authentication")
	// ErrTooMany: a per-user limit (open upload sessions, tokens) is
	// reached; the client may retry once it freed some.
	ErrTooMany = errors.New("too many")
	// ErrUnavailable: a storage engine is throttling or unreachable (the
	// drivers' blob, meta or keys ErrUnavailable); the request may be
	// retried.
	ErrUnavailable = errors.New("storage engine busy or unreachable")
	// ErrArchived: the file's content is in an archive class and has no
	// restored copy; it reads again once restored.
	ErrArchived = errors.New("archived")
)

// IsUnavailable reports an error that means a storage engine is throttling
// or unreachable, wherever in the core it surfaced (the drivers' own
// sentinels, or the core's): the request may be retried.
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, blob.ErrUnavailable) ||
		errors.Is(err, meta.ErrUnavailable) || errors.Is(err, keys.ErrUnavailable)
}

// FromStore maps a driver's error from the write op to the core's: a full
// store is ErrNoSpace, a busy or unreachable engine ErrUnavailable; nil
// stays nil.
func FromStore(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blob.ErrNoSpace), errors.Is(err, meta.ErrNoSpace):
		return fmt.Errorf("%s: %w: %w", op, ErrNoSpace, err)
	case errors.Is(err, blob.ErrUnavailable), errors.Is(err, meta.ErrUnavailable), errors.Is(err, keys.ErrUnavailable):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
