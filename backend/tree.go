package backend

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// link is the entry named name in folder dirID, as read at version ver.
type link struct {
	dirID string
	name  string
	rec   entryRec
	ver   int64
}

// loc is a resolved path: where its entry lives, and the entry if it exists.
type loc struct {
	path     storepath.Path
	parentID string // the folder that holds (or would hold) the entry; "" for root
	// chain is the entries of the folders from the root down to the parent
	// (the root itself has none), as read. A write conditions on all of
	// them (guard), so that it cannot land in a folder that was moved,
	// trashed, or deleted and created again meanwhile.
	chain []link
	// treeVer is the version of the tree item, read before the walk when
	// the chain is too long to check in one transaction (0: absent).
	treeVer int64
	exists  bool
	rec     entryRec
	ver     int64
	// cached: the folders came from the dirCache, unchecked until the
	// write's transaction checks them. assumed: the entry was not read;
	// it is taken to be absent.
	cached, assumed bool
}

// maxChainChecks bounds the chain conditions one transaction carries; deeper
// paths condition on the tree item instead, which every change of a
// folder's place (move, rename, trash, restore) bumps.
const maxChainChecks = 60

func (l loc) self() link {
	return link{dirID: l.parentID, name: l.path.Name(), rec: l.rec, ver: l.ver}
}

// dirIDs are the IDs of the folders from the root down to the parent.
func (l loc) dirIDs() []string {
	ids := []string{rootDirID}
	for _, k := range l.chain {
		ids = append(ids, k.rec.ID)
	}
	return ids
}

// below is the location of a child of the folder l resolves to.
func (l loc) below(name string, p storepath.Path) loc {
	chain := l.chain
	if !l.path.IsRoot() {
		chain = append(slices.Clip(l.chain), l.self())
	}
	return loc{path: p, parentID: l.rec.ID, chain: chain, treeVer: l.treeVer}
}

var rootRec = entryRec{ID: rootDirID, Kind: KindDir}

// guard is the condition that every folder on l's way is still where it
// was when l was resolved.
func guard(l loc) []meta.Op {
	if len(l.chain) > maxChainChecks {
		return []meta.Op{treeCheck(l.treeVer)}
	}
	ops := make([]meta.Op, 0, len(l.chain))
	for _, k := range l.chain {
		ops = append(ops, meta.Check(dirPK(k.dirID), entrySK(k.name), meta.AtVersion(k.ver)))
	}
	return ops
}

func treeCond(ver int64) meta.Cond {
	if ver == 0 {
		return meta.MustNew
	}
	return meta.AtVersion(ver)
}

func treeCheck(ver int64) meta.Op { return meta.Check(pkTreeLock, skTreeLock, treeCond(ver)) }

// treeBump is the write that every change of a folder's place makes, so
// that deep writes (and other such changes) resolved before it fail.
func treeBump(ver int64) meta.Op {
	return meta.Put(meta.Item{PK: pkTreeLock, SK: skTreeLock, Value: []byte("{}")}, treeCond(ver))
}

// treeVersion reads the tree item's version (0 when absent).
func (b *Backend) treeVersion(ctx context.Context) (int64, error) {
	it, err := b.meta.Get(ctx, pkTreeLock, skTreeLock)
	if record.IsNotFound(err) {
		return 0, nil
	}
	return it.Version, err
}

// lookup walks the path from the root. A missing last name is not an error
// (exists is false); a missing or non-folder ancestor is errs.ErrNotFound or
// errs.ErrNotDir.
func (b *Backend) lookup(ctx context.Context, p storepath.Path) (loc, error) {
	return b.walk(ctx, p, false)
}

