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
	"github.com/strata-storage/strata/internal/human"
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
	// ErrQuotaExceeded: the write would take its home folder past a
	// quota; the error is a *QuotaError, which says which and by how much.
	ErrQuotaExceeded = errors.New("quota exceeded")
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

// QuotaError is a write refused by a quota: Resource ("bytes" or "files")
// of the home folder of User would go from Used past Limit by adding Need.
// It wraps ErrQuotaExceeded.
type QuotaError struct {
	User     string // the home folder's name ("" when not known)
	Resource string
	Used     int64
	Limit    int64
	Need     int64
}

func (e *QuotaError) Error() string {
	who := "the home folder"
	if e.User != "" {
		who = "/home/" + e.User
	}
	amount := human.Bytes
	if e.Resource == "files" {
		amount = func(n int64) string { return human.Count(n) + " " + human.Plural(int(min(n, 2)), "file", "files") }
	}
	return fmt.Sprintf("%s: %s uses %s of its quota of %s, and this needs %s more", ErrQuotaExceeded, who, amount(e.Used), amount(e.Limit), amount(e.Need))
}

func (e *QuotaError) Unwrap() error { return ErrQuotaExceeded }
