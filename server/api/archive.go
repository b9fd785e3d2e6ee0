package api

import "time"

// Archive states of a file (Entry.State).
const (
	StateHot       = "hot"
	StateArchived  = "archived"
	StateRestoring = "restoring"
	StateRestored  = "restored"
)

// ArchiveInfo is where an archived file's content stands.
type ArchiveInfo struct {
	// Class is glacier, deep-archive or glacier-ir.
	Class string    `json:"class"`
	Since time.Time `json:"since"`
	// The restore in progress, or the last one done: its tier (expedited,
	// standard or bulk), days, when it was asked for and when its copy is
	// expected by.
	Tier      string    `json:"tier,omitempty"`
	Days      int       `json:"days,omitempty"`
	Requested time.Time `json:"requested,omitzero"`
	Expected  time.Time `json:"expected,omitzero"`
	// Until is when the restored copy expires.
	Until time.Time `json:"until,omitzero"`
}

// ArchiveRequest is the body of POST /v1/archive/{path}.
type ArchiveRequest struct {
	// Class is glacier, deep-archive or glacier-ir.
	Class string `json:"class"`
	// Recursive archives every file under a folder, as a job.
	Recursive bool `json:"recursive,omitempty"`
}

// RestoreRequest is the body of POST /v1/restore/{path}.
type RestoreRequest struct {
	// Tier is expedited, standard or bulk.
	Tier string `json:"tier"`
	// Days the restored copy is kept.
	Days int `json:"days"`
	// Recursive restores every archived file under a folder, as a job.
	Recursive bool `json:"recursive,omitempty"`
}

// RestoreResult answers a restore of one file: Started if a restore was
// asked for (or a restored copy's days extended), else Note says why none
// was needed.
type RestoreResult struct {
	Entry   Entry  `json:"entry"`
	Started bool   `json:"started"`
	Note    string `json:"note,omitempty"`
}
