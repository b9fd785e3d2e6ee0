package backend

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Move moves or renames the file or folder at from to the path to, whose
// parent folder must exist. However big a folder is, this is one transaction
// on its entry. An existing file at to is replaced only with overwrite, and
// then goes to the trash (nothing is lost); a folder is never replaced.
func (b *Backend) Move(ctx context.Context, pr iam.Principal, from, to storepath.Path, overwrite bool) (Entry, error) {
	ft, err := b.authorize(ctx, pr, iam.MoveFile, from)
	if err != nil {
		return Entry{}, err
	}
	tt, err := b.authorize(ctx, pr, iam.MoveFile, to)
	if err != nil {
		return Entry{}, err
	}
	if ft.virtual || tt.virtual {
		return Entry{}, denied(iam.MoveFile, from, "the folders of /shared are the view's")
	}
	from, to = ft.path, tt.path
	if from.IsRoot() || to.IsRoot() {
		return Entry{}, fmt.Errorf("%w: cannot move the root folder or onto it", errs.ErrInvalid)
	}
	if from == to {
		l, err := b.lookupExisting(ctx, to)
		if err != nil {
			return Entry{}, err
		}
		return tt.show(b.entry(to, l.rec)), nil
	}
	if to.Within(from) {
		return Entry{}, fmt.Errorf("%w: cannot move %s into itself", errs.ErrInvalid, from)
	}
	e, err := record.Optimistic(ctx, from.String(), func() (Entry, error) {
		return b.moveOnce(ctx, tt.trashOwner(pr), from, to, overwrite)
	})
	return tt.show(e), ft.fail(tt.fail(err))
}

// moveOnce moves from to to; an entry it replaces goes to the trash of
// trashOwner.
func (b *Backend) moveOnce(ctx context.Context, trashOwner string, from, to storepath.Path, overwrite bool) (Entry, error) {
	// Read the tree item before anything else: a folder move commits only
	// if no folder changed its place since, which (with the conditions on
	// the destination's chain) is what makes the "not into itself" check
	// below hold at commit time.
	treeVer, err := b.treeVersion(ctx)
	if err != nil {
		return Entry{}, err
	}
	src, err := b.lookupExisting(ctx, from)
	if err != nil {
		return Entry{}, err
	}
	dp, err := b.lookupExisting(ctx, to.Parent())
	if err != nil {
		return Entry{}, err
	}
	if dp.rec.Kind != KindDir {
		return Entry{}, fmt.Errorf("%s: %w", to.Parent(), errs.ErrNotDir)
	}
	dst := dp.below(to.Name(), to)
	dstRec, dstIt, err := record.Get[entryRec](ctx, b.meta, dirPK(dst.parentID), entrySK(to.Name()))
	switch {
	case err == nil:
		dst.exists, dst.rec, dst.ver = true, dstRec, dstIt.Version
	case !record.IsNotFound(err):
		return Entry{}, err
	}

	var tx txn
	putCond := meta.MustNew
	if dst.exists {
		if !overwrite {
			return Entry{}, fmt.Errorf("%s: %w", to, errs.ErrExists)
		}
		if dst.rec.Kind == KindDir || src.rec.Kind == KindDir {
			return Entry{}, fmt.Errorf("%s: %w: a folder is never replaced or replaces a file", to, errs.ErrExists)
		}
		if dst.rec.ID == src.rec.ID {
			return b.entry(to, dst.rec), nil
		}
		putCond = meta.AtVersion(dst.ver)
		trash, err := b.trashOps(ctx, trashOwner, dst)
		if err != nil {
			return Entry{}, err
		}
		rp, err := b.repoint(ctx, dst.rec.ID, trashedNode(trashOwner, trash), nil)
		if err != nil {
			return Entry{}, err
		}
		if err := tx.add(append(trash, rp...)...); err != nil {
			return Entry{}, err
		}
	}
	if src.rec.Kind == KindDir {
		if slices.Contains(dst.dirIDs(), src.rec.ID) {
			return Entry{}, fmt.Errorf("%w: cannot move %s into itself", errs.ErrInvalid, from)
		}
		if err := tx.add(treeBump(treeVer)); err != nil {
			return Entry{}, err
		}
	}
	repath, err := b.repathShares(ctx, from, to)
	if err != nil {
		return Entry{}, err
	}
	if err := tx.add(repath...); err != nil {
		return Entry{}, err
	}
	moved := src.rec
	rp, err := b.repoint(ctx, moved.ID, nodeRec{Parent: dst.parentID, Name: to.Name()}, dst.chain)
	if err != nil {
		return Entry{}, err
	}
	if err := tx.add(rp...); err != nil {
		return Entry{}, err
	}
	var use charges
	if err := b.transfer(ctx, &use, moved, accountAt(src, src.rec), accountAt(dst, moved), from); err != nil {
		return Entry{}, err
	}
	if err := tx.add(
		meta.Delete(dirPK(src.parentID), entrySK(from.Name()), meta.AtVersion(src.ver)),
		meta.Put(record.Item(dirPK(dst.parentID), entrySK(to.Name()), moved), putCond),
	); err != nil {
		return Entry{}, err
	}
	// A folder move's tree bump already covers a destination too deep to
	// check link by link.
	if src.rec.Kind != KindDir || len(dst.chain) <= maxChainChecks {
		if err := tx.add(guard(dst)...); err != nil {
			return Entry{}, err
		}
	}
	// A file being restored takes its place in the restore along.
	if op, ok, err := b.restoreFollows(ctx, src, dst); err != nil {
		return Entry{}, err
	} else if ok {
		if err := tx.add(op); err != nil {
			return Entry{}, err
		}
	}
	if err := use.commit(ctx, b.meta, tx.ops); err != nil {
		return Entry{}, errs.FromStore("move", err)
	}
	return b.entry(to, moved), nil
}

