package remote

import (
	"errors"

	"github.com/strata-storage/strata/server/api"
)

// Archive types are the API's own.
type (
	ArchiveInfo   = api.ArchiveInfo
	ArchivePrices = api.ArchivePrices
	Job           = api.Job
)

// Archive states of Entry.State.
const (
	StateHot       = api.StateHot
	StateArchived  = api.StateArchived
	StateRestoring = api.StateRestoring
	StateRestored  = api.StateRestored
)

// ErrArchived: the file's content is in an archive class; it must be
// restored before it is read.
var ErrArchived error = refusal("archived")

// ArchiveResult is what an archive or restore request did: a file's
// entry after it (with, for a restore, whether one was started or a note
// saying why none was needed), or, for a folder, its job once ended.
type ArchiveResult struct {
	Entry   Entry
	Started bool
	Note    string
	Job     *Job
}

// NeedsRestore reports whether e's content must be restored before it is
// read: archived in a class that needs it, or still being restored.
func NeedsRestore(e Entry) bool {
	switch e.State {
	case StateRestoring:
		return true
	case StateArchived:
		return e.Archive == nil || e.Archive.Class != "glacier-ir"
	}
	return false
}

// IsArchived reports an error that says a file's content is archived.
func IsArchived(err error) bool { return errors.Is(err, ErrArchived) }
