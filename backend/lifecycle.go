package backend

import (
	"context"
	"fmt"

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

// UserDeleting empties the user's trash, which nobody could reach once
// they are gone. Their files stay where they are.
func (b *Backend) UserDeleting(ctx context.Context, id, name string) error {
	if _, err := b.emptyTrash(ctx, id); err != nil {
		return fmt.Errorf("empty the trash of %s: %w", name, err)
	}
	return nil
}
