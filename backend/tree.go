package backend

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/storepath"
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
	// parent is the parent folder's own entry, nil when the parent is the
	// root. Writes condition on it so they cannot land in a folder that was
	// moved or deleted meanwhile.
	parent *link
	exists bool
	rec    entryRec
	ver    int64
	// dirs holds the IDs of the folders from the root down to the parent,
	// to refuse moving a folder into itself.
	dirs []string
}

func (l loc) self() link {
	return link{dirID: l.parentID, name: l.path.Name(), rec: l.rec, ver: l.ver}
}

var rootRec = entryRec{ID: rootDirID, Kind: KindDir}

// lookup walks the path from the root. A missing last name is not an error
// (exists is false); a missing or non-folder ancestor is ErrNotFound or
// ErrNotDir.
func (b *Backend) lookup(ctx context.Context, p storepath.Path) (loc, error) {
	if p.IsRoot() {
		return loc{path: p, exists: true, rec: rootRec}, nil
	}
	segs := p.Segments()
	cur := rootDirID
	dirs := []string{rootDirID}
	var parent *link
	for i, seg := range segs {
		rec, it, err := getRec[entryRec](ctx, b.meta, dirPK(cur), entrySK(seg))
		last := i == len(segs)-1
		switch {
		case isNotFound(err) && last:
			return loc{path: p, parentID: cur, parent: parent, dirs: dirs}, nil
		case isNotFound(err):
			return loc{}, fmt.Errorf("%s: %w", prefixPath(segs[:i+1]), ErrNotFound)
		case err != nil:
			return loc{}, err
		case last:
			return loc{path: p, parentID: cur, parent: parent, exists: true, rec: rec, ver: it.Version, dirs: dirs}, nil
		case rec.Kind != KindDir:
			return loc{}, fmt.Errorf("%s: %w", prefixPath(segs[:i+1]), ErrNotDir)
		}
		parent = &link{dirID: cur, name: seg, rec: rec, ver: it.Version}
		cur = rec.ID
		dirs = append(dirs, cur)
	}
	panic("unreachable")
}

// lookupExisting is lookup that requires the entry to exist.
func (b *Backend) lookupExisting(ctx context.Context, p storepath.Path) (loc, error) {
	l, err := b.lookup(ctx, p)
	if err != nil {
		return l, err
	}
	if !l.exists {
		return l, fmt.Errorf("%s: %w", p, ErrNotFound)
	}
	return l, nil
}

func prefixPath(segs []string) string { return "/" + strings.Join(segs, "/") }

// parentCheck is the condition that the parent folder is still where it was.
func parentCheck(l loc) []meta.Op {
	if l.parent == nil {
		return nil
	}
	return []meta.Op{meta.Check(dirPK(l.parent.dirID), entrySK(l.parent.name), meta.AtVersion(l.parent.ver))}
}

// isConflict reports a lost optimistic-concurrency race, worth a retry.
func isConflict(err error) bool { return errors.Is(err, meta.ErrConflict) }

