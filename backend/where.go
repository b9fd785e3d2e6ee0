package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Entries are kept under their folder by name, so the tree alone cannot say
// where an entry is from its ID. Something that points at an entry rather
// than at a path (a share link) pins it: every entry from the root down to
// it gets a pointer item (node#<id>, up) naming its folder and name, or the
// trash item it went to. Moving, trashing and restoring a pinned entry
// update its pointer in the same transaction (and a move of an entry that
// is not pinned conditions on its pointer's absence, so that a pin racing
// it retries), so Locate can walk the pointers up to the root and rebuild
// the entry's path whatever happened to it and its folders since.

// ErrGone: the entry is in the trash (it may come back).
var ErrGone = errors.New("in the trash")

const skNode = "up"

func nodePK(id string) string { return "node#" + id }

// nodeRec is the item at (node#<entryID>, up): where the entry is.
type nodeRec struct {
	Parent string `json:"p,omitempty"`
	Name   string `json:"n,omitempty"`
	// TrashOwner and TrashID are set while the entry is in a trash.
	TrashOwner string `json:"to,omitempty"`
	TrashID    string `json:"ti,omitempty"`
}

// maxPinDepth bounds the folders a pin writes pointers for in one
// transaction (with the chain's guard).
const maxPinDepth = 30

// Pin makes the entry at p locatable by its ID from now on and returns it.
// pr needs GetFile on p.
func (b *Backend) Pin(ctx context.Context, pr iam.Principal, p storepath.Path) (Entry, error) {
	if err := b.allowPath(ctx, pr, iam.GetFile, p); err != nil {
		return Entry{}, err
	}
	if p.IsRoot() {
		return Entry{}, fmt.Errorf("%w: the root folder cannot be pinned", errs.ErrInvalid)
	}
	if p.Depth() > maxPinDepth {
		return Entry{}, fmt.Errorf("%w: %s is more than %d folders deep", errs.ErrInvalid, p, maxPinDepth)
	}
	return record.Optimistic(ctx, p.String(), func() (Entry, error) {
		l, err := b.lookupExisting(ctx, p)
		if err != nil {
			return Entry{}, err
		}
		ops, err := b.pinOps(ctx, append(slices.Clip(l.chain), l.self()))
		if err != nil {
			return Entry{}, err
		}
		for _, k := range append(slices.Clip(l.chain), l.self()) {
			// The entry must still be where it was read.
			ops = append(ops, meta.Check(dirPK(k.dirID), entrySK(k.name), meta.AtVersion(k.ver)))
		}
		if err := b.meta.Transact(ctx, ops); err != nil {
			return Entry{}, errs.FromStore("pin", err)
		}
		return b.entry(p, l.rec), nil
	})
}

// pinOps are the writes that make the pointers of the entries of chain
// say where each is (none for those that already do).
func (b *Backend) pinOps(ctx context.Context, chain []link) ([]meta.Op, error) {
	var ops []meta.Op
	for _, k := range chain {
		want := nodeRec{Parent: k.dirID, Name: k.name}
		cur, it, err := record.Get[nodeRec](ctx, b.meta, nodePK(k.rec.ID), skNode)
		switch {
		case record.IsNotFound(err):
			ops = append(ops, meta.Put(record.Item(nodePK(k.rec.ID), skNode, want), meta.MustNew))
		case err != nil:
			return nil, err
		case cur != want:
			ops = append(ops, meta.Put(record.Item(nodePK(k.rec.ID), skNode, want), meta.AtVersion(it.Version)))
		}
	}
	return ops, nil
}

// repoint are the operations that record the entry id's new place (or its
// trash item) if it is pinned, or require that it still is not. A pinned
// entry that lands under folders that are not (a move or a restore into
// them; chain is the folders from the root down to its new one) pins them
// too, so that it can still be walked up to the root.
func (b *Backend) repoint(ctx context.Context, id string, to nodeRec, chain []link) ([]meta.Op, error) {
	_, it, err := record.Get[nodeRec](ctx, b.meta, nodePK(id), skNode)
	if record.IsNotFound(err) {
		return []meta.Op{meta.Check(nodePK(id), skNode, meta.MustNew)}, nil
	}
	if err != nil {
		return nil, err
	}
	ops, err := b.pinOps(ctx, chain)
	if err != nil {
		return nil, err
	}
	return append(ops, meta.Put(record.Item(nodePK(id), skNode, to), meta.AtVersion(it.Version))), nil
}

// Location is where a pinned entry is now.
type Location struct {
	Entry Entry
	// Path is the entry's path (also Entry.Path).
	Path storepath.Path
	// DirID is the ID of the folder the entry is in.
	DirID string
}

// Locate finds the pinned entry id: its path and what it is now. An entry
// in the trash (or in a trashed folder) is ErrGone; one purged, or never
// pinned, errs.ErrNotFound. Locate decides nothing: the caller authorizes
// what it then does with the path.
func (b *Backend) Locate(ctx context.Context, id string) (Location, error) {
	var names []string
	var self entryRec
	var selfDir string
	cur := id
	for depth := 0; cur != rootDirID; depth++ {
		if depth > maxPinDepth+1 {
			return Location{}, fmt.Errorf("backend: pointers of %s loop", id)
		}
		n, _, err := record.Get[nodeRec](ctx, b.meta, nodePK(cur), skNode)
		if record.IsNotFound(err) {
			return Location{}, fmt.Errorf("entry %s: %w", id, errs.ErrNotFound)
		}
		if err != nil {
			return Location{}, err
		}
		if n.TrashID != "" {
			if _, _, _, err := b.trashItem(ctx, n.TrashOwner, n.TrashID); err != nil {
				return Location{}, err // purged: not found
			}
			return Location{}, fmt.Errorf("entry %s: %w", id, ErrGone)
		}
		rec, _, err := record.Get[entryRec](ctx, b.meta, dirPK(n.Parent), entrySK(n.Name))
		if record.IsNotFound(err) || (err == nil && rec.ID != cur) {
			// The pointer outlived its entry: a folder purged with
			// everything in it.
			return Location{}, fmt.Errorf("entry %s: %w", id, errs.ErrNotFound)
		}
		if err != nil {
			return Location{}, err
		}
		if cur == id {
			self, selfDir = rec, n.Parent
		}
		names = append(names, n.Name)
		cur = n.Parent
	}
	slices.Reverse(names)
	p, err := storepath.FromSegments(names)
	if err != nil {
		return Location{}, fmt.Errorf("backend: path of %s: %w", id, err)
	}
	return Location{Entry: b.entry(p, self), Path: p, DirID: selfDir}, nil
}

// trashedNode is the pointer of an entry that trashOps' ops put in pr's
// trash.
func trashedNode(owner string, trash []meta.Op) nodeRec {
	return nodeRec{TrashOwner: owner, TrashID: trash[0].Item.SK[len(trashPrefix):]}
}
