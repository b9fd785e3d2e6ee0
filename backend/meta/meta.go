// Package meta defines the ordered key-value table that holds all of Strata's
// metadata, in the shape of DynamoDB's single-table design: items addressed by
// a partition key and a sort key, sorted by sort key within a partition.
//
// Implementations live in sub-packages (bolt/, and later dynamo/) and must all
// pass backendtest.RunMeta. The core's whole data model is written once on
// top of this interface.
package meta

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Errors returned by every Store; implementations wrap them, callers test with
// errors.Is.
var (
	// ErrNotFound: no item at (PK, SK).
	ErrNotFound = errors.New("meta: not found")
	// ErrConflict: a condition failed (the item exists, does not exist, or has
	// another version) — in a transaction, *TxError says which operation —
	// or the store could not get a transaction through concurrent ones
	// (such an error also wraps ErrUnavailable). Either way the caller
	// re-reads and retries.
	ErrConflict = errors.New("meta: condition failed")
	// ErrInvalid: a malformed key, an item too large, an empty or oversized
	// transaction, two operations on one item in a transaction, or a counter
	// that would overflow int64.
	ErrInvalid = errors.New("meta: invalid request")
	// ErrNoSpace: the store is full.
	ErrNoSpace = errors.New("meta: no space left")
	// ErrUnavailable: the engine is throttling or unreachable; the
	// operation may be retried. Drivers wrap it (alongside the engine's own
	// error) when a request still failed after the client's retries because
	// the engine refused it for load, or the network failed. A caller's own
	// cancellation or deadline is never ErrUnavailable. A write that fails
	// with it may or may not have been applied (see Store).
	ErrUnavailable = errors.New("meta: engine unavailable")
)

// Limits every implementation enforces, so that the core never relies on what
// only one engine allows.
const (
	MaxKeyLen    = 1024      // bytes, for PK and for SK
	MaxValueLen  = 350 << 10 // bytes; DynamoDB's item limit is 400 KB in all
	MaxTxOps     = 100       // operations in one Transact
	MaxTxBytes   = 3 << 20   // bytes of keys and values in one Transact (DynamoDB allows 4 MB with all attributes)
	MaxPageLimit = 1000      // items in one Query page
)

// Item is one row of the table.
type Item struct {
	PK string
	SK string
	// Value is opaque to the store (the core writes JSON).
	Value []byte
	// N is the item's counter, changed atomically by Add.
	N int64
	// Version is set by the store on every Put and Add of the item: a
	// positive value never given before to any item with this key — not even
	// to one that was deleted and created again, so that a condition on a
	// version read before a delete can never hold against the new item
	// (the ABA problem). Versions are opaque: callers compare them only for
	// equality, in IfVersion conditions. (A store that cannot remember
	// deleted items, like DynamoDB, draws a new item's first version at
	// random from 2^62 values: a repeat is then possible in principle and
	// negligible in practice.) It is ignored on input.
	Version int64
	// ExpiresAt, when not zero, lets the store delete the item at any time
	// after it (DynamoDB's TTL). Until then it is a normal item: readers that
	// care about expiry check it themselves. Stores keep it to the second.
	ExpiresAt time.Time
}

// CondKind says what must hold for a write to happen.
type CondKind int

const (
	// Always: no condition.
	Always CondKind = iota
	// IfAbsent: the item must not exist.
	IfAbsent
	// IfExists: the item must exist.
	IfExists
	// IfVersion: the item must exist with exactly Cond.Version.
	IfVersion
	// IfAtMost: the item's counter N, 0 when the item is missing, must be
	// at most Cond.Max. An Add under it makes a bound on a counter exact
	// under any concurrency without serialising the writers on one
	// version: Add(d) conditioned on IfAtMost(limit-d) never takes the
	// counter past limit.
	IfAtMost
)

// Cond is a write condition.
type Cond struct {
	Kind    CondKind
	Version int64
	Max     int64 // IfAtMost
}

// Convenience conditions.
var (
	NoCond   = Cond{Kind: Always}
	MustNew  = Cond{Kind: IfAbsent}
	MustLive = Cond{Kind: IfExists}
)

// AtVersion is the condition that the item exists with version v.
func AtVersion(v int64) Cond { return Cond{Kind: IfVersion, Version: v} }

