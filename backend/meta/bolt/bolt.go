// Package bolt is the embedded meta.Store: one bbolt file, for a laptop or a
// single server. The whole table is one bucket whose keys are
// pk + "\x00" + sk, so a partition is one contiguous, sort-key-ordered run of
// keys that a cursor can seek into.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/strata-storage/strata/backend/meta"
)

// ErrLocked is returned (wrapped) by Open when another process, or another
// Open in this process, holds the database file.
var ErrLocked = errors.New("bolt: database is locked by another process")

// lockTimeout bounds how long Open waits for the file lock. A data dir has one
// owner; anyone else should learn that at once rather than hang.
const lockTimeout = 100 * time.Millisecond

// bucketName is the single bucket holding every item.
var bucketName = []byte("items")

// Store is a meta.Store kept in one bbolt file. It is safe for concurrent
// use; concurrent writers are grouped into shared transactions (one fsync).
type Store struct {
	db     *bbolt.DB
	writes *group
}

var _ meta.Store = (*Store)(nil)

// Open opens the database file at path, creating it (mode 0600) if needed.
// If the file is locked by another holder it fails within about lockTimeout
// with an error wrapping ErrLocked.
func Open(path string) (*Store, error) {
	opts := *bbolt.DefaultOptions
	opts.Timeout = lockTimeout
	db, err := bbolt.Open(path, 0o600, &opts)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("bolt: open %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, storageErr(err))
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketName); b != nil {
			if err := upgradeSequence(tx, b, db.MaxBatchSize); err != nil {
				return fmt.Errorf("version sequence: %w", err)
			}
			return nil
		}
		if _, err := tx.CreateBucket(bucketName); err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, storageErr(err))
	}
	return &Store{db: db, writes: &group{db: db, max: db.MaxBatchSize}}, nil
}

// upgradeSequence starts the version sequence of a file written before
// versions came from it, when each item counted its own from 1, above every
// version such a file can have given out; otherwise a Put could return the
// version an item already has, or had before it was deleted.
//
// An old version is at most the number of writes ever made to its item; a
// write transaction wrote each item at most once per write call it ran, and
// ran at most maxBatch calls, so tx.ID() (above the ID of every committed
// write transaction) times maxBatch is a bound. A sequence still at 0 in an
// existing bucket marks such a file (or one never written to since it was
// created, which loses nothing but a gap).
func upgradeSequence(tx *bbolt.Tx, b *bbolt.Bucket, maxBatch int) error {
	if b.Sequence() != 0 {
		return nil
	}
	id, per := uint64(tx.ID()), uint64(max(maxBatch, 1))
	if id > math.MaxInt64/per {
		return fmt.Errorf("transaction id %d too large to bound old versions", id)
	}
	return b.SetSequence(id * per)
}

// Close waits for running transactions and releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// Get returns the item at (pk, sk) or an error wrapping meta.ErrNotFound.
func (s *Store) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	fail := func(err error) (meta.Item, error) {
		return meta.Item{}, fmt.Errorf("bolt: get (%q, %q): %w", pk, sk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := validateKeys(pk, sk); err != nil {
		return fail(err)
	}
	key := itemKey(pk, sk)
	var it meta.Item
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketName).Get(key)
		if raw == nil {
			return nil
		}
		var err error
		it, err = decodeItem(pk, sk, raw)
		found = err == nil
		return err
	})
	if err != nil {
		return fail(storageErr(err))
	}
	if !found {
		return fail(meta.ErrNotFound)
	}
	return it, nil
}

// Put writes it if c holds and returns its new version.
func (s *Store) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("bolt: put (%q, %q): %w", it.PK, it.SK, err)
	}
	if err := meta.ValidateItem(it); err != nil {
		return fail(err)
	}
	if err := validateCond(c); err != nil {
		return fail(err)
	}
	key := itemKey(it.PK, it.SK)
	var version int64
	err := s.write(ctx, func(b *bbolt.Bucket) ([]mutation, error) {
		old, exists, err := loadHeader(b, key)
		if err != nil {
			return nil, err
		}
		if !holds(c, exists, old) {
			return nil, meta.ErrConflict
		}
		v, err := nextVersion(b)
		if err != nil {
			return nil, err
		}
		version = v
		return []mutation{{key: key, val: encodeItem(v, it.N, it.ExpiresAt, it.Value)}}, nil
	})
	if err != nil {
		return fail(err)
	}
	return version, nil
}

