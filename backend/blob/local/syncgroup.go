package local

import (
	"path/filepath"
	"sync"
)

// maxSyncGroup bounds the Puts one group installs, and so the directory
// fsyncs (and the threads blocked in them) in flight at once.
const maxSyncGroup = 64

// syncGroup installs concurrent Puts together: a group commit of the
// renames that put their objects under their keys, and of the directory
// fsyncs that make those renames durable.
//
// A Put writes and fsyncs its temp file on its own (the data's fsync stays
// with its writer, so a Put of 4 KiB never waits for the pages of a big Put
// beside it, and never syncfs, for the same reason), then joins the queue.
// If no group is being synced, it leads one at once with everything queued
// (a lone Put waits for nothing but its own fsyncs: no timer); otherwise it
// waits, and when the running group is done the first Put queued leads the
// next group with all the Puts that arrived meanwhile. A group renames each
// temp file under its key, then fsyncs each directory renamed into once,
// objects/ among them if a shard is new, all at once (one goroutine each),
// and only then releases its Puts.
type syncGroup struct {
	mu      sync.Mutex
	leading bool          // a group is being synced
	queue   []*pendingPut // Puts waiting for the next group
}

// pendingPut is a Put whose temp file is written and synced, to be installed.
type pendingPut struct {
	tmp string // the temp file, relative to the store
	dst string // the object's path

	err  error
	wake chan struct{} // closed when err is set, or when the Put must lead
	lead bool          // set before wake is closed: sync the queue
}

// do renames p's temp file to p.dst and makes that durable, together with
// the other Puts of the moment, and returns p's outcome. On an error the
// temp file may still be in tmp/, for the caller to remove.
func (g *syncGroup) do(s *Store, p *pendingPut) error {
	p.wake = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.leading {
		g.mu.Unlock()
		<-p.wake
		if !p.lead {
			return p.err
		}
		g.mu.Lock()
	}
	g.leading = true
	n := min(len(g.queue), maxSyncGroup)
	group := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	s.syncPuts(group)

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		close(next.wake)
	} else {
		g.leading = false
		g.queue = nil
	}
	g.mu.Unlock()
	for _, o := range group {
		if o != p {
			close(o.wake)
		}
	}
	return p.err
}

// syncPuts installs a group: rename each temp file under its key, fsync
// every directory renamed into (and objects/ if one of them is a new shard),
// and set each Put's err. A Put fails alone when its own rename does, or
// with the others of its directory when that directory's fsync does.
func (s *Store) syncPuts(group []*pendingPut) {
	// Each directory to sync, with the Puts that wait on it.
	var syncs []dirSync
	index := map[string]int{}
	need := func(dir string, p *pendingPut) {
		i, ok := index[dir]
		if !ok {
			i = len(syncs)
			index[dir] = i
			syncs = append(syncs, dirSync{dir: dir})
		}
		syncs[i].puts = append(syncs[i].puts, p)
	}
	var aside, newShards []string
	for _, p := range group {
		moved, err := s.place(p.tmp, p.dst)
		if err != nil {
			p.err = err
			continue
		}
		aside = append(aside, moved...)
		shard := filepath.Dir(p.dst)
		need(shard, p)
		if !s.durableShard(shard) {
			need(objectsDir, p)
			newShards = append(newShards, shard)
		}
	}
	each(len(syncs), func(i int) {
		d := &syncs[i]
		if d.dir == objectsDir {
			d.err = s.syncShards(newShards)
		} else {
			d.err = s.syncDir(d.dir)
		}
	})
	for _, d := range syncs {
		for _, p := range d.puts {
			if p.err == nil {
				p.err = d.err
			}
		}
	}
	s.removeAll(aside)
}

// dirSync is a directory a group syncs, and the Puts that wait on it.
type dirSync struct {
	dir  string
	puts []*pendingPut
	err  error
}

// each calls fn(0) ... fn(n-1) at once, one goroutine each (the caller's own
// for the last), and returns when all have returned.
func each(n int, fn func(i int)) {
	if n == 0 {
		return
	}
	var wg sync.WaitGroup
	for i := range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	fn(n - 1)
	wg.Wait()
}