// AtMost is the condition that the item's counter (0 when missing) is at
// most max.
func AtMost(max int64) Cond { return Cond{Kind: IfAtMost, Max: max} }

// OpKind is the kind of one transaction operation.
type OpKind int

const (
	// OpPut writes Item (replacing Value, N and ExpiresAt) if Cond holds.
	OpPut OpKind = iota + 1
	// OpDelete removes (PK, SK) if Cond holds; deleting a missing item with
	// no condition is not an error.
	OpDelete
	// OpAdd adds Delta to the counter of (PK, SK), creating the item with
	// N = Delta if it is missing (Cond permitting).
	OpAdd
	// OpCheck writes nothing; it only requires Cond to hold.
	OpCheck
)

// Op is one operation of a transaction.
type Op struct {
	Kind  OpKind
	Item  Item // Kind OpPut: the item to write
	PK    string
	SK    string // the key for OpDelete, OpAdd, OpCheck
	Delta int64  // OpAdd
	Cond  Cond
}

// Put, Delete, Add and Check build transaction operations.
func Put(it Item, c Cond) Op { return Op{Kind: OpPut, Item: it, PK: it.PK, SK: it.SK, Cond: c} }
func Delete(pk, sk string, c Cond) Op {
	return Op{Kind: OpDelete, PK: pk, SK: sk, Cond: c}
}
func Add(pk, sk string, delta int64, c Cond) Op {
	return Op{Kind: OpAdd, PK: pk, SK: sk, Delta: delta, Cond: c}
}
func Check(pk, sk string, c Cond) Op { return Op{Kind: OpCheck, PK: pk, SK: sk, Cond: c} }

// TxError says which operation of a transaction failed its condition. It
// wraps ErrConflict.
type TxError struct {
	Index int // index into the ops given to Transact
	Op    Op
}

func (e *TxError) Error() string {
	pk, sk := e.Op.key()
	return fmt.Sprintf("meta: transaction condition %d failed on (%q, %q)", e.Index, pk, sk)
}

// key is the item an operation is about: a put names it in its Item.
func (op Op) key() (pk, sk string) {
	if op.Kind == OpPut {
		return op.Item.PK, op.Item.SK
	}
	return op.PK, op.SK
}

func (e *TxError) Unwrap() error { return ErrConflict }

// QueryOpts select a page of a partition.
type QueryOpts struct {
	// Prefix restricts to sort keys that start with it.
	Prefix string
	// After, when not empty, starts strictly after this sort key (strictly
	// before it when Reverse).
	After string
	// Limit is the page size, 1..MaxPageLimit; 0 means MaxPageLimit.
	Limit int
	// Reverse walks sort keys in descending order.
	Reverse bool
}

// Page is one page of a Query.
type Page struct {
	Items []Item
	// Next is the sort key to pass as After for the next page, or "" when
	// this page is the last one.
	Next string
}

// Store is the sorted table. Every method is safe for concurrent use, and
// every read sees every write that returned before it started
// (read-after-write consistency). If ctx is done before a call, nothing
// happens and the error wraps ctx.Err(); a write cancelled in flight may or
// may not have been applied. Any method may fail with ErrUnavailable when
// the engine throttles or cannot be reached; a write that fails so may or
// may not have been applied, and the caller re-reads before it retries.
type Store interface {
	// Get returns the item at (pk, sk) or ErrNotFound.
	Get(ctx context.Context, pk, sk string) (Item, error)

	// Put writes it if c holds and returns the item's new version, or
	// ErrConflict.
	Put(ctx context.Context, it Item, c Cond) (version int64, err error)

	// Delete removes (pk, sk) if c holds (ErrConflict otherwise). Deleting a
	// missing item with NoCond is not an error.
	Delete(ctx context.Context, pk, sk string, c Cond) error

	// Add adds delta to the counter of (pk, sk), creating the item if it is
	// missing, and returns the counter's value after it (a store shared by
	// many servers may also count Adds that landed in between). Concurrent
	// Adds never lose an update, and an Add whose answer was lost and that a
	// client library retried is applied once.
	Add(ctx context.Context, pk, sk string, delta int64) (int64, error)

	// Query returns items of partition pk in sort key order, one page at a
	// time. A page may hold fewer than Limit items even when more follow;
	// only Next == "" means the end.
	Query(ctx context.Context, pk string, o QueryOpts) (Page, error)

	// Transact applies up to MaxTxOps operations on distinct items, all or
	// nothing. If any condition fails nothing is written and the error is a
	// *TxError (which wraps ErrConflict).
	Transact(ctx context.Context, ops []Op) error
}

