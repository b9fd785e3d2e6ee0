package backend

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// A user's trash is the partition trash#<userID>, one item per trashed
// entry, its key t#<time><random> so that it lists newest first. Emptying
// a trash of any size is one write: the trash's cut, the key of the newest
// item it empties. Items at or below the cut are gone for every reader at
// once (listed, restored or purged by no one) and are purged in the
// background, a few dozen per transaction, by the server that emptied the
// trash or, should it die, by the collector, which finds the trash in the
// index partition trashcuts. A trashed entry always gets a key above the
// cut, and every change of a trash item is conditioned on the cut it read,
// so that an empty and a delete or restore racing each other cannot leave
// an item on the wrong side.

// TrashItem is an entry in a user's trash.
type TrashItem struct {
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Kind    Kind      `json:"kind"`
	Size    int64     `json:"size"`
	Deleted time.Time `json:"deleted"`
}

// trashCut is a trash's cut as read: the key of the newest item emptied
// ("" for none), and the condition that it is still that.
type trashCut struct {
	upto  string
	ver   int64
	check meta.Op
}

// below reports whether the trash item sk is emptied.
func (c trashCut) below(sk string) bool { return c.upto != "" && sk <= c.upto }

// trashCutRec is the item at (trash#<userID>, cut).
type trashCutRec struct {
	Upto string `json:"u"`
}

func (b *Backend) readCut(ctx context.Context, ownerID string) (trashCut, error) {
	c, it, err := record.Get[trashCutRec](ctx, b.meta, trashPK(ownerID), skTrashCut)
	if record.IsNotFound(err) {
		return trashCut{check: meta.Check(trashPK(ownerID), skTrashCut, meta.MustNew)}, nil
	}
	if err != nil {
		return trashCut{}, err
	}
	return trashCut{upto: c.Upto, ver: it.Version, check: meta.Check(trashPK(ownerID), skTrashCut, meta.AtVersion(it.Version))}, nil
}