// Delete removes (pk, sk) if c holds; a missing item under NoCond is not an
// error.
func (s *Store) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	if err := validateKeys(pk, sk); err != nil {
		return fmt.Errorf("bolt: delete (%q, %q): %w", pk, sk, err)
	}
	if err := validateCond(c); err != nil {
		return fmt.Errorf("bolt: delete (%q, %q): %w", pk, sk, err)
	}
	key := itemKey(pk, sk)
	err := s.write(ctx, func(b *bbolt.Bucket) ([]mutation, error) {
		old, exists, err := loadHeader(b, key)
		if err != nil {
			return nil, err
		}
		if !holds(c, exists, old) {
			return nil, meta.ErrConflict
		}
		if !exists {
			return nil, nil
		}
		return []mutation{{key: key, del: true}}, nil
	})
	if err != nil {
		return fmt.Errorf("bolt: delete (%q, %q): %w", pk, sk, err)
	}
	return nil
}

// Add adds delta to the counter of (pk, sk), creating the item if missing,
// and returns the new counter value.
func (s *Store) Add(ctx context.Context, pk, sk string, delta int64) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("bolt: add (%q, %q): %w", pk, sk, err)
	}
	if err := validateKeys(pk, sk); err != nil {
		return fail(err)
	}
	key := itemKey(pk, sk)
	var n int64
	err := s.write(ctx, func(b *bbolt.Bucket) ([]mutation, error) {
		a, err := planAdd(b, key, delta, meta.NoCond)
		if err != nil {
			return nil, err
		}
		m, err := a.mutation(b)
		if err != nil {
			return nil, err
		}
		n = a.n
		return []mutation{m}, nil
	})
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// Transact applies ops all or nothing. A failed condition is returned as the
// *meta.TxError itself, unwrapped, so that callers who type-assert work as
// well as those who use errors.As.
func (s *Store) Transact(ctx context.Context, ops []meta.Op) error {
	if err := meta.ValidateOps(ops); err != nil {
		return fmt.Errorf("bolt: transact: %w", err)
	}
	keys := make([][]byte, len(ops))
	for i, op := range ops {
		if err := validateCond(op.Cond); err != nil {
			return fmt.Errorf("bolt: transact: operation %d: %w", i, err)
		}
		pk, sk := opKey(op)
		keys[i] = itemKey(pk, sk)
	}
	err := s.write(ctx, func(b *bbolt.Bucket) ([]mutation, error) {
		// Every condition is checked against the state before the
		// transaction; ops touch distinct items, so no op can see another's
		// write and checking all first is the same as checking in order.
		// Versions are taken only once every condition has held (see
		// write).
		adds := make([]addPlan, len(ops))
		live := make([]bool, len(ops))
		for i, op := range ops {
			if op.Kind == meta.OpAdd {
				a, err := planAdd(b, keys[i], op.Delta, op.Cond)
				if errors.Is(err, meta.ErrConflict) {
					return nil, &meta.TxError{Index: i, Op: op}
				}
				if err != nil {
					return nil, fmt.Errorf("operation %d: %w", i, err)
				}
				adds[i] = a
				continue
			}
			old, exists, err := loadHeader(b, keys[i])
			if err != nil {
				return nil, fmt.Errorf("operation %d: %w", i, err)
			}
			if !holds(op.Cond, exists, old) {
				return nil, &meta.TxError{Index: i, Op: op}
			}
			live[i] = exists
		}
		muts := make([]mutation, 0, len(ops))
		for i, op := range ops {
			switch op.Kind {
			case meta.OpPut:
				v, err := nextVersion(b)
				if err != nil {
					return nil, fmt.Errorf("operation %d: %w", i, err)
				}
				it := op.Item
				muts = append(muts, mutation{key: keys[i], val: encodeItem(v, it.N, it.ExpiresAt, it.Value)})
			case meta.OpAdd:
				m, err := adds[i].mutation(b)
				if err != nil {
					return nil, fmt.Errorf("operation %d: %w", i, err)
				}
				muts = append(muts, m)
			case meta.OpDelete:
				if live[i] {
					muts = append(muts, mutation{key: keys[i], del: true})
				}
			case meta.OpCheck:
				// Its condition held; that was all it asked.
			}
		}
		return muts, nil
	})
	if err != nil {
		var txErr *meta.TxError
		if errors.As(err, &txErr) {
			return txErr
		}
		return fmt.Errorf("bolt: transact: %w", err)
	}
	return nil
}

// addPlan is an Add whose condition held: the new counter, and the Value and
// ExpiresAt it keeps.
type addPlan struct {
	key       []byte
	n         int64
	expiresAt time.Time
	value     []byte // may point into bbolt's mmap
}

// planAdd works out the Add of delta to the counter at key, if c holds. It
// only reads.
func planAdd(b *bbolt.Bucket, key []byte, delta int64, c meta.Cond) (addPlan, error) {
	raw := b.Get(key)
	old, err := decodeHeader(raw)
	if err != nil {
		return addPlan{}, err
	}
	exists := raw != nil
	if !holds(c, exists, old) {
		return addPlan{}, meta.ErrConflict
	}
	n := old.n + delta
	// DynamoDB's numbers would not wrap; neither may ours.
	if (delta > 0 && n < old.n) || (delta < 0 && n > old.n) {
		return addPlan{}, fmt.Errorf("%w: counter overflow (%d + %d)", meta.ErrInvalid, old.n, delta)
	}
	a := addPlan{key: key, n: n, expiresAt: old.expiresAt}
	if exists {
		a.value = raw[headerLen:]
	}
	return a, nil
}

