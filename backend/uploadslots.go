package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// The open upload sessions of a user are bounded (Config.MaxOpenUploads):
// each holds a multipart upload in the blob store, and one client must not
// pile them up. The bound is exact under any concurrency, on every engine:
// the user's count, the counter of (user#<id>, uploads), changes in the
// same transaction that creates or removes the session's index item under
// the user, and a create is conditioned on the version of the count it
// read, so that of two creates at the edge one reads the other's count.
//
// A user whose sessions predate the count gets it on their next create,
// from their index items. A session that ended while they were counted
// leaves the count one too high; the count is taken again before a create
// is refused, and set right if nothing changed it meanwhile.

// skOpenUploads is the sort key of a user's count of open sessions.
const skOpenUploads = "uploads"

// uploadSlot reads the user's count of open sessions and returns the
// condition under which a create may add one: errs.ErrTooMany at the
// bound, meta.ErrConflict when it set the count (first use, or a
// correction) and the caller must read it again.
func (b *Backend) uploadSlot(ctx context.Context, userID string) (meta.Cond, error) {
	it, err := b.meta.Get(ctx, userPK(userID), skOpenUploads)
	if record.IsNotFound(err) {
		n, err := b.countOpenUploads(ctx, userID)
		if err != nil {
			return meta.Cond{}, err
		}
		if n == 0 {
			return meta.MustNew, nil // the create's Add makes the count
		}
		if _, err := b.meta.Put(ctx, meta.Item{PK: userPK(userID), SK: skOpenUploads, N: n}, meta.MustNew); err != nil && !record.IsConflict(err) {
			return meta.Cond{}, errs.FromStore("count uploads", err)
		}
		return meta.Cond{}, fmt.Errorf("count uploads: first count: %w", meta.ErrConflict)
	}
	if err != nil {
		return meta.Cond{}, err
	}
	if it.N < int64(b.maxUploads) {
		return meta.AtVersion(it.Version), nil
	}
	n, err := b.countOpenUploads(ctx, userID)
	if err != nil {
		return meta.Cond{}, err
	}
	if n < it.N {
		// Any create or end since the read changed the count's version:
		// the correction holds only if none came.
		b.log.Info("upload count corrected", "user", userID, "count", it.N, "sessions", n)
		if _, err := b.meta.Put(ctx, meta.Item{PK: userPK(userID), SK: skOpenUploads, N: n}, meta.AtVersion(it.Version)); err != nil && !record.IsConflict(err) {
			return meta.Cond{}, errs.FromStore("count uploads", err)
		}
		return meta.Cond{}, fmt.Errorf("count uploads: corrected: %w", meta.ErrConflict)
	}
	return meta.Cond{}, fmt.Errorf("%w: %d upload sessions are open already; complete or abort some first", errs.ErrTooMany, it.N)
}

// countOpenUploads counts the user's session index items.
func (b *Backend) countOpenUploads(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := record.Each(ctx, b.meta, userPK(userID), userUpPrefix, func(meta.Item) error {
		n++
		return nil
	})
	return n, err
}

// createSession commits a new session and its index items, taking one of
// the user's slots, exactly.
func (b *Backend) createSession(ctx context.Context, id string, s sessionRec, sess meta.Item, idx sessionIndexRec, quota Quota) error {
	_, err := record.Optimistic(ctx, "create upload", func() (struct{}, error) {
		slot, err := b.uploadSlot(ctx, s.UserID)
		if err != nil {
			return struct{}{}, err
		}
		var use charges
		use.reserve(account{home: s.Home, name: s.HomeName, quota: quota}, s.Reserved)
		ops := []meta.Op{
			meta.Put(sess, meta.MustNew),
			meta.Put(record.Item(pkUploads, id, idx), meta.MustNew),
			meta.Put(record.Item(userPK(s.UserID), userUploadSK(id), idx), meta.MustNew),
			meta.Add(userPK(s.UserID), skOpenUploads, 1, slot),
		}
		if idx.HomeOwner != "" {
			ops = append(ops, meta.Put(record.Item(userPK(idx.HomeOwner), guestUploadSK(id), idx), meta.MustNew))
		}
		return struct{}{}, use.commit(ctx, b.meta, ops)
	})
	return err
}

// removeSessionIndex removes the index items of an ended session
// (homeOwner: whose home it reserved in as a guest's, or "") and gives its
// slot back, once whoever ends it (Complete, Abort, the collector).
func (b *Backend) removeSessionIndex(ctx context.Context, id, userID, homeOwner string) error {
	// The collector finds a session by its item in pkUploads: removed
	// last, with or after the others.
	last := []meta.Op{meta.Delete(pkUploads, id, meta.NoCond)}
	if homeOwner != "" {
		last = append(last, meta.Delete(userPK(homeOwner), guestUploadSK(id), meta.NoCond))
	}
	err := b.meta.Transact(ctx, append([]meta.Op{
		meta.Delete(userPK(userID), userUploadSK(id), meta.MustLive),
		meta.Add(userPK(userID), skOpenUploads, -1, meta.MustLive),
	}, last...))
	var te *meta.TxError
	if !errors.As(err, &te) {
		return err
	}
	switch te.Index {
	case 0: // ended by someone else, who gave the slot back
		return b.meta.Transact(ctx, last)
	case 1: // a session from before the count, and no count yet
		return b.meta.Transact(ctx, append([]meta.Op{meta.Delete(userPK(userID), userUploadSK(id), meta.NoCond)}, last...))
	}
	return err
}
