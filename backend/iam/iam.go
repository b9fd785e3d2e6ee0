// Package iam is Strata's one authorization decision: Decide(principal,
// action, resource, context) says whether a principal may do an action on
// a resource, and why. Every operation of the core (the file tree,
// identity) asks it before it touches storage, whichever entry point the
// request came through (HTTP, a share link, SSH, SFTP). It knows nothing
// of HTTP or of storage: the rule it applies is data and code only.
//
// docs/access.md documents the actions and the resource scheme.
package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/internal/storepath"
)

// Kind says what a principal is.
type Kind string

// The kinds of principal. Only users exist today; a share link will act
// as its owner narrowed to the shared entry, and an SSH session as its
// user with Via "ssh".
const (
	KindUser Kind = "user"
)

// Principal is who acts: a user, through one of their tokens, over one
// entry point.
type Principal struct {
	Kind   Kind
	UserID string
	Name   string
	// Admin: a member of the built-in administrators, who may do
	// anything.
	Admin bool
	// TokenID is the token the request came with ("" for the server's
	// own work).
	TokenID string
	// Via is the entry point: ViaHTTP for the API over the network,
	// ViaSocket for the API on the data directory's private socket, later
	// "ssh", "sftp" and "share".
	Via string
}

// Authenticated reports whether the principal is someone.
func (p Principal) Authenticated() bool { return p.UserID != "" }

// Home is the user's home folder, /home/<name>.
func (p Principal) Home() storepath.Path { return HomeOf(p.Name) }

// HomeOf is the home folder of the user name, /home/<name>.
func HomeOf(name string) storepath.Path {
	h, err := storepath.FromSegments([]string{"home", name})
	if err != nil {
		return storepath.MustParse("/home") // unreachable: names are checked at creation
	}
	return h
}

// User is p as a user principal of the API.
func User(id, name string, admin bool, tokenID string) Principal {
	return Principal{Kind: KindUser, UserID: id, Name: name, Admin: admin, TokenID: tokenID, Via: ViaHTTP}
}

// Action is an operation, named in the strata: namespace.
type Action string

// The actions. Path resources take the file and folder actions; the others
// take the action of what they are.
const (
	// ListFolder lists a folder's entries.
	ListFolder Action = "strata:ListFolder"
	// GetFile reads a file's content or a version of it, or any entry's
	// metadata (stat); copying reads the source with it.
	GetFile Action = "strata:GetFile"
	// PutFile writes a file (a new version), directly or through an
	// upload session, sets a file's modification time, and restores a
	// trashed entry to its path.
	PutFile Action = "strata:PutFile"
	// CreateFolder makes a folder.
	CreateFolder Action = "strata:CreateFolder"
	// DeleteFile moves a file or folder to the trash.
	DeleteFile Action = "strata:DeleteFile"
	// MoveFile moves or renames: on the source and on the destination.
	MoveFile Action = "strata:MoveFile"
	// CopyFile copies onto the destination (the source needs GetFile).
	CopyFile Action = "strata:CopyFile"
	// ListVersions lists a file's kept versions.
	ListVersions Action = "strata:ListVersions"
	// RestoreVersion makes an old version current.
	RestoreVersion Action = "strata:RestoreVersion"
	// ManageTrash lists, restores, purges and empties trash items.
	ManageTrash Action = "strata:ManageTrash"
	// ManageUploads lists, continues, completes and aborts upload
	// sessions (starting one is PutFile on its path).
	ManageUploads Action = "strata:ManageUploads"
	// GetUser describes a user (whoami is GetUser on oneself).
	GetUser Action = "strata:GetUser"
	// ManageUsers lists, creates and deletes users.
	ManageUsers Action = "strata:ManageUsers"
	// ManagePassword changes one's own password (an admin sets anyone's
	// with ManageUsers).
	ManagePassword Action = "strata:ManagePassword"
	// ManageTokens creates, lists and revokes tokens.
	ManageTokens Action = "strata:ManageTokens"
	// CollectGarbage runs the garbage collector now.
	CollectGarbage Action = "strata:CollectGarbage"
	// ManageKeys rotates the master key and reads the rotation's state.
	ManageKeys Action = "strata:ManageKeys"
	// ManageJobs follows long operations (a folder copy) and their
	// outcome.
	ManageJobs Action = "strata:ManageJobs"
	// ManagePolicies creates, reads, changes and deletes policies,
	// attaches and detaches them, and simulates decisions.
	ManagePolicies Action = "strata:ManagePolicies"
	// ManageGroups creates and deletes groups and changes their members.
	ManageGroups Action = "strata:ManageGroups"
	// ManageLimits sets and clears a user's own rate limits (reading
	// them is GetUser).
	ManageLimits Action = "strata:ManageLimits"
	// ManageQuotas sets a user's quota and recounts their usage (reading
	// usage is GetUser on the user).
	ManageQuotas Action = "strata:ManageQuotas"
	// ReadAudit reads the audit log: a user's records on strata:user/<name>,
	// everyone's on strata:system/audit.
	ReadAudit Action = "strata:ReadAudit"
	// ShareWithUsers shares a file or folder with users and groups, and
	// revokes those shares (on the shared path).
	ShareWithUsers Action = "strata:ShareWithUsers"
	// LeaveShare takes a share out of its recipient's /shared (on the
	// share's path there, /shared/<owner>/<name>).
	LeaveShare Action = "strata:LeaveShare"
	// CreateShare makes a share link to the file or folder at a path.
	CreateShare Action = "strata:CreateShare"
	// ManageShares lists, describes and revokes share links
	// (strata:link/<owner>/<id>).
	ManageShares Action = "strata:ManageShares"
	// ArchiveFile moves a file's content to an archive class (each file
	// of a folder is checked).
	ArchiveFile Action = "strata:ArchiveFile"
	// RestoreFile asks for a readable copy of an archived file for some
	// days.
	RestoreFile Action = "strata:RestoreFile"
)

