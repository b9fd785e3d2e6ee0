package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	if err := b.allowPath(ctx, pr, iam.MoveFile, from); err != nil {
		return Entry{}, err
	}
	if err := b.allowPath(ctx, pr, iam.MoveFile, to); err != nil {
		return Entry{}, err
	}
	if from.IsRoot() || to.IsRoot() {
		return Entry{}, fmt.Errorf("%w: cannot move the root folder or onto it", errs.ErrInvalid)
	}
	if from == to {
		return b.Stat(ctx, pr, from)
	}
	if to.Within(from) {
		return Entry{}, fmt.Errorf("%w: cannot move %s into itself", errs.ErrInvalid, from)
	}
	return record.Optimistic(ctx, from.String(), func() (Entry, error) {
		return b.moveOnce(ctx, pr, from, to, overwrite)
	})
}

func (b *Backend) moveOnce(ctx context.Context, pr iam.Principal, from, to storepath.Path, overwrite bool) (Entry, error) {
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
		if err := tx.add(b.trashOp(pr, dst)); err != nil {
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
	moved := src.rec
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
	if err := b.meta.Transact(ctx, tx.ops); err != nil {
		return Entry{}, errs.FromStore("move", err)
	}
	return b.entry(to, moved), nil
}

// TrashItem is an entry in a user's trash.
type TrashItem struct {
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Kind    Kind      `json:"kind"`
	Size    int64     `json:"size"`
	Deleted time.Time `json:"deleted"`
}

// trashOp takes the entry at l out of the tree into pr's trash; the caller
// adds the deletion of the entry (or its replacement) itself.
func (b *Backend) trashOp(pr iam.Principal, l loc) meta.Op {
	now := b.now()
	id := fmt.Sprintf("%020d%s", now.UnixNano(), record.NewID()[:8])
	return meta.Put(record.Item(trashPK(pr.UserID), trashSK(id), trashRec{
		Path: l.path.String(), ParentID: l.parentID, Name: l.path.Name(), Entry: l.rec, Deleted: record.Nanos(now),
	}), meta.MustNew)
}

// Delete moves the file or folder at p to pr's trash. A folder that is not
// empty needs recursive.
func (b *Backend) Delete(ctx context.Context, pr iam.Principal, p storepath.Path, recursive bool) (TrashItem, error) {
	if err := b.allowPath(ctx, pr, iam.DeleteFile, p); err != nil {
		return TrashItem{}, err
	}
	if p.IsRoot() {
		return TrashItem{}, fmt.Errorf("%w: cannot delete the root folder", errs.ErrInvalid)
	}
	return record.Optimistic(ctx, p.String(), func() (TrashItem, error) {
		return b.deleteOnce(ctx, pr, p, recursive)
	})
}

func (b *Backend) deleteOnce(ctx context.Context, pr iam.Principal, p storepath.Path, recursive bool) (TrashItem, error) {
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
	put := b.trashOp(pr, l)
	ops := []meta.Op{
		meta.Delete(dirPK(l.parentID), entrySK(p.Name()), meta.AtVersion(l.ver)),
		put,
	}
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

func trashItem(sk string, r trashRec) TrashItem {
	return TrashItem{
		ID: strings.TrimPrefix(sk, trashPrefix), Path: r.Path, Name: r.Name, Kind: r.Entry.Kind,
		Size: r.Entry.Size, Deleted: record.FromNanos(r.Deleted),
	}
}

// TrashPage is one page of a trash listing, newest first.
type TrashPage struct {
	Items  []TrashItem `json:"items"`
	Cursor string      `json:"cursor,omitempty"`
}

// ListTrash lists the trash of the user owner ("" for pr's own), newest
// first.
func (b *Backend) ListTrash(ctx context.Context, pr iam.Principal, owner, cursor string, limit int) (TrashPage, error) {
	if err := b.allow(ctx, pr, iam.ManageTrash, iam.TrashOf(ownerName(pr, owner), "*")); err != nil {
		return TrashPage{}, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return TrashPage{}, err
	}
	if limit <= 0 || limit > meta.MaxPageLimit {
		limit = meta.MaxPageLimit
	}
	q := meta.QueryOpts{Prefix: trashPrefix, Limit: limit, Reverse: true}
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return TrashPage{}, err
		}
		q.After = after
	}
	pg, err := b.meta.Query(ctx, trashPK(ownerID), q)
	if err != nil {
		return TrashPage{}, err
	}
	out := TrashPage{Items: []TrashItem{}}
	for _, it := range pg.Items {
		r, err := record.Decode[trashRec](it)
		if err != nil {
			return TrashPage{}, err
		}
		out.Items = append(out.Items, trashItem(it.SK, r))
	}
	if pg.Next != "" {
		out.Cursor = encodeCursor(pg.Next)
	}
	return out, nil
}

func validTrashID(id string) error {
	if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z')
	}) {
		return fmt.Errorf("%w: malformed trash ID", errs.ErrInvalid)
	}
	return nil
}

// RestoreTrash puts an entry of owner's trash ("" for pr's own) back at its
// old path, or at to when to is not nil. Missing parent folders are
// created; an existing entry at the target is ErrExists.
func (b *Backend) RestoreTrash(ctx context.Context, pr iam.Principal, owner, id string, to *storepath.Path) (Entry, error) {
	if err := b.allow(ctx, pr, iam.ManageTrash, iam.TrashOf(ownerName(pr, owner), id)); err != nil {
		return Entry{}, err
	}
	if to != nil {
		if err := b.allowPath(ctx, pr, iam.PutFile, *to); err != nil {
			return Entry{}, err
		}
	}
	if err := validTrashID(id); err != nil {
		return Entry{}, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return Entry{}, err
	}
	return record.Optimistic(ctx, "trash "+id, func() (Entry, error) {
		return b.restoreTrashOnce(ctx, pr, ownerID, id, to)
	})
}

