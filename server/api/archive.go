package api

import (
	"time"

	"github.com/strata-storage/strata/internal/archiveprice"
)

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

// ArchiveRuleRequest is the body of PUT /v1/archive-rules/{path}.
type ArchiveRuleRequest struct {
	// AfterDays: files not modified for this many days are archived.
	AfterDays int    `json:"afterDays"`
	Class     string `json:"class"`
}

// ArchiveRule is a folder's archive rule and its sweeps.
type ArchiveRule struct {
	Path      string    `json:"path"`
	AfterDays int       `json:"afterDays"`
	Class     string    `json:"class"`
	By        string    `json:"by"`
	Created   time.Time `json:"created"`
	LastSweep time.Time `json:"lastSweep,omitzero"`
	Sweeping  bool      `json:"sweeping"`
	Archived  int64     `json:"archived"`
	Why       string    `json:"why,omitempty"`
}

// RestoreResult answers a restore of one file: Started if a restore was
// asked for (or a restored copy's days extended), else Note says why none
// was needed.
type RestoreResult struct {
	Entry   Entry  `json:"entry"`
	Started bool   `json:"started"`
	Note    string `json:"note,omitempty"`
}

// ArchivePrices answers GET /v1/archive-prices: the price table archive
// and restore estimates are made from, with the server's engine and its
// restore times (see internal/archiveprice).
type ArchivePrices = archiveprice.Table
