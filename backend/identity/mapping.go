package identity

import (
	"context"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// A mapping is something that logs in as one user (an AWS identity, an
// SSH key): an index item from its key to the user, found at login, and a
// reference under the user, to list it and to delete it with them.
type mapping struct {
	what     string // for messages: "AWS identity", "SSH key"
	key      string // as people know it (the ARN, the fingerprint)
	pk, sk   string // the index item
	index    any    // its value; it records the user's ID as "u"
	userID   string
	userName string
	ref      meta.Item // the reference under the user
}

// mappedUser is what every index item records.
type mappedUser struct {
	UserID string `json:"u"`
}

// addMapping stores m. A key already the user's is ErrExists; one of another user
// too, unless that user is gone (deleted halfway): then it is taken over.
func (s *Service) addMapping(ctx context.Context, m mapping) error {
	put := func(cond meta.Cond) error {
		return s.meta.Transact(ctx, []meta.Op{
			meta.Put(record.Item(m.pk, m.sk, m.index), cond),
			meta.Put(m.ref, meta.MustNew),
			meta.Check(userPK(m.userID), skProfile, meta.MustLive),
		})
	}
	err := put(meta.MustNew)
	if record.IsConflict(err) {
		ix, it, gerr := record.Get[mappedUser](ctx, s.meta, m.pk, m.sk)
		if gerr != nil && !record.IsNotFound(gerr) {
			return gerr
		}
		switch {
		case record.IsNotFound(gerr):
			return fmt.Errorf("user %s: %w", m.userName, errs.ErrNotFound) // deleted meanwhile
		case ix.UserID == m.userID:
			return fmt.Errorf("%s %s is already %s's: %w", m.what, m.key, m.userName, errs.ErrExists)
		}
		_, _, perr := record.Get[userRec](ctx, s.meta, userPK(ix.UserID), skProfile)
		if perr == nil {
			return fmt.Errorf("%s %s belongs to another user (it logs in as one user): %w", m.what, m.key, errs.ErrExists)
		}
		if !record.IsNotFound(perr) {
			return perr
		}
		err = put(meta.AtVersion(it.Version))
		if record.IsConflict(err) {
			return fmt.Errorf("%w: the %s changed meanwhile", errs.ErrConflict, m.what)
		}
	}
	if err != nil {
		return errs.FromStore("add "+m.what, err)
	}
	return nil
}

// dropMapping deletes a mapping: its reference under the user, and the
// index item (pk, sk) if it still names them.
func (s *Service) dropMapping(ctx context.Context, what, userID string, ref meta.Item, pk, sk string) error {
	ops := []meta.Op{meta.Delete(ref.PK, ref.SK, meta.AtVersion(ref.Version))}
	ix, it, err := record.Get[mappedUser](ctx, s.meta, pk, sk)
	switch {
	case err == nil && ix.UserID == userID:
		ops = append(ops, meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)))
	case err != nil && !record.IsNotFound(err):
		return err
	}
	if err := s.meta.Transact(ctx, ops); err != nil {
		if record.IsConflict(err) {
			return fmt.Errorf("%w: the %s changed meanwhile", errs.ErrConflict, what)
		}
		return errs.FromStore("remove "+what, err)
	}
	return nil
}