// Actions is every action, for documentation and tests.
var Actions = []Action{
	ListFolder, GetFile, PutFile, CreateFolder, DeleteFile, MoveFile, CopyFile, ListVersions, RestoreVersion,
	ManageTrash, ManageUploads, GetUser, ManageUsers, ManagePassword, ManageTokens, CollectGarbage, ManageKeys, ManageJobs,
	ManagePolicies, ManageGroups, ManageLimits, ManageQuotas, ReadAudit, ShareWithUsers, LeaveShare, CreateShare, ManageShares, ArchiveFile, RestoreFile,
}

// Resource is what an action is on: a path in the tree, or a thing that
// belongs to a user (a user itself, a token, a trash item, an upload
// session) or to the system, named strata:<kind>/<owner>/<id>.
type Resource struct {
	// Path is set for the tree's files and folders.
	Path storepath.Path
	// Kind is the kind of a non-path resource.
	Kind ResourceKind
	// Owner is the name of the user a non-path resource belongs to ("" for
	// the system's).
	Owner string
	// ID names the resource among its owner's ("" or "*": all of them, or
	// one not yet made).
	ID string
}

// ResourceKind is the kind of a non-path resource.
type ResourceKind string

// The kinds of non-path resource.
const (
	KindPath   ResourceKind = ""
	KindUserR  ResourceKind = "user"
	KindToken  ResourceKind = "token"
	KindTrash  ResourceKind = "trash"
	KindUpload ResourceKind = "upload"
	KindJob    ResourceKind = "job"
	KindSystem ResourceKind = "system"
	KindPolicy ResourceKind = "policy"
	KindGroup  ResourceKind = "group"
	KindLink   ResourceKind = "link"
)

// PathOf is the resource of a path.
func PathOf(p storepath.Path) Resource { return Resource{Path: p} }

// UserNamed is the user name as a resource (strata:user/<name>).
func UserNamed(name string) Resource { return Resource{Kind: KindUserR, Owner: name} }

// TokenOf is a token of owner (strata:token/<owner>/<id>).
func TokenOf(owner, id string) Resource { return Resource{Kind: KindToken, Owner: owner, ID: id} }

// TrashOf is an item of owner's trash (strata:trash/<owner>/<id>).
func TrashOf(owner, id string) Resource { return Resource{Kind: KindTrash, Owner: owner, ID: id} }

// UploadOf is an upload session of owner (strata:upload/<owner>/<id>).
func UploadOf(owner, id string) Resource { return Resource{Kind: KindUpload, Owner: owner, ID: id} }

// LinkOf is a share link of owner (strata:link/<owner>/<id>).
func LinkOf(owner, id string) Resource { return Resource{Kind: KindLink, Owner: owner, ID: id} }

// JobOf is a long operation of owner (strata:job/<owner>/<id>).
func JobOf(owner, id string) Resource { return Resource{Kind: KindJob, Owner: owner, ID: id} }

// PolicyNamed is a policy (strata:policy/<name>).
func PolicyNamed(name string) Resource { return Resource{Kind: KindPolicy, ID: name} }

// GroupNamed is a group (strata:group/<name>).
func GroupNamed(name string) Resource { return Resource{Kind: KindGroup, ID: name} }

// System is a resource of the server itself (strata:system/<name>):
// "collector", "keys".
func System(name string) Resource { return Resource{Kind: KindSystem, ID: name} }

// String names the resource: the path, or strata:<kind>/<owner>[/<id>].
func (r Resource) String() string {
	switch r.Kind {
	case KindPath:
		return r.Path.String()
	case KindSystem, KindPolicy, KindGroup:
		return "strata:" + string(r.Kind) + "/" + r.ID
	case KindUserR:
		return "strata:user/" + r.Owner
	}
	id := r.ID
	if id == "" {
		id = "*"
	}
	return "strata:" + string(r.Kind) + "/" + r.Owner + "/" + id
}