// mutation takes the Add's new version and builds its write. encodeItem
// copies the value out of the mmap before anything is written.
func (a addPlan) mutation(b *bbolt.Bucket) (mutation, error) {
	v, err := nextVersion(b)
	if err != nil {
		return mutation{}, err
	}
	return mutation{key: a.key, val: encodeItem(v, a.n, a.expiresAt, a.value)}, nil
}

// nextVersion is the version of a write about to be made in b's transaction:
// the next value of the bucket's sequence, which is stored in the file and
// committed (or rolled back) with the write itself.
//
// A per-item counter, as versions once were, is not enough: it is kept in the
// item, so deleting the item forgets it and the item created again starts
// over at 1, where a writer that read version 1 of the old item would find
// its IfVersion(1) holding against the new one (ABA). One sequence for the
// whole store never goes back, whatever is deleted and however often the
// file is reopened; it costs nothing more, living in the bucket header that
// every write transaction rewrites anyway. A transaction that the group
// commit (group.go) rolls back and runs again takes its numbers again; that is safe because no
// caller sees a version before its transaction commits (see write). Gaps
// are fine: versions are compared only for equality.
func nextVersion(b *bbolt.Bucket) (int64, error) {
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	if seq > math.MaxInt64 {
		return 0, fmt.Errorf("%w: version sequence exhausted", meta.ErrNoSpace)
	}
	return int64(seq), nil
}

// mutation is one planned write: a put of val, or a delete.
type mutation struct {
	key []byte
	val []byte
	del bool
}

// write runs plan in a read-write transaction shared with concurrent
// writers (group.go) and applies the mutations it returns.
//
// The group shares one commit (one fsync) among concurrent writers, but a
// function that returns an error rolls back the whole transaction and is then
// retried alone. A failed condition is an ordinary answer, not a reason to
// make every other writer redo its work, so plan runs read-only and its
// error is handed back to the caller while the transaction function itself
// succeeds having written nothing. The one write plan makes itself is taking
// versions (nextVersion), and it does so only once every check has passed
// and it is bound to return its mutations. The group may run the function
// several times; plan must therefore only set caller variables that are
// overwritten on each run, and the caller reads them only after the group
// reports success, i.e. from the run that committed.
func (s *Store) write(ctx context.Context, plan func(*bbolt.Bucket) ([]mutation, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var outcome error
	err := s.writes.update(func(tx *bbolt.Tx) error {
		outcome = nil
		// The group may have waited; a caller that gave up meanwhile must
		// not have its write applied behind its back.
		if err := ctx.Err(); err != nil {
			outcome = err
			return nil
		}
		b := tx.Bucket(bucketName)
		muts, err := plan(b)
		if err != nil {
			outcome = err
			return nil
		}
		for _, m := range muts {
			if m.del {
				err = b.Delete(m.key)
			} else {
				err = b.Put(m.key, m.val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return storageErr(err)
	}
	return outcome
}

// holds reports whether condition c is met by an item that exists (or not)
// with the given header (zero when it does not exist).
func holds(c meta.Cond, exists bool, h header) bool {
	switch c.Kind {
	case meta.IfAbsent:
		return !exists
	case meta.IfExists:
		return exists
	case meta.IfVersion:
		return exists && h.version == c.Version
	case meta.IfAtMost:
		return h.n <= c.Max
	}
	return true
}

func validateCond(c meta.Cond) error {
	if c.Kind < meta.Always || c.Kind > meta.IfAtMost {
		return fmt.Errorf("%w: unknown condition kind %d", meta.ErrInvalid, c.Kind)
	}
	return nil
}

func validateKeys(pk, sk string) error {
	if err := meta.ValidateKey(pk); err != nil {
		return err
	}
	return meta.ValidateKey(sk)
}

// opKey is the item an operation addresses; for OpPut that is the item
// itself, as in meta.ValidateOps.
func opKey(op meta.Op) (pk, sk string) {
	if op.Kind == meta.OpPut {
		return op.Item.PK, op.Item.SK
	}
	return op.PK, op.SK
}

// storageErr marks errors that mean the disk is full with meta.ErrNoSpace.
// bbolt formats some I/O errors with %s (file resize, file sync, mmap), which
// drops the errno, so the message is checked as well as the chain.
func storageErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, meta.ErrNoSpace) {
		return err
	}
	noSpace := errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, bolterrors.ErrMaxSizeReached)
	if !noSpace {
		msg := err.Error()
		noSpace = strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
	}
	if noSpace {
		return fmt.Errorf("%w: %w", meta.ErrNoSpace, err)
	}
	return err
}