// walk resolves p from the root; with create it makes the missing folders
// of p (p included) and returns p as a folder.
func (b *Backend) walk(ctx context.Context, p storepath.Path, create bool) (loc, error) {
	cur := loc{path: storepath.Root, exists: true, rec: rootRec}
	if p.IsRoot() {
		return cur, nil
	}
	segs := p.Segments()
	if len(segs) > maxChainChecks {
		v, err := b.treeVersion(ctx)
		if err != nil {
			return loc{}, err
		}
		cur.treeVer = v
	}
	for i, seg := range segs {
		last := i == len(segs)-1
		sub, err := storepath.FromSegments(segs[:i+1])
		if err != nil {
			return loc{}, err
		}
		next := cur.below(seg, sub)
		rec, it, err := record.Get[entryRec](ctx, b.meta, dirPK(cur.rec.ID), entrySK(seg))
		switch {
		case record.IsNotFound(err) && create:
			now := record.Nanos(b.now())
			rec = entryRec{ID: record.NewID(), Kind: KindDir, Created: now, MTime: now}
			ops := append([]meta.Op{meta.Put(record.Item(dirPK(cur.rec.ID), entrySK(seg), rec), meta.MustNew)}, guard(next)...)
			if err := b.meta.Transact(ctx, ops); err != nil {
				return loc{}, err
			}
			// Versions are opaque: read back the one the store gave.
			if rec, it, err = record.Get[entryRec](ctx, b.meta, dirPK(cur.rec.ID), entrySK(seg)); err != nil {
				return loc{}, err
			}
		case record.IsNotFound(err) && last:
			return next, nil
		case record.IsNotFound(err):
			return loc{}, fmt.Errorf("%s: %w", sub, errs.ErrNotFound)
		case err != nil:
			return loc{}, err
		}
		next.exists, next.rec, next.ver = true, rec, it.Version
		if last && !create {
			return next, nil
		}
		if rec.Kind != KindDir {
			return loc{}, fmt.Errorf("%s: %w", sub, errs.ErrNotDir)
		}
		cur = next
	}
	return cur, nil
}

// lookupExisting is lookup that requires the entry to exist.
func (b *Backend) lookupExisting(ctx context.Context, p storepath.Path) (loc, error) {
	l, err := b.lookup(ctx, p)
	if err != nil {
		return l, err
	}
	if !l.exists {
		return l, fmt.Errorf("%s: %w", p, errs.ErrNotFound)
	}
	return l, nil
}

// Stat describes the file or folder at p.
func (b *Backend) Stat(ctx context.Context, pr iam.Principal, p storepath.Path) (Entry, error) {
	t, err := b.authorize(ctx, pr, iam.GetFile, p)
	if err != nil {
		return Entry{}, err
	}
	if t.virtual {
		return b.statShared(ctx, pr, p)
	}
	l, err := b.lookupExisting(ctx, t.path)
	if err != nil {
		return Entry{}, t.fail(err)
	}
	if l.rec.Kind == KindFile && l.rec.Blob != "" {
		// The blob has the archive state first hand (copies share it).
		e, err := b.syncArch(ctx, t.path, l)
		if err != nil {
			return Entry{}, t.fail(err)
		}
		return t.show(e), nil
	}
	return t.show(b.entry(t.path, l.rec)), nil
}

// Page is one page of a folder listing.
type Page struct {
	Entries []Entry `json:"entries"`
	// Cursor continues the listing; empty on the last page.
	Cursor string `json:"cursor,omitempty"`
}

// List returns up to limit entries of the folder p in byte order of names,
// starting after cursor (from a previous Page, or "" for the start).
func (b *Backend) List(ctx context.Context, pr iam.Principal, p storepath.Path, cursor string, limit int) (Page, error) {
	return b.ListPrefix(ctx, pr, p, "", cursor, limit)
}

