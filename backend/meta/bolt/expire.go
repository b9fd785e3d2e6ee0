package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/strata-storage/strata/backend/meta"
)

// sweepChunk is how many keys one read transaction of DeleteExpired looks
// at: a whole-file scan in one transaction would hold a read snapshot (and
// every page freed meanwhile) for as long as it takes.
const sweepChunk = 4096

var _ meta.Expirer = (*Store)(nil)

// DeleteExpired scans the file in chunks and deletes the items whose
// ExpiresAt is before now. Each deletion is checked again in the write
// transaction against the version seen, so an item rewritten meanwhile
// (with a later expiry, or none) is kept.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	type seen struct {
		key     []byte
		version int64
	}
	deleted := 0
	var from []byte
	for {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		var expired []seen
		var next []byte
		err := s.db.View(func(tx *bbolt.Tx) error {
			c := tx.Bucket(bucketName).Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == sweepChunk {
					next = bytes.Clone(k)
					return nil
				}
				n++
				h, err := decodeHeader(v)
				if err != nil {
					return fmt.Errorf("%w at %q", err, k)
				}
				if !h.expiresAt.IsZero() && h.expiresAt.Before(now) {
					expired = append(expired, seen{key: bytes.Clone(k), version: h.version})
				}
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("bolt: delete expired: %w", storageErr(err))
		}
		if len(expired) > 0 {
			var n int
			err = s.write(ctx, func(b *bbolt.Bucket) ([]mutation, error) {
				n = 0
				var muts []mutation
				for _, e := range expired {
					h, exists, err := loadHeader(b, e.key)
					if err != nil {
						return nil, err
					}
					if exists && h.version == e.version {
						muts = append(muts, mutation{key: e.key, del: true})
					}
				}
				n = len(muts)
				return muts, nil
			})
			if err != nil {
				return deleted, fmt.Errorf("bolt: delete expired: %w", err)
			}
			deleted += n
		}
		if next == nil {
			return deleted, nil
		}
		from = next
	}
}
