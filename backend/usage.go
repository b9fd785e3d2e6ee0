package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// Usage is what a user's home folder holds against their quota.
type Usage struct {
	User string `json:"user"`
	Home string `json:"home"`
	// Bytes is the size of every version of every file kept, in the tree
	// and in trash; Reserved what open upload sessions hold on top of it.
	Bytes    int64 `json:"bytes"`
	Reserved int64 `json:"reserved"`
	Files    int64 `json:"files"`
	Quota    Quota `json:"quota"`
	// Counted is false for a home folder from before quotas whose usage
	// was never counted (RecountUsage, CountUsage): its counters then
	// hold only what changed since.
	Counted bool `json:"counted"`
}

// homeOf resolves the home folder of user name.
func (b *Backend) homeOf(ctx context.Context, name string) (loc, error) {
	l, err := b.lookupExisting(ctx, iam.HomeOf(name))
	if err != nil {
		return loc{}, fmt.Errorf("the home folder of %s: %w", name, err)
	}
	if l.rec.Kind != KindDir {
		return loc{}, fmt.Errorf("%s: %w", l.path, errs.ErrNotDir)
	}
	return l, nil
}

// GetUsage is the usage of user's home folder ("" for pr's own).
func (b *Backend) GetUsage(ctx context.Context, pr iam.Principal, user string) (Usage, error) {
	name := ownerName(pr, user)
	if err := b.allow(ctx, pr, iam.GetUser, iam.UserNamed(name)); err != nil {
		return Usage{}, err
	}
	l, err := b.homeOf(ctx, name)
	if err != nil {
		return Usage{}, err
	}
	return b.usage(ctx, name, l)
}

func (b *Backend) usage(ctx context.Context, name string, l loc) (Usage, error) {
	u := Usage{User: name, Home: l.path.String()}
	if l.rec.Quota != nil {
		u.Quota = *l.rec.Quota
	}
	pg, err := b.meta.Query(ctx, usagePK(l.rec.ID), meta.QueryOpts{})
	if err != nil {
		return Usage{}, err
	}
	for _, it := range pg.Items {
		switch it.SK {
		case skUsageBytes:
			u.Bytes = it.N
		case skUsageFiles:
			u.Files = it.N
		case skUsageReserved:
			u.Reserved = it.N
		case skUsageCounted:
			u.Counted = true
		}
	}
	u.Bytes -= u.Reserved
	return u, nil
}

// SetQuota sets the limits of user's home folder (0: none) and returns its
// usage. A limit below the usage is allowed: nothing is deleted, and what
// would add more is refused until usage is below it again.
//
// A nil limit keeps the one set.
func (b *Backend) SetQuota(ctx context.Context, pr iam.Principal, user string, bytes, files *int64) (Usage, error) {
	if err := b.allow(ctx, pr, iam.ManageQuotas, iam.UserNamed(user)); err != nil {
		return Usage{}, err
	}
	if (bytes != nil && *bytes < 0) || (files != nil && *files < 0) {
		return Usage{}, fmt.Errorf("%w: a quota is 0 (none) or more", errs.ErrInvalid)
	}
	if _, err := b.users.UserID(ctx, user); err != nil {
		return Usage{}, err
	}
	l, err := record.Optimistic(ctx, "set quota", func() (loc, error) {
		l, err := b.homeOf(ctx, user)
		if err != nil {
			return loc{}, err
		}
		var q Quota
		if l.rec.Quota != nil {
			q = *l.rec.Quota
		}
		if bytes != nil {
			q.Bytes = *bytes
		}
		if files != nil {
			q.Files = *files
		}
		l.rec.Quota = nil
		if q != (Quota{}) {
			l.rec.Quota = &q
		}
		ops := append([]meta.Op{meta.Put(record.Item(dirPK(l.parentID), entrySK(l.path.Name()), l.rec), meta.AtVersion(l.ver))}, guard(l)...)
		return l, errs.FromStore("set quota", b.meta.Transact(ctx, ops))
	})
	if err != nil {
		return Usage{}, err
	}
	return b.usage(ctx, user, l)
}

// RecountUsage counts again what user's home folder holds and sets its
// counters to it.
func (b *Backend) RecountUsage(ctx context.Context, pr iam.Principal, user string) (Usage, error) {
	if err := b.allow(ctx, pr, iam.ManageQuotas, iam.UserNamed(user)); err != nil {
		return Usage{}, err
	}
	l, err := b.homeOf(ctx, user)
	if err != nil {
		return Usage{}, err
	}
	if err := b.recount(ctx, l.rec.ID); err != nil {
		return Usage{}, err
	}
	return b.usage(ctx, user, l)
}