// optimistic runs op until it commits without losing a race to another
// writer, backing off with jitter between attempts so that contenders
// spread out. A race lost maxRetries times is ErrConflict about what.
func optimistic[T any](ctx context.Context, what string, op func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := op()
		if !isConflict(err) {
			return v, err
		}
		if attempt == maxRetries {
			return v, fmt.Errorf("%s: %w", what, ErrConflict)
		}
		t := time.NewTimer(rand.N(time.Millisecond << min(attempt, 6)))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

// Stat describes the file or folder at p.
func (b *Backend) Stat(ctx context.Context, pr Principal, p storepath.Path) (Entry, error) {
	if err := authorize(pr, p, actRead); err != nil {
		return Entry{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	return b.entry(p, l.rec), nil
}

// Page is one page of a folder listing.
type Page struct {
	Entries []Entry `json:"entries"`
	// Cursor continues the listing; empty on the last page.
	Cursor string `json:"cursor,omitempty"`
}

// List returns up to limit entries of the folder p in byte order of names,
// starting after cursor (from a previous Page, or "" for the start).
func (b *Backend) List(ctx context.Context, pr Principal, p storepath.Path, cursor string, limit int) (Page, error) {
	if err := authorize(pr, p, actList); err != nil {
		return Page{}, err
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
		return Page{}, fmt.Errorf("%s: %w", p, ErrNotDir)
	}
	q := meta.QueryOpts{Prefix: entryPrefix, Limit: limit}
	if after != "" {
		q.After = entrySK(after)
	}
	pg, err := b.meta.Query(ctx, dirPK(l.rec.ID), q)
	if err != nil {
		return Page{}, err
	}
	out := Page{Entries: make([]Entry, 0, len(pg.Items))}
	for _, it := range pg.Items {
		rec, err := decode[entryRec](it)
		if err != nil {
			return Page{}, err
		}
		name := strings.TrimPrefix(it.SK, entryPrefix)
		cp, err := p.Join(name)
		if err != nil {
			return Page{}, fmt.Errorf("backend: stored name %q: %w", name, err)
		}
		out.Entries = append(out.Entries, b.entry(cp, rec))
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
	if err != nil || len(b) == 0 || len(b) > storepath.MaxName {
		return "", fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return string(b), nil
}

// Mkdir creates the folder p. With parents, missing ancestors are created and
// an existing folder at p is not an error.
func (b *Backend) Mkdir(ctx context.Context, pr Principal, p storepath.Path, parents bool) (Entry, error) {
	if err := authorize(pr, p, actWrite); err != nil {
		return Entry{}, err
	}
	if p.IsRoot() {
		if parents {
			return b.entry(p, rootRec), nil
		}
		return Entry{}, fmt.Errorf("/: %w", ErrExists)
	}
	if !parents {
		l, err := b.lookup(ctx, p)
		if err != nil {
			return Entry{}, err
		}
		if l.exists {
			return Entry{}, fmt.Errorf("%s: %w", p, ErrExists)
		}
	}
	l, err := b.ensureDir(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	return b.entry(p, l.rec), nil
}

// ensureDir makes p and its ancestors folders, creating what is missing, and
// returns p resolved. A file in the way is ErrNotDir.
func (b *Backend) ensureDir(ctx context.Context, p storepath.Path) (loc, error) {
	return optimistic(ctx, p.String(), func() (loc, error) {
		return b.ensureDirOnce(ctx, p)
	})
}

func (b *Backend) ensureDirOnce(ctx context.Context, p storepath.Path) (loc, error) {
	if p.IsRoot() {
		return loc{path: p, exists: true, rec: rootRec}, nil
	}
	segs := p.Segments()
	cur := rootDirID
	dirs := []string{rootDirID}
	var parent *link
	for i, seg := range segs {
		rec, it, err := getRec[entryRec](ctx, b.meta, dirPK(cur), entrySK(seg))
		ver := it.Version
		switch {
		case isNotFound(err):
			now := nanos(b.now())
			rec = entryRec{ID: newID(), Kind: KindDir, Created: now, MTime: now}
			ops := []meta.Op{meta.Put(item(dirPK(cur), entrySK(seg), rec), meta.MustNew)}
			if parent != nil {
				ops = append(ops, meta.Check(dirPK(parent.dirID), entrySK(parent.name), meta.AtVersion(parent.ver)))
			}
			if err := b.meta.Transact(ctx, ops); err != nil {
				return loc{}, err
			}
			ver = 1
		case err != nil:
			return loc{}, err
		case rec.Kind != KindDir:
			return loc{}, fmt.Errorf("%s: %w", prefixPath(segs[:i+1]), ErrNotDir)
		}
		if i == len(segs)-1 {
			return loc{path: p, parentID: cur, parent: parent, exists: true, rec: rec, ver: ver, dirs: dirs}, nil
		}
		parent = &link{dirID: cur, name: seg, rec: rec, ver: ver}
		cur = rec.ID
		dirs = append(dirs, cur)
	}
	panic("unreachable")
}
