package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/internal/storepath"
)

// Move moves or renames the file or folder at from to the path to, whose
// parent folder must exist. However big a folder is, this is one transaction
// on its entry. An existing file at to is replaced only with overwrite, and
// then goes to the trash (nothing is lost); a folder is never replaced.
func (b *Backend) Move(ctx context.Context, pr Principal, from, to storepath.Path, overwrite bool) (Entry, error) {
	if err := authorize(pr, from, actDelete); err != nil {
		return Entry{}, err
	}
	if err := authorize(pr, to, actWrite); err != nil {
		return Entry{}, err
	}
	if from.IsRoot() || to.IsRoot() {
		return Entry{}, fmt.Errorf("%w: cannot move the root folder or onto it", ErrInvalid)
	}
	if from == to {
		return b.Stat(ctx, pr, from)
	}
	if to.Within(from) {
		return Entry{}, fmt.Errorf("%w: cannot move %s into itself", ErrInvalid, from)
	}
	return optimistic(ctx, from.String(), func() (Entry, error) {
		return b.moveOnce(ctx, pr, from, to, overwrite)
	})
}

func (b *Backend) moveOnce(ctx context.Context, pr Principal, from, to storepath.Path, overwrite bool) (Entry, error) {
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
		return Entry{}, fmt.Errorf("%s: %w", to.Parent(), ErrNotDir)
	}
	dst := dp.below(to.Name(), to)
	dstRec, dstIt, err := getRec[entryRec](ctx, b.meta, dirPK(dst.parentID), entrySK(to.Name()))
	switch {
	case err == nil:
		dst.exists, dst.rec, dst.ver = true, dstRec, dstIt.Version
	case !isNotFound(err):
		return Entry{}, err
	}

	var tx txn
	putCond := meta.MustNew
	if dst.exists {
		if !overwrite {
			return Entry{}, fmt.Errorf("%s: %w", to, ErrExists)
		}
		if dst.rec.Kind == KindDir || src.rec.Kind == KindDir {
			return Entry{}, fmt.Errorf("%s: %w: a folder is never replaced or replaces a file", to, ErrExists)
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
			return Entry{}, fmt.Errorf("%w: cannot move %s into itself", ErrInvalid, from)
		}
		if err := tx.add(treeBump(treeVer)); err != nil {
			return Entry{}, err
		}
	}
	moved := src.rec
	if err := tx.add(
		meta.Delete(dirPK(src.parentID), entrySK(from.Name()), meta.AtVersion(src.ver)),
		meta.Put(item(dirPK(dst.parentID), entrySK(to.Name()), moved), putCond),
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
		return Entry{}, storeErr("move", err)
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
func (b *Backend) trashOp(pr Principal, l loc) meta.Op {
	now := b.now()
	id := fmt.Sprintf("%020d%s", now.UnixNano(), newID()[:8])
	return meta.Put(item(trashPK(pr.UserID), trashSK(id), trashRec{
		Path: l.path.String(), ParentID: l.parentID, Name: l.path.Name(), Entry: l.rec, Deleted: nanos(now),
	}), meta.MustNew)
}

// Delete moves the file or folder at p to pr's trash. A folder that is not
// empty needs recursive.
func (b *Backend) Delete(ctx context.Context, pr Principal, p storepath.Path, recursive bool) (TrashItem, error) {
	if err := authorize(pr, p, actDelete); err != nil {
		return TrashItem{}, err
	}
	if p.IsRoot() {
		return TrashItem{}, fmt.Errorf("%w: cannot delete the root folder", ErrInvalid)
	}
	return optimistic(ctx, p.String(), func() (TrashItem, error) {
		return b.deleteOnce(ctx, pr, p, recursive)
	})
}

func (b *Backend) deleteOnce(ctx context.Context, pr Principal, p storepath.Path, recursive bool) (TrashItem, error) {
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
			return TrashItem{}, fmt.Errorf("%s: %w", p, ErrNotEmpty)
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
		return TrashItem{}, storeErr("delete", err)
	}
	rec, err := decode[trashRec](put.Item)
	if err != nil {
		return TrashItem{}, err
	}
	return trashItem(put.Item.SK, rec), nil
}

func trashItem(sk string, r trashRec) TrashItem {
	return TrashItem{
		ID: strings.TrimPrefix(sk, trashPrefix), Path: r.Path, Name: r.Name, Kind: r.Entry.Kind,
		Size: r.Entry.Size, Deleted: fromNanos(r.Deleted),
	}
}

// TrashPage is one page of a trash listing, newest first.
type TrashPage struct {
	Items  []TrashItem `json:"items"`
	Cursor string      `json:"cursor,omitempty"`
}