// CountUsage counts the usage of every home folder never counted (a store
// from before quotas), once; the daemon runs it at start.
func (b *Backend) CountUsage(ctx context.Context) (int, error) {
	homes, err := b.lookup(ctx, iam.HomeOf("x").Parent())
	if err != nil || !homes.exists || homes.rec.Kind != KindDir {
		return 0, err
	}
	n := 0
	after := ""
	for {
		pg, err := b.meta.Query(ctx, dirPK(homes.rec.ID), meta.QueryOpts{Prefix: entryPrefix, After: after})
		if err != nil {
			return n, err
		}
		for _, it := range pg.Items {
			rec, err := record.Decode[entryRec](it)
			if err != nil {
				return n, err
			}
			if rec.Kind != KindDir {
				continue
			}
			if _, err := b.meta.Get(ctx, usagePK(rec.ID), skUsageCounted); err == nil {
				continue
			} else if !record.IsNotFound(err) {
				return n, err
			}
			b.log.Info("counting the usage of a home folder", "home", strings.TrimPrefix(it.SK, entryPrefix))
			if err := b.recount(ctx, rec.ID); err != nil {
				return n, err
			}
			n++
		}
		if pg.Next == "" {
			return n, nil
		}
		after = pg.Next
	}
}

// tally is what a recount found.
type tally struct{ bytes, files, reserved int64 }

// recount sets the counters of the home folder home to what it holds. It
// reads the counters first and writes them on the condition that none
// changed: a write under the home folder meanwhile (which changes them in
// its transaction) makes it count again, so the result is exact.
func (b *Backend) recount(ctx context.Context, home string) error {
	_, err := record.Optimistic(ctx, "recount usage", func() (struct{}, error) {
		sks := []string{skUsageBytes, skUsageFiles, skUsageReserved, skUsageCounted}
		conds := make([]meta.Cond, len(sks))
		for i, sk := range sks {
			it, err := b.meta.Get(ctx, usagePK(home), sk)
			switch {
			case record.IsNotFound(err):
				conds[i] = meta.MustNew
			case err != nil:
				return struct{}{}, err
			default:
				conds[i] = meta.AtVersion(it.Version)
			}
		}
		var t tally
		if err := b.tallyHome(ctx, home, &t); err != nil {
			return struct{}{}, err
		}
		ns := []int64{t.bytes + t.reserved, t.files, t.reserved, 0}
		ops := make([]meta.Op, len(sks))
		for i, sk := range sks {
			ops[i] = meta.Put(meta.Item{PK: usagePK(home), SK: sk, N: ns[i]}, conds[i])
		}
		return struct{}{}, b.meta.Transact(ctx, ops)
	})
	return err
}

// tallyHome counts what counts against home: its tree, the trash items and
// queued purges that remember it, and the reservations of its sessions.
func (b *Backend) tallyHome(ctx context.Context, home string, t *tally) error {
	if err := b.tallyDir(ctx, home, t); err != nil {
		return err
	}
	err := b.users.UserIDs(ctx, func(id string) error {
		// Emptied items count too, until they are purged.
		return record.Each(ctx, b.meta, trashPK(id), trashPrefix, func(it meta.Item) error {
			r, err := record.Decode[trashRec](it)
			if err != nil || r.Home != home {
				return err
			}
			return b.tallyEntry(ctx, r.Entry, t)
		})
	})
	if err != nil {
		return err
	}
	if err := record.Each(ctx, b.meta, pkPurge, "", func(it meta.Item) error {
		r, err := record.Decode[purgeRec](it)
		if err != nil || r.Home != home {
			return err
		}
		if r.Kind == KindDir {
			return b.tallyDir(ctx, r.ID, t)
		}
		// A file being purged counts what versions it has left, and as a
		// file until its purge item is gone (dropCounted).
		n, err := b.fileBytes(ctx, r.ID)
		t.bytes += n
		t.files++
		return err
	}); err != nil {
		return err
	}
	return record.Each(ctx, b.meta, pkUploads, "", func(it meta.Item) error {
		s, _, err := record.Get[sessionRec](ctx, b.meta, uploadPK(it.SK), skSession)
		if record.IsNotFound(err) {
			return nil
		}
		if err == nil && s.Home == home {
			t.reserved += s.Reserved
		}
		return err
	})
}

// tallyEntry counts a file (every version kept) or a folder's content.
func (b *Backend) tallyEntry(ctx context.Context, rec entryRec, t *tally) error {
	if rec.Kind == KindDir {
		return b.tallyDir(ctx, rec.ID, t)
	}
	n, err := b.versionBytes(ctx, rec)
	if err != nil {
		return err
	}
	t.bytes += n
	t.files++
	return nil
}

func (b *Backend) tallyDir(ctx context.Context, dirID string, t *tally) error {
	return record.Each(ctx, b.meta, dirPK(dirID), entryPrefix, func(it meta.Item) error {
		rec, err := record.Decode[entryRec](it)
		if err != nil {
			return err
		}
		return b.tallyEntry(ctx, rec, t)
	})
}