// ListPrefix is List of only the names that start with prefix (a name
// fragment: no "/"), which completing a typed name needs in a folder of
// any size.
func (b *Backend) ListPrefix(ctx context.Context, pr iam.Principal, p storepath.Path, prefix, cursor string, limit int) (Page, error) {
	t, err := b.authorize(ctx, pr, iam.ListFolder, p)
	if err != nil {
		return Page{}, err
	}
	if t.virtual {
		pg, err := b.listShared(ctx, pr, p)
		if err != nil || cursor != "" {
			return Page{Entries: []Entry{}}, err
		}
		kept := pg.Entries[:0]
		for _, e := range pg.Entries {
			if strings.HasPrefix(e.Name, prefix) {
				kept = append(kept, e)
			}
		}
		pg.Entries = kept
		return pg, nil
	}
	pg, err := b.listAt(ctx, t.path, p, prefix, cursor, limit)
	return pg, t.fail(err)
}

// listAt lists the folder p, naming its entries under shown.
func (b *Backend) listAt(ctx context.Context, p, shown storepath.Path, prefix, cursor string, limit int) (Page, error) {
	if len(prefix) > storepath.MaxName || strings.ContainsAny(prefix, "/\x00") || !utf8.ValidString(prefix) {
		return Page{}, fmt.Errorf("%w: a prefix is part of one name", errs.ErrInvalid)
	}
	if limit <= 0 || limit > meta.MaxPageLimit {
		limit = meta.MaxPageLimit
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Page{}, err
	}
	if l.rec.Kind != KindDir {
		return Page{}, fmt.Errorf("%s: %w", p, errs.ErrNotDir)
	}
	q := meta.QueryOpts{Prefix: entryPrefix + prefix, Limit: limit}
	if after != "" {
		q.After = entrySK(after)
	}
	pg, err := b.meta.Query(ctx, dirPK(l.rec.ID), q)
	if err != nil {
		return Page{}, err
	}
	out := Page{Entries: make([]Entry, 0, len(pg.Items))}
	for _, it := range pg.Items {
		rec, err := decodeEntryRec(it)
		if err != nil {
			return Page{}, err
		}
		name := strings.TrimPrefix(it.SK, entryPrefix)
		cp, err := p.Join(name)
		if err != nil {
			return Page{}, fmt.Errorf("backend: stored name %q: %w", name, err)
		}
		e := b.entry(cp, rec)
		e.Path = strings.Replace(e.Path, p.String(), shown.String(), 1)
		out.Entries = append(out.Entries, e)
	}
	if pg.Next != "" {
		out.Cursor = encodeCursor(strings.TrimPrefix(pg.Next, entryPrefix))
	}
	return out, nil
}

func encodeCursor(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func decodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > meta.MaxKeyLen || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", fmt.Errorf("%w: malformed cursor", errs.ErrInvalid)
	}
	return string(b), nil
}

// Mkdir creates the folder p. With parents, missing ancestors are created and
// an existing folder at p is not an error.
func (b *Backend) Mkdir(ctx context.Context, pr iam.Principal, p storepath.Path, parents bool) (Entry, error) {
	t, err := b.authorize(ctx, pr, iam.CreateFolder, p)
	if err != nil {
		return Entry{}, err
	}
	e, err := b.mkdir(ctx, t.path, parents)
	return t.show(e), t.fail(err)
}

func (b *Backend) mkdir(ctx context.Context, p storepath.Path, parents bool) (Entry, error) {
	if p.IsRoot() {
		if parents {
			return b.entry(p, rootRec), nil
		}
		return Entry{}, fmt.Errorf("/: %w", errs.ErrExists)
	}
	if !parents {
		l, err := b.lookup(ctx, p)
		if err != nil {
			return Entry{}, err
		}
		if l.exists {
			return Entry{}, fmt.Errorf("%s: %w", p, errs.ErrExists)
		}
	}
	l, err := b.ensureDir(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	return b.entry(p, l.rec), nil
}

// ensureDir makes p and its ancestors folders, creating what is missing, and
// returns p resolved. A file in the way is errs.ErrNotDir.
func (b *Backend) ensureDir(ctx context.Context, p storepath.Path) (loc, error) {
	return record.Optimistic(ctx, p.String(), func() (loc, error) {
		return b.walk(ctx, p, true)
	})
}
