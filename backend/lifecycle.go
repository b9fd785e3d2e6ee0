package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// What users' coming and going means for the file tree.
var _ identity.Lifecycle = (*Backend)(nil)

// UserCreating refuses a user whose home folder exists already (left by a
// deleted user of that name).
func (b *Backend) UserCreating(ctx context.Context, name string) error {
	home := iam.HomeOf(name)
	if l, err := b.lookup(ctx, home); err == nil && l.exists {
		return fmt.Errorf("%w: %s exists (left by a deleted user?): move or delete it before creating %s", errs.ErrExists, home, name)
	}
	return nil
}

// UserCreated makes the new user's home folder, with the default quota
// and its usage counted (it is empty).
func (b *Backend) UserCreated(ctx context.Context, _, name string) error {
	_, err := record.Optimistic(ctx, "create home", func() (struct{}, error) {
		l, err := b.ensureDir(ctx, iam.HomeOf(name))
		if err != nil {
			return struct{}{}, err
		}
		if _, err := b.meta.Get(ctx, usagePK(l.rec.ID), skUsageCounted); err == nil {
			return struct{}{}, nil // made by an earlier try
		}
		ops := []meta.Op{meta.Put(meta.Item{PK: usagePK(l.rec.ID), SK: skUsageCounted}, meta.MustNew)}
		if b.defaultQuota != (Quota{}) {
			q := b.defaultQuota
			l.rec.Quota = &q
			ops = append(ops, meta.Put(record.Item(dirPK(l.parentID), entrySK(name), l.rec), meta.AtVersion(l.ver)))
		}
		return struct{}{}, b.meta.Transact(ctx, ops)
	})
	if err != nil {
		return fmt.Errorf("create the home folder of %s: %w", name, err)
	}
	return nil
}

// UserDeleting removes what nobody could reach once the user is gone:
// each step of userGone, in order. Their files stay where they are.
// Identity then removes their tokens, group memberships, policy
// attachments and AWS identities, and the user last of all.
func (b *Backend) UserDeleting(ctx context.Context, id, name string) error {
	for _, step := range b.userGone() {
		if err := step.remove(ctx, id); err != nil {
			return fmt.Errorf("%s of %s: %w", step.what, name, err)
		}
	}
	return nil
}

// userGoneStep is one thing the file tree removes with a user.
type userGoneStep struct {
	what   string
	remove func(ctx context.Context, userID string) error
}

// userGone is what deleting a user removes, in order. Each step must be
// safe to run again (a deletion cut short is run again by the admin), and
// leave nothing of the user behind: a new kind of thing a user owns (their
// shares, their quota counters) adds its step here.
func (b *Backend) userGone() []userGoneStep {
	return []userGoneStep{
		{"empty the trash", b.dropTrash},
		{"abort the upload sessions", b.dropUploads},
	}
}

// dropTrash empties the user's trash and purges it now (not in the
// background, as for a user who stays), then removes the trash's cut.
func (b *Backend) dropTrash(ctx context.Context, userID string) error {
	if _, err := b.emptyTrash(ctx, userID); err != nil {
		return err
	}
	if err := b.drainTrash(ctx, userID); err != nil {
		return err
	}
	return errs.FromStore("trash", b.meta.Delete(ctx, trashPK(userID), skTrashCut, meta.NoCond))
}

// dropUploads aborts every open upload session of the user (their parts,
// the blob store's multipart uploads and their data keys go with them) and
// removes the user's count of open sessions. A session being completed
// right now is waited for by failing: the deletion is tried again.
func (b *Backend) dropUploads(ctx context.Context, userID string) error {
	for {
		pg, err := b.meta.Query(ctx, userPK(userID), meta.QueryOpts{Prefix: userUpPrefix, Limit: 100})
		if err != nil {
			return errs.FromStore("list upload sessions", err)
		}
		for _, it := range pg.Items {
			id := strings.TrimPrefix(it.SK, userUpPrefix)
			// Expired ones too: the collector would find them only
			// through the index items removed here.
			s, sit, err := record.Get[sessionRec](ctx, b.meta, uploadPK(id), skSession)
			if record.IsNotFound(err) || err == nil && s.UserID != userID {
				// Ended meanwhile, or an index item left by a crash.
				ix, derr := record.Decode[sessionIndexRec](it)
				if derr != nil {
					return derr
				}
				err = b.removeSessionIndex(ctx, id, userID, ix.HomeOwner)
			} else if err == nil {
				err = b.dropSession(ctx, id, s, sit)
			}
			if err != nil {
				return fmt.Errorf("upload %s: %w", id, err)
			}
		}
		if pg.Next == "" {
			break
		}
	}
	return errs.FromStore("upload count", b.meta.Delete(ctx, userPK(userID), skOpenUploads, meta.NoCond))
}
