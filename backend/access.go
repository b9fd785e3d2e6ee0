package backend

import (
	"context"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/internal/storepath"
)

// allow asks the one authorization decision whether pr may do act on res.
// Every operation calls it before it touches storage.
func (b *Backend) allow(ctx context.Context, pr iam.Principal, act iam.Action, res iam.Resource) error {
	return iam.Authorize(ctx, b.decider, pr, act, res)
}

// allowPath is allow on the path p.
func (b *Backend) allowPath(ctx context.Context, pr iam.Principal, act iam.Action, p storepath.Path) error {
	return b.allow(ctx, pr, act, iam.PathOf(p))
}

// Users resolves the names of users, for an operation on another user's
// trash or upload sessions, and groups, for user shares (identity
// implements it).
type Users interface {
	// UserID is the ID of the user name, or errs.ErrNotFound.
	UserID(ctx context.Context, name string) (string, error)
	// UserIDs calls fn with the ID of every user.
	UserIDs(ctx context.Context, fn func(id string) error) error
	// Group is the group name as it is now, or errs.ErrNotFound.
	Group(ctx context.Context, name string) (identity.GroupRef, error)
	// GroupsOf is the groups the user id is in now.
	GroupsOf(ctx context.Context, id string) ([]identity.GroupRef, error)
}

// owner is whose trash or sessions an operation of pr on owner's is about
// (owner "" is pr's own), after it was allowed.
func (b *Backend) owner(ctx context.Context, pr iam.Principal, owner string) (id, name string, err error) {
	if owner == "" || owner == pr.Name {
		return pr.UserID, pr.Name, nil
	}
	id, err = b.users.UserID(ctx, owner)
	return id, owner, err
}

// ownerName is the name of whose things an operation is about: owner, or
// pr when owner is "".
func ownerName(pr iam.Principal, owner string) string {
	if owner == "" {
		return pr.Name
	}
	return owner
}

// noUsers knows no user but the principal itself.
type noUsers struct{}

func (noUsers) UserID(_ context.Context, name string) (string, error) {
	return "", fmt.Errorf("user %s: %w", name, errs.ErrNotFound)
}

func (noUsers) Group(_ context.Context, name string) (identity.GroupRef, error) {
	return identity.GroupRef{}, fmt.Errorf("group %s: %w", name, errs.ErrNotFound)
}

func (noUsers) GroupsOf(context.Context, string) ([]identity.GroupRef, error) { return nil, nil }

// SetUsers tells the file tree how to resolve user names (the identity
// service). It is called once, while the store is wired, before any
// request: the file tree and identity each need the other.
func (b *Backend) SetUsers(u Users) { b.users = u }

func (noUsers) UserIDs(context.Context, func(string) error) error { return nil }
