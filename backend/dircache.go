package backend

import (
	"context"
	"sync"

	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// dirCacheMax bounds the folders a dirCache remembers.
const dirCacheMax = 4096

// dirCache remembers where the folders that files were recently written
// into are: their IDs and the entries on the way to them, with the
// versions read. It saves a Put the walk from the root, one read per
// folder on the path (on DynamoDB, one request each).
//
// Nothing read from it is trusted on its own. A write that starts from a
// cached folder commits with the same conditions as one that walked
// (guard: every folder entry on the path still at the version read), so
// if the folder was moved, renamed, trashed or deleted and made again
// since, by this server or any other behind the same load balancer, the
// transaction fails, the folder is dropped from the cache, and the write
// resolves the path afresh. A cached answer that would refuse a write (a
// folder in the way, a precondition) is likewise checked again without
// the cache before it is returned. Reads never use it: they have no
// transaction to check it with.
type dirCache struct {
	mu sync.Mutex
	m  map[string]loc
}

func newDirCache() *dirCache { return &dirCache{m: map[string]loc{}} }

// get returns the cached folder at p.
func (c *dirCache) get(p storepath.Path) (loc, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[p.String()]
	return l, ok
}

// put remembers the folder l resolves to. Paths too deep for their chain
// to be checked entry by entry are not kept (their writes check the tree
// version, which a cached loc would hold stale for every write).
func (c *dirCache) put(l loc) {
	if !l.exists || l.rec.Kind != KindDir || l.path.IsRoot() || len(l.chain) >= maxChainChecks {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[l.path.String()]; !ok && len(c.m) >= dirCacheMax {
		for k := range c.m { // any one: the map's order is random enough
			delete(c.m, k)
			break
		}
	}
	c.m[l.path.String()] = l
}

func (c *dirCache) drop(p storepath.Path) {
	c.mu.Lock()
	delete(c.m, p.String())
	c.mu.Unlock()
}

// parentLoc is the folder that holds l's entry, as l's walk read it.
func parentLoc(l loc) (loc, bool) {
	n := len(l.chain)
	if n == 0 {
		return loc{}, false
	}
	k := l.chain[n-1]
	return loc{path: l.path.Parent(), parentID: k.dirID, chain: l.chain[:n-1], treeVer: l.treeVer,
		exists: true, rec: k.rec, ver: k.ver}, true
}

// lookupCached resolves p for a write whose transaction guards p's
// folders (guard), from the cached parent folder (ok false: none cached):
// it reads only p's own entry, and with assume not even that (p is taken
// to be absent, and the write's must-not-exist condition checks it).
func (b *Backend) lookupCached(ctx context.Context, p storepath.Path, assume bool) (l loc, ok bool, err error) {
	parent, ok := b.dirs.get(p.Parent())
	if !ok {
		return loc{}, false, nil
	}
	l = parent.below(p.Name(), p)
	l.cached = true
	if assume {
		l.assumed = true
		return l, true, nil
	}
	l, err = b.readEntry(ctx, l)
	return l, true, err
}

// readEntry reads l's own entry into l, under the folders l already has.
func (b *Backend) readEntry(ctx context.Context, l loc) (loc, error) {
	l.assumed, l.exists, l.rec, l.ver = false, false, entryRec{}, 0
	rec, it, err := record.Get[entryRec](ctx, b.meta, dirPK(l.parentID), entrySK(l.path.Name()))
	switch {
	case err == nil:
		l.exists, l.rec, l.ver = true, rec, it.Version
	case !record.IsNotFound(err):
		return loc{}, err
	}
	return l, nil
}