func (b *Backend) restoreTrashOnce(ctx context.Context, pr iam.Principal, ownerID, id string, to *storepath.Path) (Entry, error) {
	r, it, err := record.Get[trashRec](ctx, b.meta, trashPK(ownerID), trashSK(id))
	if record.IsNotFound(err) {
		return Entry{}, fmt.Errorf("trash %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Entry{}, err
	}
	target, err := storepath.Parse(r.Path)
	if err != nil {
		return Entry{}, fmt.Errorf("backend: corrupt trash item %s: %w", id, err)
	}
	if to != nil {
		target = *to
	}
	if err := b.allowPath(ctx, pr, iam.PutFile, target); err != nil {
		return Entry{}, err
	}
	if target.IsRoot() {
		return Entry{}, fmt.Errorf("/: %w", errs.ErrExists)
	}
	treeVer, err := b.treeVersion(ctx)
	if err != nil {
		return Entry{}, err
	}
	parent, err := b.ensureDir(ctx, target.Parent())
	if err != nil {
		return Entry{}, err
	}
	l := parent.below(target.Name(), target)
	ops := []meta.Op{
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
		meta.Put(record.Item(dirPK(l.parentID), entrySK(target.Name()), r.Entry), meta.MustNew),
	}
	if r.Entry.Kind == KindDir {
		// Coming back into the tree is a change of place, like a move.
		ops = append(ops, treeBump(treeVer))
	}
	if r.Entry.Kind != KindDir || len(l.chain) <= maxChainChecks {
		ops = append(ops, guard(l)...)
	}
	if err := b.meta.Transact(ctx, ops); err != nil {
		var txe *meta.TxError
		if errors.As(err, &txe) && txe.Index == 1 {
			return Entry{}, fmt.Errorf("%s: %w", target, errs.ErrExists)
		}
		return Entry{}, errs.FromStore("restore", err)
	}
	return b.entry(target, r.Entry), nil
}

// PurgeTrash deletes an entry of owner's trash ("" for pr's own) for good, with all its versions and
// (for a folder) everything in it.
func (b *Backend) PurgeTrash(ctx context.Context, pr iam.Principal, owner, id string) error {
	if err := b.allow(ctx, pr, iam.ManageTrash, iam.TrashOf(ownerName(pr, owner), id)); err != nil {
		return err
	}
	if err := validTrashID(id); err != nil {
		return err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return err
	}
	r, it, err := record.Get[trashRec](ctx, b.meta, trashPK(ownerID), trashSK(id))
	if record.IsNotFound(err) {
		return fmt.Errorf("trash %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return b.purgeTrashItem(ctx, it, r)
}

// purgeTrashItem turns a trash item into queued purge work in one
// transaction, then does the work. A crash in between leaves the work queued
// for the collector; nothing is ever half-visible.
func (b *Backend) purgeTrashItem(ctx context.Context, it meta.Item, r trashRec) error {
	pid := record.NewID()
	if err := b.meta.Transact(ctx, []meta.Op{
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
		meta.Put(record.Item(pkPurge, pid, purgeRec{Kind: r.Entry.Kind, ID: r.Entry.ID}), meta.MustNew),
	}); err != nil {
		if record.IsConflict(err) {
			return fmt.Errorf("trash item: %w", errs.ErrNotFound)
		}
		return errs.FromStore("purge", err)
	}
	return b.runPurge(ctx, pid, purgeRec{Kind: r.Entry.Kind, ID: r.Entry.ID})
}

// EmptyTrash purges every item in owner's trash ("" for pr's own) and
// returns how many.
func (b *Backend) EmptyTrash(ctx context.Context, pr iam.Principal, owner string) (int, error) {
	if err := b.allow(ctx, pr, iam.ManageTrash, iam.TrashOf(ownerName(pr, owner), "*")); err != nil {
		return 0, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return 0, err
	}
	return b.emptyTrash(ctx, ownerID)
}

func (b *Backend) emptyTrash(ctx context.Context, ownerID string) (int, error) {
	n := 0
	for {
		pg, err := b.meta.Query(ctx, trashPK(ownerID), meta.QueryOpts{Prefix: trashPrefix, Limit: 100})
		if err != nil {
			return n, err
		}
		if len(pg.Items) == 0 {
			return n, nil
		}
		for _, it := range pg.Items {
			r, err := record.Decode[trashRec](it)
			if err != nil {
				return n, err
			}
			if err := b.purgeTrashItem(ctx, it, r); err != nil {
				return n, err
			}
			n++
		}
	}
}

// Copy copies the file or folder at from to the path to. A file copy shares
// the content of the current version (instant at any size, nothing is
// re-encrypted); copying onto an existing file makes a new version of it. A
// folder is copied into a new folder, which must not exist, as a job that
// finishes or rolls back whole (copytree.go): Copy waits for it up to wait
// and returns the job, still running, if it is not done by then.
func (b *Backend) Copy(ctx context.Context, pr iam.Principal, from, to storepath.Path, wait time.Duration) (Entry, Job, error) {
	if err := b.allowPath(ctx, pr, iam.GetFile, from); err != nil {
		return Entry{}, Job{}, err
	}
	if err := b.allowPath(ctx, pr, iam.CopyFile, to); err != nil {
		return Entry{}, Job{}, err
	}
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
	return b.copyFolder(ctx, pr, from, src, to, wait)
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
		blobID: v.Blob, from: &it, size: v.Size, sha256: v.SHA256, mtime: record.FromNanos(v.MTime),
	}, "", false, nil)
}
