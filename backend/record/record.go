// Package record is how the core keeps its records in a meta.Store: JSON
// values, random IDs, times as Unix nanoseconds, and the optimistic retry
// of a read-then-conditional-write. Each part of the core (the file tree,
// identity) lays out its own keys on top of it.
package record

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
)

// Encode is v as an item's value.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the core's own plain structs are encoded; failing here is a
		// bug.
		panic(fmt.Sprintf("record: encode %T: %v", v, err))
	}
	return b
}

// Decode reads an item's value as a T.
func Decode[T any](it meta.Item) (T, error) {
	var v T
	if err := json.Unmarshal(it.Value, &v); err != nil {
		return v, fmt.Errorf("record: corrupt item (%s, %s): %w", it.PK, it.SK, err)
	}
	return v, nil
}

// Get reads and decodes one item.
func Get[T any](ctx context.Context, m meta.Store, pk, sk string) (T, meta.Item, error) {
	it, err := m.Get(ctx, pk, sk)
	if err != nil {
		var zero T
		return zero, it, err
	}
	v, err := Decode[T](it)
	return v, it, err
}

// Item is the item at (pk, sk) holding v.
func Item(pk, sk string, v any) meta.Item {
	return meta.Item{PK: pk, SK: sk, Value: Encode(v)}
}

// IDAlphabet is the characters of an ID, each as likely in every position
// but the last: a key rotation walks the blob store's keys by prefix over it.
const IDAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

var idEncoding = base32.NewEncoding(IDAlphabet).WithPadding(base32.NoPadding)

// NewID returns 128 random bits as 26 lowercase base32 characters: safe as
// a blob key, a meta key and in URLs.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("record: crypto/rand: %v", err)) // never fails on Linux
	}
	return idEncoding.EncodeToString(b[:])
}

// IsNotFound reports a missing item.
func IsNotFound(err error) bool { return errors.Is(err, meta.ErrNotFound) }

// IsConflict reports a failed condition: a lost optimistic-concurrency
// race, worth a retry.
func IsConflict(err error) bool { return errors.Is(err, meta.ErrConflict) }

// Nanos stores a time; the zero time is stored as 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNanos reads a time Nanos stored.
func FromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Each calls fn for every item of partition pk whose sort key starts with
// prefix, a page at a time, until fn fails.
func Each(ctx context.Context, m meta.Store, pk, prefix string, fn func(meta.Item) error) error {
	after := ""
	for {
		pg, err := m.Query(ctx, pk, meta.QueryOpts{Prefix: prefix, After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// MaxRetries bounds the optimistic-concurrency retries of one operation.
const MaxRetries = 20

// Optimistic runs op until it commits without losing a race to another
// writer, backing off with jitter between attempts so that contenders
// spread out. A race lost MaxRetries times is errs.ErrConflict about what.
func Optimistic[T any](ctx context.Context, what string, op func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := op()
		if !IsConflict(err) {
			return v, err
		}
		if attempt == MaxRetries {
			return v, fmt.Errorf("%s: %w", what, errs.ErrConflict)
		}
		t := time.NewTimer(mrand.N(time.Millisecond << min(attempt, 6)))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}
