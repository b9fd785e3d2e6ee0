package bolt

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/strata-storage/strata/backend/meta"
)

// Query returns a page of partition pk. It reads one item beyond the page so
// that Next is "" exactly when nothing more matches.
func (s *Store) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	fail := func(err error) (meta.Page, error) {
		return meta.Page{}, fmt.Errorf("bolt: query %q: %w", pk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	limit, err := meta.ValidateQuery(pk, o)
	if err != nil {
		return fail(err)
	}

	// Every matching key starts with base.
	base := append(partitionPrefix(pk), o.Prefix...)
	var after []byte
	if o.After != "" {
		after = itemKey(pk, o.After)
	}

	var page meta.Page
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketName).Cursor()
		var k, v []byte
		step := c.Next
		if !o.Reverse {
			start := base
			if after != nil && bytes.Compare(after, start) > 0 {
				start = after
			}
			k, v = c.Seek(start)
			if after != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		} else {
			step = c.Prev
			// end is exclusive: the first key past the prefix range, or
			// After if that comes sooner.
			end := prefixEnd(base)
			if after != nil && (end == nil || bytes.Compare(after, end) < 0) {
				end = after
			}
			if end == nil {
				k, v = c.Last()
			} else if k, _ = c.Seek(end); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, base); k, v = step() {
			if len(page.Items) == limit {
				page.Next = page.Items[limit-1].SK
				break
			}
			it, err := decodeItem(pk, string(k[len(pk)+1:]), v)
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			page.Items = append(page.Items, it)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return page, nil
}