// Delete moves the file or folder at p to pr's trash. A folder that is not
// empty needs recursive.
//
// An entry deleted through a user share goes to the trash of the share's
// owner, where the owner can restore it.
func (b *Backend) Delete(ctx context.Context, pr iam.Principal, p storepath.Path, recursive bool) (TrashItem, error) {
	t, err := b.authorize(ctx, pr, iam.DeleteFile, p)
	if err != nil {
		return TrashItem{}, err
	}
	if t.virtual {
		return TrashItem{}, denied(iam.DeleteFile, p, "the folders of /shared are the view's")
	}
	if t.path.IsRoot() {
		return TrashItem{}, fmt.Errorf("%w: cannot delete the root folder", errs.ErrInvalid)
	}
	it, err := record.Optimistic(ctx, p.String(), func() (TrashItem, error) {
		return b.deleteOnce(ctx, t.trashOwner(pr), t.path, recursive)
	})
	if t.share != nil {
		it.Path = t.share.viewOf(it.Path)
	}
	return it, t.fail(err)
}

func (b *Backend) deleteOnce(ctx context.Context, trashOwner string, p storepath.Path, recursive bool) (TrashItem, error) {
	treeVer, err := b.treeVersion(ctx)
	if err != nil {
		return TrashItem{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return TrashItem{}, err
	}
	if l.rec.Kind == KindDir && !recursive {
		pg, err := b.meta.Query(ctx, dirPK(l.rec.ID), meta.QueryOpts{Prefix: entryPrefix, Limit: 1})
		if err != nil {
			return TrashItem{}, err
		}
		if len(pg.Items) > 0 {
			return TrashItem{}, fmt.Errorf("%s: %w", p, errs.ErrNotEmpty)
		}
	}
	trash, err := b.trashOps(ctx, trashOwner, l)
	if err != nil {
		return TrashItem{}, err
	}
	put := trash[0]
	rp, err := b.repoint(ctx, l.rec.ID, trashedNode(trashOwner, trash), nil)
	if err != nil {
		return TrashItem{}, err
	}
	ops := append(append([]meta.Op{meta.Delete(dirPK(l.parentID), entrySK(p.Name()), meta.AtVersion(l.ver))}, rp...), trash...)
	if l.rec.Kind == KindDir {
		// A folder leaving the tree changes the place of all it holds.
		ops = append(ops, treeBump(treeVer))
	}
	if err := b.meta.Transact(ctx, ops); err != nil {
		return TrashItem{}, errs.FromStore("delete", err)
	}
	rec, err := record.Decode[trashRec](put.Item)
	if err != nil {
		return TrashItem{}, err
	}
	return trashItem(put.Item.SK, rec), nil
}

// Copy copies the file or folder at from to the path to. A file copy shares
// the content of the current version (instant at any size, nothing is
// re-encrypted); copying onto an existing file makes a new version of it. A
// folder is copied into a new folder, which must not exist, as a job that
// finishes or rolls back whole (copytree.go): Copy waits for it up to wait
// and returns the job, still running, if it is not done by then.
func (b *Backend) Copy(ctx context.Context, pr iam.Principal, from, to storepath.Path, wait time.Duration) (Entry, Job, error) {
	ft, err := b.authorize(ctx, pr, iam.GetFile, from)
	if err != nil {
		return Entry{}, Job{}, err
	}
	tt, err := b.authorize(ctx, pr, iam.CopyFile, to)
	if err != nil {
		return Entry{}, Job{}, err
	}
	if ft.virtual || tt.virtual {
		return Entry{}, Job{}, denied(iam.CopyFile, to, "the folders of /shared are the view's")
	}
	e, j, err := b.copyAs(ctx, pr, ft, tt, wait)
	return tt.show(e), j, ft.fail(tt.fail(err))
}

func (b *Backend) copyAs(ctx context.Context, pr iam.Principal, ft, tt target, wait time.Duration) (Entry, Job, error) {
	from, to := ft.path, tt.path
	if to.IsRoot() {
		return Entry{}, Job{}, fmt.Errorf("/: %w", errs.ErrExists)
	}
	src, err := b.lookupExisting(ctx, from)
	if err != nil {
		return Entry{}, Job{}, err
	}
	if src.rec.Kind == KindFile {
		e, err := b.copyFile(ctx, pr, from, src.rec, to)
		return e, Job{}, err
	}
	return b.copyFolder(ctx, pr, ft, src, tt, wait)
}

func (b *Backend) copyFile(ctx context.Context, pr iam.Principal, from storepath.Path, rec entryRec, to storepath.Path) (Entry, error) {
	v, it, err := record.Get[versionRec](ctx, b.meta, filePK(rec.ID), versionSK(rec.Seq))
	if record.IsNotFound(err) {
		return Entry{}, fmt.Errorf("%s: %w", from, errs.ErrConflict)
	}
	if err != nil {
		return Entry{}, err
	}
	return b.commitVersion(ctx, pr, to, newVersion{
		blobID: v.Blob, from: &it, size: v.Size, sha256: v.SHA256, word: v.digestWord, mtime: mtimeOf(v.MTime),
	}, "", false, nil)
}
