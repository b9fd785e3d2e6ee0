package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// SetMTime sets the modification time of the file at p: the current
// version's file time, in place. Nothing else changes: no new version, no
// content, no usage, no archive state (an archived file takes it too: it
// is metadata). It is strata:PutFile, as in S3, where a change of an
// object's metadata is a write of it: a synchronizer (rclone, scp -p)
// sets the time of what it just uploaded. A time outside
// MinMTime..MaxMTime is refused (errs.ErrInvalid), as on upload; a
// folder is refused (errs.ErrIsDir): its time is when it was made.
func (b *Backend) SetMTime(ctx context.Context, pr iam.Principal, p storepath.Path, mtime time.Time) (Entry, error) {
	t, err := b.authorize(ctx, pr, iam.PutFile, p)
	if err != nil {
		return Entry{}, err
	}
	e, err := b.setMTime(ctx, t.path, mtime)
	return t.show(e), t.fail(err)
}

func (b *Backend) setMTime(ctx context.Context, p storepath.Path, mtime time.Time) (Entry, error) {
	if err := CheckMTime(mtime); err != nil {
		return Entry{}, err
	}
	if p.IsRoot() {
		return Entry{}, fmt.Errorf("/: %w", errs.ErrIsDir)
	}
	n := mtimeNanos(mtime)
	return record.Optimistic(ctx, p.String(), func() (Entry, error) {
		l, err := b.lookupExisting(ctx, p)
		if err != nil {
			return Entry{}, err
		}
		if l.rec.Kind == KindDir {
			return Entry{}, fmt.Errorf("%s: %w: only a file's time can be set", p, errs.ErrIsDir)
		}
		if l.rec.MTime == n {
			return b.entry(p, l.rec), nil
		}
		v, vit, err := record.Get[versionRec](ctx, b.meta, filePK(l.rec.ID), versionSK(l.rec.Seq))
		if record.IsNotFound(err) {
			// The file was replaced or removed since it was read: read
			// it again.
			return Entry{}, fmt.Errorf("%s: %w", p, meta.ErrConflict)
		}
		if err != nil {
			return Entry{}, errs.FromStore("read the current version", err)
		}
		rec := l.rec
		rec.MTime, v.MTime = n, n
		vi := record.Item(vit.PK, vit.SK, v)
		vi.N, vi.ExpiresAt = vit.N, vit.ExpiresAt
		ops := []meta.Op{
			meta.Put(record.Item(dirPK(l.parentID), entrySK(p.Name()), rec), meta.AtVersion(l.ver)),
			meta.Put(vi, meta.AtVersion(vit.Version)),
		}
		ops = append(ops, guard(l)...)
		if err := b.meta.Transact(ctx, ops); err != nil {
			return Entry{}, errs.FromStore("set the file time", err)
		}
		return b.entry(p, rec), nil
	})
}