// trashOps take the entry at l out of the tree into ownerID's trash: the new
// trash item, above the trash's cut, and the condition on the cut. The
// caller adds the deletion of the entry (or its replacement) itself.
func (b *Backend) trashOps(ctx context.Context, ownerID string, l loc) ([]meta.Op, error) {
	cut, err := b.readCut(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	now := b.now()
	at := now.UnixNano()
	if cut.upto != "" {
		// A clock behind the one that emptied the trash must not put a
		// new item below the cut.
		if n, err := strconv.ParseInt(strings.TrimPrefix(cut.upto, trashPrefix)[:20], 10, 64); err == nil && at <= n {
			at = n + 1
		}
	}
	id := fmt.Sprintf("%020d%s", at, record.NewID()[:8])
	put := meta.Put(record.Item(trashPK(ownerID), trashSK(id), trashRec{
		Path: l.path.String(), ParentID: l.parentID, Name: l.path.Name(), Entry: l.rec, Deleted: record.Nanos(now),
		Home: accountAt(l, l.rec).home, Counted: true,
	}), meta.MustNew)
	return []meta.Op{put, cut.check}, nil
}

func trashItem(sk string, r trashRec) TrashItem {
	return TrashItem{
		ID: strings.TrimPrefix(sk, trashPrefix), Path: r.Path, Name: r.Name, Kind: r.Entry.Kind,
		Size: r.Entry.Size, Deleted: record.FromNanos(r.Deleted),
	}
}

// trashItem reads an item of the trash of ownerID that is not emptied,
// with the trash's cut.
func (b *Backend) trashItem(ctx context.Context, ownerID, id string) (trashRec, meta.Item, trashCut, error) {
	cut, err := b.readCut(ctx, ownerID)
	if err != nil {
		return trashRec{}, meta.Item{}, trashCut{}, err
	}
	r, it, err := record.Get[trashRec](ctx, b.meta, trashPK(ownerID), trashSK(id))
	if record.IsNotFound(err) || (err == nil && cut.below(it.SK)) {
		return trashRec{}, meta.Item{}, trashCut{}, fmt.Errorf("trash %s: %w", id, errs.ErrNotFound)
	}
	return r, it, cut, err
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
	cut, err := b.readCut(ctx, ownerID)
	if err != nil {
		return TrashPage{}, err
	}
	pg, err := b.meta.Query(ctx, trashPK(ownerID), q)
	if err != nil {
		return TrashPage{}, err
	}
	out := TrashPage{Items: []TrashItem{}}
	for _, it := range pg.Items {
		if cut.below(it.SK) {
			return out, nil // newest first: the rest is emptied too
		}
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
	var t target
	if to != nil {
		var err error
		if t, err = b.authorize(ctx, pr, iam.PutFile, *to); err != nil {
			return Entry{}, err
		}
		if t.virtual {
			return Entry{}, denied(iam.PutFile, *to, "the folders of /shared are the view's")
		}
		to = &t.path
	}
	if err := validTrashID(id); err != nil {
		return Entry{}, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return Entry{}, err
	}
	e, err := record.Optimistic(ctx, "trash "+id, func() (Entry, error) {
		return b.restoreTrashOnce(ctx, pr, ownerID, id, to)
	})
	return t.show(e), t.fail(err)
}

func (b *Backend) restoreTrashOnce(ctx context.Context, pr iam.Principal, ownerID, id string, to *storepath.Path) (Entry, error) {
	r, it, cut, err := b.trashItem(ctx, ownerID, id)
	if err != nil {
		return Entry{}, err
	}
	target, err := storepath.Parse(r.Path)
	if err != nil {
		return Entry{}, fmt.Errorf("backend: corrupt trash item %s: %w", id, err)
	}
	if to != nil {
		target = *to // decided by RestoreTrash
	} else if err := b.allowPath(ctx, pr, iam.PutFile, target); err != nil {
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
	var use charges
	dest := accountAt(l, r.Entry)
	recount := ""
	if !r.Counted && r.Entry.Kind == KindDir && dest.home != "" {
		// Trashed before quotas, it counted against nobody, and a folder's
		// content cannot be counted in the restore's transaction: the home
		// folder it lands in is counted again once it is there.
		recount = dest.home
	} else if err := b.transfer(ctx, &use, r.Entry, account{home: r.Home, name: homeName(r.Path)}, dest, target); err != nil {
		return Entry{}, err
	}
	rp, err := b.repoint(ctx, r.Entry.ID, nodeRec{Parent: l.parentID, Name: target.Name()}, l.chain)
	if err != nil {
		return Entry{}, err
	}
	ops := append([]meta.Op{
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
		meta.Put(record.Item(dirPK(l.parentID), entrySK(target.Name()), r.Entry), meta.MustNew),
		cut.check,
	}, rp...)
	if r.Entry.Kind == KindDir {
		// Coming back into the tree is a change of place, like a move.
		ops = append(ops, treeBump(treeVer))
	}
	if r.Entry.Kind != KindDir || len(l.chain) <= maxChainChecks {
		ops = append(ops, guard(l)...)
	}
	if target.String() != r.Path {
		repath, err := b.repathRestored(ctx, r.Path, target)
		if err != nil {
			return Entry{}, err
		}
		ops = append(ops, repath...)
	}
	if err := use.commit(ctx, b.meta, ops); err != nil {
		var txe *meta.TxError
		if errors.As(err, &txe) && txe.Index == 1 {
			return Entry{}, fmt.Errorf("%s: %w", target, errs.ErrExists)
		}
		return Entry{}, errs.FromStore("restore", err)
	}
	if recount != "" {
		if err := b.recount(ctx, recount); err != nil {
			b.log.Warn("recount a home folder after restoring a folder trashed before quotas", "home", recount, "err", err)
		}
	}
	return b.entry(target, r.Entry), nil
}

// PurgeTrash deletes an entry of owner's trash ("" for pr's own) for good,
// with all its versions and (for a folder) everything in it: gone at once
// (one transaction queues the purge), purged in the background.
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
	_, err = record.Optimistic(ctx, "trash "+id, func() (struct{}, error) {
		_, it, cut, err := b.trashItem(ctx, ownerID, id)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, b.purgeItems(ctx, ownerID, []meta.Item{it}, cut.check, false)
	})
	return err
}

// purgeItems turns trash items into queued purge work in one transaction
// (conditioned on check), then does the work, in the background unless
// wait: nothing is ever half-visible, and a crash leaves the work queued
// for the collector.
func (b *Backend) purgeItems(ctx context.Context, ownerID string, items []meta.Item, check meta.Op, wait bool) error {
	ops := []meta.Op{check}
	for _, it := range items {
		r, err := record.Decode[trashRec](it)
		if err != nil {
			return err
		}
		pid := "t-" + ownerID + "-" + strings.TrimPrefix(it.SK, trashPrefix)
		ops = append(ops,
			meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
			meta.Put(record.Item(pkPurge, pid, purgeRec{Kind: r.Entry.Kind, ID: r.Entry.ID, Home: r.Home}), meta.MustNew))
	}
	if err := b.meta.Transact(ctx, ops); err != nil {
		return errs.FromStore("purge", err)
	}
	if wait {
		b.runPurges(ctx, ops)
	} else {
		b.background(ctx, func(ctx context.Context) { b.runPurges(ctx, ops) })
	}
	return nil
}

// EmptyTrash empties owner's trash ("" for pr's own) at once and returns
// how many items it held; they are purged in the background.
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

// trashDrainBatch is how many trash items one purge transaction takes (two
// writes each).
const trashDrainBatch = 40

func (b *Backend) emptyTrash(ctx context.Context, ownerID string) (int, error) {
	return record.Optimistic(ctx, "empty trash", func() (int, error) {
		cut, err := b.readCut(ctx, ownerID)
		if err != nil {
			return 0, err
		}
		newest, err := b.meta.Query(ctx, trashPK(ownerID), meta.QueryOpts{Prefix: trashPrefix, Reverse: true, Limit: 1})
		if err != nil {
			return 0, err
		}
		if len(newest.Items) == 0 || cut.below(newest.Items[0].SK) {
			return 0, nil
		}
		upto := newest.Items[0].SK
		n := 0
		after := cut.upto
		for {
			pg, err := b.meta.Query(ctx, trashPK(ownerID), meta.QueryOpts{Prefix: trashPrefix, After: after})
			if err != nil {
				return 0, err
			}
			for _, it := range pg.Items {
				if it.SK <= upto {
					n++
				}
			}
			if pg.Next == "" || pg.Next >= upto {
				break
			}
			after = pg.Next
		}
		cond := meta.MustNew
		if cut.ver != 0 {
			cond = meta.AtVersion(cut.ver)
		}
		if err := b.meta.Transact(ctx, []meta.Op{
			meta.Put(record.Item(trashPK(ownerID), skTrashCut, trashCutRec{Upto: upto}), cond),
			meta.Put(record.Item(pkTrashCuts, ownerID, struct{}{}), meta.NoCond),
		}); err != nil {
			return 0, errs.FromStore("empty trash", err)
		}
		b.background(ctx, func(ctx context.Context) {
			if err := b.drainTrash(ctx, ownerID); err != nil {
				b.log.Warn("empty trash: left to the collector", "err", err)
			}
		})
		return n, nil
	})
}

// drainTrash purges the emptied items of the trash of ownerID, oldest
// first, a batch per transaction, then forgets the trash in the index.
func (b *Backend) drainTrash(ctx context.Context, ownerID string) error {
	for {
		cut, err := b.readCut(ctx, ownerID)
		if err != nil {
			return err
		}
		pg, err := b.meta.Query(ctx, trashPK(ownerID), meta.QueryOpts{Prefix: trashPrefix, Limit: trashDrainBatch})
		if err != nil {
			return err
		}
		var batch []meta.Item
		for _, it := range pg.Items {
			if cut.below(it.SK) {
				batch = append(batch, it)
			}
		}
		if len(batch) == 0 {
			err := b.meta.Transact(ctx, []meta.Op{cut.check, meta.Delete(pkTrashCuts, ownerID, meta.NoCond)})
			if record.IsConflict(err) {
				continue // emptied again meanwhile
			}
			return err
		}
		if err := b.purgeItems(ctx, ownerID, batch, cut.check, true); err != nil && !record.IsConflict(err) {
			return err
		}
	}
}

// collectTrash finishes the emptying of every trash whose server did not.
func (b *Backend) collectTrash(ctx context.Context) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, pkTrashCuts, meta.QueryOpts{After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			if err := b.drainTrash(ctx, it.SK); err != nil {
				return fmt.Errorf("empty the trash of %s: %w", it.SK, err)
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}