// ListTrash lists pr's trash, newest first.
func (b *Backend) ListTrash(ctx context.Context, pr Principal, cursor string, limit int) (TrashPage, error) {
	if pr.UserID == "" {
		return TrashPage{}, ErrUnauthorized
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
	pg, err := b.meta.Query(ctx, trashPK(pr.UserID), q)
	if err != nil {
		return TrashPage{}, err
	}
	out := TrashPage{Items: []TrashItem{}}
	for _, it := range pg.Items {
		r, err := decode[trashRec](it)
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
		return fmt.Errorf("%w: malformed trash ID", ErrInvalid)
	}
	return nil
}

// RestoreTrash puts a trashed entry back at its old path, or at to when to is
// not nil. Missing parent folders are created; an existing entry at the
// target is ErrExists.
func (b *Backend) RestoreTrash(ctx context.Context, pr Principal, id string, to *storepath.Path) (Entry, error) {
	if err := validTrashID(id); err != nil {
		return Entry{}, err
	}
	return optimistic(ctx, "trash "+id, func() (Entry, error) {
		return b.restoreTrashOnce(ctx, pr, id, to)
	})
}

func (b *Backend) restoreTrashOnce(ctx context.Context, pr Principal, id string, to *storepath.Path) (Entry, error) {
	if pr.UserID == "" {
		return Entry{}, ErrUnauthorized
	}
	r, it, err := getRec[trashRec](ctx, b.meta, trashPK(pr.UserID), trashSK(id))
	if isNotFound(err) {
		return Entry{}, fmt.Errorf("trash %s: %w", id, ErrNotFound)
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
	if err := authorize(pr, target, actWrite); err != nil {
		return Entry{}, err
	}
	if target.IsRoot() {
		return Entry{}, fmt.Errorf("/: %w", ErrExists)
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
		meta.Put(item(dirPK(l.parentID), entrySK(target.Name()), r.Entry), meta.MustNew),
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
			return Entry{}, fmt.Errorf("%s: %w", target, ErrExists)
		}
		return Entry{}, storeErr("restore", err)
	}
	return b.entry(target, r.Entry), nil
}

// PurgeTrash deletes a trashed entry for good, with all its versions and
// (for a folder) everything in it.
func (b *Backend) PurgeTrash(ctx context.Context, pr Principal, id string) error {
	if err := validTrashID(id); err != nil {
		return err
	}
	if pr.UserID == "" {
		return ErrUnauthorized
	}
	r, it, err := getRec[trashRec](ctx, b.meta, trashPK(pr.UserID), trashSK(id))
	if isNotFound(err) {
		return fmt.Errorf("trash %s: %w", id, ErrNotFound)
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
	pid := newID()
	if err := b.meta.Transact(ctx, []meta.Op{
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
		meta.Put(item(pkPurge, pid, purgeRec{Kind: r.Entry.Kind, ID: r.Entry.ID}), meta.MustNew),
	}); err != nil {
		if isConflict(err) {
			return fmt.Errorf("trash item: %w", ErrNotFound)
		}
		return storeErr("purge", err)
	}
	return b.runPurge(ctx, pid, purgeRec{Kind: r.Entry.Kind, ID: r.Entry.ID})
}

// EmptyTrash purges every item in pr's trash and returns how many.
func (b *Backend) EmptyTrash(ctx context.Context, pr Principal) (int, error) {
	if pr.UserID == "" {
		return 0, ErrUnauthorized
	}
	n := 0
	for {
		pg, err := b.meta.Query(ctx, trashPK(pr.UserID), meta.QueryOpts{Prefix: trashPrefix, Limit: 100})
		if err != nil {
			return n, err
		}
		if len(pg.Items) == 0 {
			return n, nil
		}
		for _, it := range pg.Items {
			r, err := decode[trashRec](it)
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
// folder is copied file by file into a new folder, which must not exist.
func (b *Backend) Copy(ctx context.Context, pr Principal, from, to storepath.Path) (Entry, error) {
	if err := authorize(pr, from, actRead); err != nil {
		return Entry{}, err
	}
	if err := authorize(pr, to, actWrite); err != nil {
		return Entry{}, err
	}
	if to.IsRoot() {
		return Entry{}, fmt.Errorf("/: %w", ErrExists)
	}
	src, err := b.lookupExisting(ctx, from)
	if err != nil {
		return Entry{}, err
	}
	if src.rec.Kind == KindFile {
		return b.copyFile(ctx, pr, from, src.rec, to)
	}
	if to.Within(from) {
		return Entry{}, fmt.Errorf("%w: cannot copy %s into itself", ErrInvalid, from)
	}
	if _, err := b.Mkdir(ctx, pr, to, false); err != nil {
		return Entry{}, err
	}
	if err := b.copyTree(ctx, pr, src.rec.ID, to); err != nil {
		return Entry{}, err
	}
	return b.Stat(ctx, pr, to)
}

func (b *Backend) copyFile(ctx context.Context, pr Principal, from storepath.Path, rec entryRec, to storepath.Path) (Entry, error) {
	v, it, err := getRec[versionRec](ctx, b.meta, filePK(rec.ID), versionSK(rec.Seq))
	if isNotFound(err) {
		return Entry{}, fmt.Errorf("%s: %w", from, ErrConflict)
	}
	if err != nil {
		return Entry{}, err
	}
	return b.commitVersion(ctx, pr, to, newVersion{
		blobID: v.Blob, from: &it, size: v.Size, sha256: v.SHA256, mtime: fromNanos(v.MTime),
	}, "", false, nil)
}

// copyTree copies the contents of folder dirID into the existing folder to,
// a page at a time so memory stays bounded by depth, not by size.
func (b *Backend) copyTree(ctx context.Context, pr Principal, dirID string, to storepath.Path) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, dirPK(dirID), meta.QueryOpts{Prefix: entryPrefix, After: after, Limit: 200})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			rec, err := decode[entryRec](it)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(it.SK, entryPrefix)
			dst, err := to.Join(name)
			if err != nil {
				return err
			}
			if rec.Kind == KindFile {
				if _, err := b.copyFile(ctx, pr, dst, rec, dst); err != nil {
					return err
				}
				continue
			}
			if _, err := b.Mkdir(ctx, pr, dst, false); err != nil {
				return err
			}
			if err := b.copyTree(ctx, pr, rec.ID, dst); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}
