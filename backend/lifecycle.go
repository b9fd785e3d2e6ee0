package backend

import (
	"context"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
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

// UserCreated makes the new user's home folder.
func (b *Backend) UserCreated(ctx context.Context, _, name string) error {
	if _, err := b.ensureDir(ctx, iam.HomeOf(name)); err != nil {
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
