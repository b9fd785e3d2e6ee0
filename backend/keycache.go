package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/keys"
)

// keyCache keeps unwrapped data keys for a short time so that reading a file
// in many ranges (a video player, a resumed download) costs one key-service
// call, not one per request. It is bounded in size and in time, and a key is
// zeroed when it leaves.
type keyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	now func() time.Time
	m   map[string]cachedKey
}

type cachedKey struct {
	key     []byte
	expires time.Time
}

func newKeyCache(ttl time.Duration, max int, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, max: max, now: now, m: make(map[string]cachedKey)}
}

// get returns a copy of a cached key: the copy is made under the lock,
// because eviction zeroes the cached slice in place.
func (c *keyCache) get(blobID string) ([]byte, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[blobID]
	if !ok {
		return nil, false
	}
	if c.now().After(k.expires) {
		c.evict(blobID, k)
		return nil, false
	}
	return append([]byte(nil), k.key...), true
}

// put caches a copy of key; the caller keeps (and may clear) its own.
func (c *keyCache) put(blobID string, key []byte) {
	if c.ttl <= 0 {
		return
	}
	key = append([]byte(nil), key...)
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for id, k := range c.m {
			if now.After(k.expires) {
				c.evict(id, k)
			}
		}
		// Still full: drop an arbitrary entry; map order is random enough
		// for a cache that only saves a key-service round trip.
		for id, k := range c.m {
			if len(c.m) < c.max {
				break
			}
			c.evict(id, k)
		}
	}
	c.m[blobID] = cachedKey{key: key, expires: now.Add(c.ttl)}
}

func (c *keyCache) evict(id string, k cachedKey) {
	delete(c.m, id)
	clear(k.key)
}

func blobContext(blobID string) keys.Context { return keys.Context{"blob": blobID} }

// dataKey unwraps the data key of a blob, through the cache. The caller owns
// the returned copy (the cache zeroes its own on eviction).
func (b *Backend) dataKey(ctx context.Context, blobID string, wrapped []byte) ([]byte, error) {
	if k, ok := b.keyCache.get(blobID); ok {
		return k, nil
	}
	k, err := b.keys.Decrypt(ctx, wrapped, blobContext(blobID))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of blob %s: %w", blobID, err)
	}
	b.keyCache.put(blobID, k)
	return k, nil
}

// dataKeyFresh is dataKey for a wrapping read from a record that a key
// rotation may rewrap, and then retire the old master key of, between the
// read and the unwrap: on keys.ErrDecrypt it reads the wrapping again
// (reread) and, if it changed, unwraps that.
func (b *Backend) dataKeyFresh(ctx context.Context, blobID string, wrapped []byte, reread func() ([]byte, error)) ([]byte, error) {
	k, err := b.dataKey(ctx, blobID, wrapped)
	if !errors.Is(err, keys.ErrDecrypt) {
		return k, err
	}
	if again, rerr := reread(); rerr == nil && !bytes.Equal(again, wrapped) {
		return b.dataKey(ctx, blobID, again)
	}
	return nil, err
}