// Request is what else is known about the request an action is part of:
// the condition keys of policies.
type Request struct {
	// ID is the request's ID (the API's X-Request-ID), tying the
	// decisions and the storage accesses of one request together.
	ID string
	// SourceIP is the client's address (strata:SourceIp; "": unknown).
	SourceIP string
	// SecureTransport: the request came over TLS (strata:SecureTransport).
	SecureTransport bool
	// Time is when the request came (strata:CurrentTime; zero: unknown,
	// which PolicyDecider fills in with its clock).
	Time time.Time
	// ContentLength is the size of what the request writes
	// (strata:ContentLength), when HasContentLength says it is known.
	ContentLength    int64
	HasContentLength bool
	// Via is the entry point the request came through (ViaHTTP,
	// ViaSocket); "" when unknown, which no token bound to an entry
	// point passes.
	Via string
	// Grant is an Allow that a user share gives its recipient on this
	// resource (ShareGrant): it counts as one more identity policy, so
	// the principal's Deny statements and session policy still apply
	// to it. The core sets it for paths under /shared only.
	Grant *Policy
}

type requestKey struct{}

// WithRequest returns ctx carrying what is known of the request.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom is what WithRequest put in ctx (zero if nothing).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// Decision is the answer: allowed or not, and what decided it.
type Decision struct {
	Allowed bool
	// Reason says what decided: the rule, or (with policies) the statement.
	Reason string
	// Statement is the policy statement that decided: the Deny that
	// denied, or the identity policy's Allow that allowed. It is nil for
	// an implicit deny (no statement allows) and for a decision of a rule.
	// It points into the compiled policy: read it, never change it.
	Statement *StatementRef
	// SessionStatement is, when the principal has a session policy and
	// the action is allowed, the session policy's Allow that let it
	// through too.
	SessionStatement *StatementRef
	// Err is set when no decision could be made (the principal's
	// policies could not be read): the answer is then a denial, and
	// Authorize returns Err rather than a denial, so that the caller sees
	// an outage, not a refusal.
	Err error
}

// ExplicitDeny reports whether a Deny statement decided.
func (d Decision) ExplicitDeny() bool {
	return !d.Allowed && d.Statement != nil && d.Statement.Effect == Deny
}

// Decider makes the decision. The core holds one; tests wrap it to see
// every decision.
type Decider interface {
	Decide(pr Principal, act Action, res Resource, req Request) Decision
}

// Authorize asks d and turns its answer into the core's error: no
// principal is ErrUnauthorized, a denial ErrForbidden, the same for every
// resource whether or not it exists.
func Authorize(ctx context.Context, d Decider, pr Principal, act Action, res Resource) error {
	if !pr.Authenticated() {
		return errs.ErrUnauthorized
	}
	dec := d.Decide(pr, act, res, RequestFrom(ctx))
	if o, ok := ctx.Value(observerKey{}).(Observer); ok {
		o.Observe(pr, act, res, dec)
	}
	if dec.Err != nil && !dec.Allowed {
		return fmt.Errorf("deciding %s on %s: %w", act, res, dec.Err)
	}
	if !dec.Allowed {
		return &DeniedError{Action: act, Resource: res, Reason: dec.Reason}
	}
	return nil
}

// Observer sees every decision Authorize makes for a request: the audit
// log keeps the denials, and the decisions behind each change.
type Observer interface {
	Observe(pr Principal, act Action, res Resource, d Decision)
}

type observerKey struct{}

// WithObserver returns ctx whose decisions o sees.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// DeniedError is a denial. Its message names the action and the resource
// (which the caller named itself); the reason is for the audit log and the
// owner, never for the caller.
type DeniedError struct {
	Action   Action
	Resource Resource
	Reason   string
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s on %s: %v", e.Action, e.Resource, errs.ErrForbidden)
}

// Is makes a denial match errs.ErrForbidden.
func (e *DeniedError) Is(target error) bool { return target == errs.ErrForbidden }

// IsDenied reports a denial.
func IsDenied(err error) bool {
	var d *DeniedError
	return errors.As(err, &d)
}

// ParseResource reads a resource as String writes it: a path, or
// strata:<kind>/<name> (user, policy, group, system) or
// strata:<kind>/<owner>/<id> (token, trash, upload, job).
func ParseResource(s string) (Resource, error) {
	if strings.HasPrefix(s, "/") {
		p, err := storepath.Parse(s)
		if err != nil {
			return Resource{}, err
		}
		return PathOf(p), nil
	}
	rest, ok := strings.CutPrefix(s, "strata:")
	kind, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || name == "" {
		return Resource{}, fmt.Errorf("%w: resource %q: a path (/…) or strata:<kind>/…", errs.ErrInvalid, s)
	}
	switch k := ResourceKind(kind); k {
	case KindUserR:
		return UserNamed(name), nil
	case KindPolicy, KindGroup, KindSystem:
		return Resource{Kind: k, ID: name}, nil
	case KindToken, KindTrash, KindUpload, KindJob, KindLink:
		owner, id, ok := strings.Cut(name, "/")
		if !ok || owner == "" {
			return Resource{}, fmt.Errorf("%w: resource %q: strata:%s/<owner>/<id>", errs.ErrInvalid, s, kind)
		}
		return Resource{Kind: k, Owner: owner, ID: id}, nil
	}
	return Resource{}, fmt.Errorf("%w: resource %q: unknown kind %q", errs.ErrInvalid, s, kind)
}
