package ratelimit

import (
	"hash/maphash"
	"sync"
	"time"
)

// shards splits a table so that requests of different clients rarely wait
// on one lock.
const shards = 64

// evictSample is how many entries an insertion into a full shard looks at
// to find one to drop: Go's map iteration starts at a random place, so
// this samples, like Redis's approximate LRU.
const evictSample = 8

// table holds one kind of entry (a client address's buckets, a user's...)
// by key, never more than limit of them. An entry unused for longer than
// idle is worth nothing (its buckets have refilled: a new one would be the
// same), and an insertion into a full shard drops such entries among those
// it samples, or else the one of them used the longest ago; so memory is
// bounded however many distinct keys come, and an entry that is still
// counting is dropped only under that pressure.
type table[K comparable, E any] struct {
	seed     maphash.Seed
	perShard int
	idle     time.Duration
	shard    [shards]tableShard[K, E]
}

type tableShard[K comparable, E any] struct {
	mu sync.Mutex
	m  map[K]*slot[E]
}

type slot[E any] struct {
	e    E
	last int64 // UnixNano of the last use
}

func newTable[K comparable, E any](limit int, idle time.Duration) *table[K, E] {
	t := &table[K, E]{seed: maphash.MakeSeed(), perShard: max(1, limit/shards), idle: idle}
	for i := range t.shard {
		t.shard[i].m = map[K]*slot[E]{}
	}
	return t
}

// lock finds k's entry, making it with fresh if there is none, and returns
// it with its shard locked: the caller unlocks. fresh reports whether the
// entry is new.
func (t *table[K, E]) lock(k K, now time.Time, init func(*E)) (e *E, sh *tableShard[K, E], fresh bool) {
	sh = &t.shard[maphash.Comparable(t.seed, k)%shards]
	ns := now.UnixNano()
	sh.mu.Lock()
	s := sh.m[k]
	if s == nil {
		if len(sh.m) >= t.perShard {
			sh.evict(ns, t.idle)
		}
		s = &slot[E]{}
		init(&s.e)
		sh.m[k] = s
		fresh = true
	}
	s.last = ns
	return &s.e, sh, fresh
}

// peek finds k's entry without making one; with the shard locked when
// found.
func (t *table[K, E]) peek(k K) (*E, *tableShard[K, E]) {
	sh := &t.shard[maphash.Comparable(t.seed, k)%shards]
	sh.mu.Lock()
	s := sh.m[k]
	if s == nil {
		sh.mu.Unlock()
		return nil, nil
	}
	return &s.e, sh
}

// drop forgets k.
func (t *table[K, E]) drop(k K) {
	sh := &t.shard[maphash.Comparable(t.seed, k)%shards]
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// len counts the entries (for tests and metrics).
func (t *table[K, E]) len() int {
	n := 0
	for i := range t.shard {
		sh := &t.shard[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// evict makes room in a full shard (locked).
func (sh *tableShard[K, E]) evict(now int64, idle time.Duration) {
	var victim K
	oldest, seen, dropped, found := int64(0), 0, false, false
	for k, s := range sh.m {
		if now-s.last > int64(idle) {
			delete(sh.m, k)
			dropped = true
		} else if !found || s.last < oldest {
			victim, oldest, found = k, s.last, true
		}
		if seen++; seen >= evictSample {
			break
		}
	}
	if !dropped {
		delete(sh.m, victim)
	}
}