// ValidateKey checks a partition or sort key: 1..MaxKeyLen bytes of valid
// UTF-8 without NUL. Drivers call it on every key they are given.
func ValidateKey(k string) error {
	if k == "" || len(k) > MaxKeyLen || !utf8.ValidString(k) {
		return fmt.Errorf("%w: key %q", ErrInvalid, truncate(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return fmt.Errorf("%w: key contains NUL", ErrInvalid)
		}
	}
	return nil
}

// ValidateOps checks a transaction before any driver work: size, keys, item
// sizes and that no item appears twice.
func ValidateOps(ops []Op) error {
	if len(ops) == 0 || len(ops) > MaxTxOps {
		return fmt.Errorf("%w: transaction of %d operations (1..%d)", ErrInvalid, len(ops), MaxTxOps)
	}
	seen := make(map[[2]string]bool, len(ops))
	total := 0
	for i, op := range ops {
		pk, sk := op.key()
		total += len(pk) + len(sk)
		if op.Kind == OpPut {
			if len(op.Item.Value) > MaxValueLen {
				return fmt.Errorf("%w: operation %d: value of %d bytes (max %d)", ErrInvalid, i, len(op.Item.Value), MaxValueLen)
			}
			total += len(op.Item.Value)
		}
		if op.Kind < OpPut || op.Kind > OpCheck {
			return fmt.Errorf("%w: operation %d: unknown kind %d", ErrInvalid, i, op.Kind)
		}
		if op.Cond.Kind < Always || op.Cond.Kind > IfAtMost {
			return fmt.Errorf("%w: operation %d: unknown condition %d", ErrInvalid, i, op.Cond.Kind)
		}
		if err := ValidateKey(pk); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
		if err := ValidateKey(sk); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
		k := [2]string{pk, sk}
		if seen[k] {
			return fmt.Errorf("%w: operation %d: item (%q, %q) appears twice", ErrInvalid, i, pk, sk)
		}
		seen[k] = true
	}
	if total > MaxTxBytes {
		return fmt.Errorf("%w: transaction of %d key and value bytes (max %d)", ErrInvalid, total, MaxTxBytes)
	}
	return nil
}

// ValidateItem checks an item for Put.
func ValidateItem(it Item) error {
	if err := ValidateKey(it.PK); err != nil {
		return err
	}
	if err := ValidateKey(it.SK); err != nil {
		return err
	}
	if len(it.Value) > MaxValueLen {
		return fmt.Errorf("%w: value of %d bytes (max %d)", ErrInvalid, len(it.Value), MaxValueLen)
	}
	return nil
}

// ValidateQuery checks a Query's partition and options and returns the page
// size. Prefix and After are sort keys or parts of one; holding them to the
// key rules keeps every driver's answer the same.
func ValidateQuery(pk string, o QueryOpts) (int, error) {
	if err := ValidateKey(pk); err != nil {
		return 0, err
	}
	limit, err := PageLimit(o.Limit)
	if err != nil {
		return 0, err
	}
	if o.Prefix != "" {
		if err := ValidateKey(o.Prefix); err != nil {
			return 0, fmt.Errorf("prefix: %w", err)
		}
	}
	if o.After != "" {
		if err := ValidateKey(o.After); err != nil {
			return 0, fmt.Errorf("after: %w", err)
		}
	}
	return limit, nil
}

// PageLimit turns a QueryOpts.Limit into the number of items to return.
func PageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return MaxPageLimit, nil
	case limit < 0 || limit > MaxPageLimit:
		return 0, fmt.Errorf("%w: page limit %d (1..%d)", ErrInvalid, limit, MaxPageLimit)
	}
	return limit, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Expirer is a Store that does not delete expired items on its own
// (DynamoDB does, by its TTL): the collector asks it to, now and then.
type Expirer interface {
	// DeleteExpired deletes the items whose ExpiresAt is before now and
	// says how many went. It may stop early when ctx ends; what it did is
	// kept.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
