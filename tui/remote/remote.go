// Package remote is the TUI's view of a Strata server: the one interface
// the TUI depends on, an implementation over server/client (the only place
// the TUI touches the client), and an in-memory fake for tests.
package remote

import (
	"context"
	"errors"
	"io"

	"github.com/strata-storage/strata/server/api"
)

// Entry, Page and the other types are the API's own.
type (
	Entry       = api.Entry
	Page        = api.Page
	User        = api.User
	Version     = api.Version
	TrashItem   = api.TrashItem
	TrashPage   = api.TrashPage
	VersionPage = api.VersionPage
	Policy      = api.Policy
	Group       = api.Group
	Token       = api.Token
	Usage       = api.Usage
	// NewUser is a user just made, with their first token.
	NewUser = api.CreateUserResult
	// Target names what a policy is attached to: a User or a Group.
	Target = api.AttachRequest
	// Link is a share link, LinkPage a page of them, LinkRequest a new
	// one's settings.
	Link        = api.Share
	LinkPage    = api.SharePage
	LinkRequest = api.CreateShareRequest
	// UserShare is a share with a user or a group; ShareRequest a new one.
	UserShare    = api.UserShare
	ShareRequest = api.UserShareRequest
)

// Errors a Remote's methods match with errors.Is (the client's sentinels
// match them too, through the adapter).
var (
	ErrNotFound          = errors.New("not found")
	ErrExists            = errors.New("already exists")
	ErrUnavailable       = errors.New("server unavailable")
	ErrForbidden   error = refusal("forbidden")
	ErrNotEmpty          = errors.New("folder not empty")
)

// refusal is an answer that trying again will not change: a view shows
// no "retry" hint for an error whose Final reports true.
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) Final() bool     { return true }

// Progress receives byte counts as a transfer moves (negative when a failed
// attempt is undone).
type Progress func(n int64)

// Remote is everything the TUI asks of a server. Every method may block on
// the network: the TUI calls them only from tea.Cmds, never from Update or
// View.
type Remote interface {
	// Server names the server (its address) for the header.
	Server() string
	Whoami(ctx context.Context) (User, error)
	// Usage is what the caller's home folder uses of its quota.
	Usage(ctx context.Context) (Usage, error)
	// Ping reports whether the server answers (for the connection state).
	Ping(ctx context.Context) error

	List(ctx context.Context, dir, cursor string, limit int) (Page, error)
	// ListPrefix is List of the names that start with prefix.
	ListPrefix(ctx context.Context, dir, prefix, cursor string, limit int) (Page, error)
	Stat(ctx context.Context, path string) (Entry, error)
	Mkdir(ctx context.Context, path string) (Entry, error)
	Move(ctx context.Context, from, to string, overwrite bool) (Entry, error)
	Copy(ctx context.Context, from, to string) (Entry, error)
	// Delete moves to the trash (a folder with content needs recursive).
	Delete(ctx context.Context, path string, recursive bool) (TrashItem, error)

	Trash(ctx context.Context, cursor string) (TrashPage, error)
	RestoreTrash(ctx context.Context, id, to string) (Entry, error)
	PurgeTrash(ctx context.Context, id string) error

	Versions(ctx context.Context, path, cursor string) (VersionPage, error)
	RestoreVersion(ctx context.Context, path string, version int64) (Entry, error)

	// Read returns up to max bytes from the start of a file (previews).
	Read(ctx context.Context, path string, max int64) ([]byte, error)

	// Upload sends the local file to path: resumable (an interrupted upload
	// of the same file resumes), verified by SHA-256, mtime kept.
	Upload(ctx context.Context, local, path string, progress Progress) (Entry, error)
	// Download fetches path into the local file: resumable from a partial
	// file, verified by SHA-256, put in place only when whole.
	Download(ctx context.Context, path, local string, progress Progress) (Entry, error)
	// DownloadVersion is Download of one of the file's kept versions.
	DownloadVersion(ctx context.Context, path string, version int64, local string, progress Progress) (Entry, error)

	// ArchivePrices is the server's price table for archive and restore
	// estimates, with its engine and its restore times per class and tier.
	ArchivePrices(ctx context.Context) (ArchivePrices, error)
	// Archive moves the content of the file at path to class (glacier,
	// deep-archive, glacier-ir); with recursive on a folder, every file's
	// under it, as a job on the server, followed until it ends.
	Archive(ctx context.Context, path, class string, recursive bool) (ArchiveResult, error)
	// Restore asks for a readable copy of the archived file at path for
	// days, at tier (expedited, standard, bulk); with recursive on a
	// folder, of every archived file under it, as a job followed until it
	// ends (the restores themselves go on on the server).
	Restore(ctx context.Context, path, tier string, days int, recursive bool) (ArchiveResult, error)

	// Access control, for the access screen; all but Whoami are an
	// administrator's (the server refuses them to others, ErrForbidden).

	// Users lists the users with their groups and the policies attached
	// to them.
	Users(ctx context.Context) ([]User, error)
	// UserUsage is what the home folder of user uses of their quota (it
	// takes strata:GetUser on the user).
	UserUsage(ctx context.Context, user string) (Usage, error)
	// CreateUser makes a user (an administrator: in the admins group) and
	// a first token for them, whose secret is in the answer only.
	CreateUser(ctx context.Context, name string, admin bool) (NewUser, error)
	// Groups lists the groups with their members and policies.
	Groups(ctx context.Context) ([]Group, error)
	CreateGroup(ctx context.Context, name string) error
	// DeleteGroup deletes a group that has no members and no policies.
	DeleteGroup(ctx context.Context, name string) error
	// GroupMember puts user in group (in) or takes them out.
	GroupMember(ctx context.Context, group, user string, in bool) error
	// Policies lists the policies and what they are attached to, without
	// their documents; Policy has its document.
	Policies(ctx context.Context) ([]Policy, error)
	Policy(ctx context.Context, name string) (Policy, error)
	// AttachPolicy attaches a policy to a user or a group (attach false:
	// detaches it).
	AttachPolicy(ctx context.Context, name string, to Target, attach bool) error

	// Sharing, for the shares screen: the caller's own links and shares.

	// Links lists a page of the caller's share links, oldest first.
	Links(ctx context.Context, cursor string) (LinkPage, error)
	// CreateLink makes a share link; the answer has its URL.
	CreateLink(ctx context.Context, req LinkRequest) (Link, error)
	// RevealLink is the caller's link id with its URL again (an error for
	// a link the server did not keep the token of).
	RevealLink(ctx context.Context, id string) (Link, error)
	RevokeLink(ctx context.Context, id string) error
	// UserShares lists the caller's shares with users and groups.
	UserShares(ctx context.Context) ([]UserShare, error)
	ShareWith(ctx context.Context, req ShareRequest) (UserShare, error)
	// Unshare ends the share of path with user or group (one of them).
	Unshare(ctx context.Context, path, user, group string) error
}

// ReadAllLimit is io.ReadAll of at most max bytes.
func ReadAllLimit(r io.Reader, max int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, max))
}

// IsDisconnected reports an error that means the server could not be
// reached (as opposed to an answer refusing the request).
func IsDisconnected(err error) bool { return errors.Is(err, ErrUnavailable) }
