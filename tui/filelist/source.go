// Package filelist is the scrolling, paged folder listing used for both
// panes of the file manager (local disk and Strata). It never blocks on a
// Source: pages are fetched in tea.Cmds, one at a time, and results for a
// folder the user has left are dropped. Rendering touches only the rows on
// screen, so a frame costs the same for ten entries or a million.
//
// Hosting it: call Init, SetSize with the pane's whole size (the list
// draws its own frame), Focus; forward every message to Update (it ignores
// what is not its own, including the other pane's pages), keys only to the
// focused pane, and all keys while Filtering. Mouse messages go to the
// pane under the pointer with X and Y made relative to its top-left
// corner. R (Reload) is the parent's to bind; the error text in the pane
// names it.
//
// Loading: the first page (PageSize) on open; the next when the cursor
// comes within two screens of the end of what is loaded; the whole rest
// in the background (BulkPageSize pages) while a sort other than by name,
// a reversed order, a filter or "mark all" is active, after G, or while
// looking for the entry the cursor should land on.
//
// Order: names sort naturally (note2 before note10, case aside), as in lf,
// ranger and yazi, with folders among the files (grouping folders first
// would need the whole folder before showing any of it). Sources page in
// byte order, so each page is merged into what is shown; an entry that
// sorts before what is on screen appears above it as its page arrives.
// Hidden (dot) entries are hidden by default.
package filelist

import (
	"context"
	"time"
)

// Item is one entry of a folder.
type Item struct {
	Name    string
	Path    string // full path in the source's own syntax
	Dir     bool
	Size    int64
	ModTime time.Time
	// Remote files only (zero otherwise):
	Created time.Time
	SHA256  string
	// ClientDigest: SHA256 is the uploader's client's word
	// (api.Entry.ClientDigest).
	ClientDigest bool
	Version      int64
	State        string
	ID           string // the entry's ID, which share links name
	// Class is the archive class of archived content; Until is when a
	// restore is expected (restoring) or when a restored copy expires
	// (restored).
	Class string
	Until time.Time
}

// PageResult is one page of a folder; Cursor is "" when the folder is done.
type PageResult struct {
	Items  []Item
	Cursor string
}

// Source is what a list reads folders from.
type Source interface {
	// Title names the source in the pane's frame ("Local", "Strata").
	Title() string
	// Page returns up to limit entries of dir after cursor ("" for the
	// first page), in byte-wise name order: the list relies on that order
	// to append pages and to stop looking for a name it has passed. It may
	// block; the list calls it only from tea.Cmds and cancels ctx when the
	// user leaves the folder.
	Page(ctx context.Context, dir, cursor string, limit int) (PageResult, error)
	// Join is the path of name inside dir.
	Join(dir, name string) string
	// Parent is the folder holding dir; the parent of the root is the root.
	Parent(dir string) string
	// Root is the top of the source's tree.
	Root() string
}

// SortBy is the order of the listing.
type SortBy int

// The orders; s cycles through them. Each has a natural direction (names
// A to Z, biggest first, newest first) that S reverses.
const (
	SortName SortBy = iota
	SortSize
	SortTime
)

// String is the order's name as shown in the footer.
func (s SortBy) String() string {
	switch s {
	case SortSize:
		return "size"
	case SortTime:
		return "time"
	default:
		return "name"
	}
}

// OpenedMsg tells the parent that a navigation finished loading its first
// page (it is not sent for Reload or when the first page fails).
type OpenedMsg struct {
	Source string // the Source's Title
	Dir    string
}

// ActivateMsg tells the parent that the user pressed Enter (or l, or
// clicked the current row) on a file.
type ActivateMsg struct {
	Item   Item
	Source string // the Source's Title, so the parent knows which pane sent it
}

// pageMsg carries one page back to the list that asked for it.
type pageMsg struct {
	owner *int // the asking list: both panes live in one program
	gen   int  // the load it belongs to; older loads are dropped
	first bool
	res   PageResult
	err   error
}
