package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-storage/strata/backend/meta"
)

// Get returns the item at (pk, sk) or an error wrapping meta.ErrNotFound. The
// read is strongly consistent.
func (s *Store) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	fail := func(err error) (meta.Item, error) {
		return meta.Item{}, fmt.Errorf("dynamodb: get (%q, %q): %w", pk, sk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := validateKeys(pk, sk); err != nil {
		return fail(err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            itemKey(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fail(s.classify(ctx, err))
	}
	if len(out.Item) == 0 {
		return fail(meta.ErrNotFound)
	}
	it, err := decodeItem(out.Item)
	if err != nil {
		return fail(err)
	}
	return it, nil
}

// Put writes it if c holds and returns its new version. It is one UpdateItem
// that sets the value and moves the version on; under IfAbsent and IfVersion
// the new version is known in advance, otherwise DynamoDB returns it.
//
// A conditional Put is idempotent across the SDK's retries: when the answer
// to an applied write is lost (a dropped connection, a timeout) the SDK
// sends it again, and that attempt fails its condition on the write's own
// result. So under IfAbsent and IfVersion the request asks for the item as
// it was when a condition fails (ReturnValuesOnConditionCheckFailure
// ALL_OLD), and a failure on an item that holds exactly what this Put
// writes — its value, counter and expiry, the version it set, and its write
// token w, random per Put, which no other write can have set — is the
// success it is. Puts without a condition need nothing: sent twice, the
// second one wins with the same content.
func (s *Store) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("dynamodb: put (%q, %q): %w", it.PK, it.SK, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := meta.ValidateItem(it); err != nil {
		return fail(err)
	}
	if err := validateCond(c); err != nil {
		return fail(err)
	}
	var e expr
	base, token := newBase(), newToken()
	in := &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              itemKey(it.PK, it.SK),
		UpdateExpression: aws.String(e.putUpdate(it, base, token)),
	}
	in.ConditionExpression = optional(e.cond(c))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
	var version int64
	known := true
	switch c.Kind {
	case meta.IfAbsent:
		version = base + 1
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	case meta.IfVersion:
		version = c.Version + 1
		in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	default:
		known = false
		// UPDATED_NEW echoes the value too, which is why the cases above,
		// the core's usual ones, do without.
		in.ReturnValues = types.ReturnValueUpdatedNew
	}
	var out *dynamodb.UpdateItemOutput
	err := s.retryConflicts(ctx, func() (bool, error) {
		var err error
		out, err = s.client.UpdateItem(ctx, in)
		return isTxConflict(err), err
	})
	if err != nil && known && ownWrite(err, it, version, token) {
		// The SDK sent this write again after its answer was lost, and the
		// first one had applied: the condition then fails on the write's
		// own result.
		err = nil
	}
	if err != nil {
		return fail(s.classify(ctx, err))
	}
	if !known {
		v, ok, err := numberAttr(out.Attributes, attrVersion)
		if err != nil || !ok {
			return fail(fmt.Errorf("UpdateItem returned no version (%v)", err))
		}
		version = v
	}
	return version, nil
}

// Delete removes (pk, sk) if c holds; a missing item under NoCond (or
// IfAbsent) is not an error.
//
// A delete that needs the item there (IfExists, IfVersion) is a one-item
// transaction: a DeleteItem whose answer is lost and that the SDK retries
// would find the item gone and report a failed condition for a delete that
// happened, and the client request token of a transaction prevents that.
func (s *Store) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	fail := func(err error) error {
		return fmt.Errorf("dynamodb: delete (%q, %q): %w", pk, sk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := validateKeys(pk, sk); err != nil {
		return fail(err)
	}
	if err := validateCond(c); err != nil {
		return fail(err)
	}
	if c.Kind == meta.IfExists || c.Kind == meta.IfVersion {
		err := s.Transact(ctx, []meta.Op{meta.Delete(pk, sk, c)})
		var txErr *meta.TxError
		switch {
		case errors.As(err, &txErr):
			return fail(meta.ErrConflict)
		case err != nil:
			return fail(err)
		}
		return nil
	}
	var e expr
	in := &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table),
		Key:       itemKey(pk, sk),
	}
	in.ConditionExpression = optional(e.cond(c))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
	err := s.retryConflicts(ctx, func() (bool, error) {
		_, err := s.client.DeleteItem(ctx, in)
		return isTxConflict(err), err
	})
	if err != nil {
		return fail(s.classify(ctx, err))
	}
	return nil
}

// Add adds delta to the counter of (pk, sk), creating the item if missing,
// and returns the counter read right after. DynamoDB's ADD is atomic, so
// concurrent Adds lose nothing. A delta that would take the counter beyond
// int64 is refused with meta.ErrInvalid and changes nothing.
//
// It is a one-item transaction rather than an UpdateItem: an UpdateItem
// whose answer is lost on the way back and that the SDK retries is applied
// twice, while a transaction carries a client request token that makes
// DynamoDB apply it once. TransactWriteItems returns no values, so the
// counter is read back with a strongly consistent GetItem, which also
// counts any Add that landed in between. The price is that Adds racing on
// one item can be refused as conflicting transactions, which Transact
// retries with backoff; the core keeps its counters inside its own
// transactions, so no standalone counter of it is that hot.
func (s *Store) Add(ctx context.Context, pk, sk string, delta int64) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("dynamodb: add (%q, %q): %w", pk, sk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := validateKeys(pk, sk); err != nil {
		return fail(err)
	}
	if err := s.Transact(ctx, []meta.Op{meta.Add(pk, sk, delta, meta.NoCond)}); err != nil {
		var txErr *meta.TxError
		if errors.As(err, &txErr) {
			// NoCond cannot fail: only the overflow guard can, and Transact
			// reports that as meta.ErrInvalid.
			return fail(fmt.Errorf("unexpected condition failure: %w", err))
		}
		return fail(err)
	}
	it, err := s.Get(ctx, pk, sk)
	if errors.Is(err, meta.ErrNotFound) {
		return 0, nil // deleted right after: a missing counter reads as 0
	}
	if err != nil {
		return fail(err)
	}
	return it.N, nil
}

// Query returns a page of partition pk: one strongly consistent Query, with
// begins_with(sk, Prefix) as key condition and After as the exclusive start
// key. Next is the last sort key returned whenever DynamoDB says more may
// follow, so a full last page can be followed by an empty one, as the
// contract allows.
func (s *Store) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	fail := func(err error) (meta.Page, error) {
		return meta.Page{}, fmt.Errorf("dynamodb: query %q: %w", pk, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	limit, err := meta.ValidateQuery(pk, o)
	if err != nil {
		return fail(err)
	}
	start, empty := startKey(o)
	if empty {
		return meta.Page{}, nil
	}

	var e expr
	cond := e.name(attrPK) + " = " + e.value("pk", str(pk))
	if o.Prefix != "" {
		cond += " AND begins_with(" + e.name(attrSK) + ", " + e.value("prefix", str(o.Prefix)) + ")"
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  e.namesOrNil(),
		ExpressionAttributeValues: e.valuesOrNil(),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(limit)),
		ScanIndexForward:          aws.Bool(!o.Reverse),
	}
	if start != "" {
		in.ExclusiveStartKey = itemKey(pk, start)
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return fail(s.classify(ctx, err))
	}
	var page meta.Page
	page.Items = make([]meta.Item, 0, len(out.Items))
	for _, av := range out.Items {
		it, err := decodeItem(av)
		if err != nil {
			return fail(err)
		}
		page.Items = append(page.Items, it)
	}
	if len(out.LastEvaluatedKey) > 0 {
		if n := len(page.Items); n > 0 {
			page.Next = page.Items[n-1].SK
		} else if page.Next, err = stringAttr(out.LastEvaluatedKey, attrSK); err != nil {
			return fail(fmt.Errorf("LastEvaluatedKey: %w", err))
		}
	}
	if len(page.Items) == 0 {
		page.Items = nil
	}
	return page, nil
}

// startKey returns the sort key to give as ExclusiveStartKey ("" for none),
// or empty when nothing can match. DynamoDB accepts a start key that is no
// item's, but refuses one outside the key condition ("The provided starting
// key is outside query boundaries"), so an After that lies outside the
// prefix's range is resolved here: on the near side it is dropped, on the far
// side the answer is known to be empty. (moto accepts both; AWS does not.)
func startKey(o meta.QueryOpts) (start string, empty bool) {
	if o.After == "" || o.Prefix == "" {
		return o.After, false
	}
	if strings.HasPrefix(o.After, o.Prefix) {
		// Walking down from the prefix itself, the smallest key it allows,
		// finds nothing; DynamoDB has been seen to refuse a start key on
		// the far boundary of a key condition, so that is not asked.
		return o.After, o.Reverse && o.After == o.Prefix
	}
	// After is outside the prefix's range, which is contiguous: every key
	// with the prefix sorts after After when After < Prefix, and before it
	// otherwise.
	before := o.After < o.Prefix
	if before != o.Reverse {
		return "", false
	}
	return "", true
}

// Transact applies ops all or nothing with one TransactWriteItems. Puts and
// Adds are Updates (moving the version on), Deletes are Deletes and Checks are
// ConditionChecks; a Check without a condition asks nothing and is left out.
//
// A failed condition is returned as the *meta.TxError itself, unwrapped, so
// that callers who type-assert work as well as those who use errors.As.
//
// DynamoDB cancels a transaction that meets another one in progress on one
// of its items (reason TransactionConflict), or that is throttled item by
// item (ThrottlingError, ProvisionedThroughputExceeded). Nothing was written,
// and the SDK's retryer does not retry it: to the retryer it is a
// TransactionCanceledException, which also reports failed conditions. Such
// cancellations are retried here a few times with jittered exponential
// backoff, each attempt with a fresh idempotency token, because the other
// transaction is usually done within milliseconds. If they persist the error
// wraps meta.ErrConflict (and is no *meta.TxError): the core's optimistic
// loop then re-reads and tries again later, which is what a lost race needs.
func (s *Store) Transact(ctx context.Context, ops []meta.Op) error {
	fail := func(err error) error { return fmt.Errorf("dynamodb: transact: %w", err) }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := meta.ValidateOps(ops); err != nil {
		return fail(err)
	}
	for i, op := range ops {
		if err := validateCond(op.Cond); err != nil {
			return fail(fmt.Errorf("operation %d: %w", i, err))
		}
	}
	items, index := s.transactItems(ops)
	if len(items) == 0 {
		return nil // only checks without conditions
	}
	err := s.retryConflicts(ctx, func() (bool, error) {
		// A fresh input per attempt: the SDK fills in the idempotency token
		// on the input, and a cancelled attempt's token is not reused.
		_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if err == nil || !errors.As(err, &tce) {
			return false, err
		}
		// Retry only a cancellation whose every reason is transient.
		transient, other := false, false
		for i, r := range tce.CancellationReasons {
			switch code := aws.ToString(r.Code); code {
			case "ConditionalCheckFailed":
				if i >= len(index) {
					return false, fmt.Errorf("condition failed at item %d of %d: %w", i, len(index), err)
				}
				op := ops[index[i]]
				// The overflow guard can fail only on an existing item, which
				// ALL_OLD then returns; if the op's own condition held on it,
				// the guard is what failed.
				if op.Kind == meta.OpAdd && len(r.Item) > 0 && holds(op.Cond, r.Item) {
					return false, fmt.Errorf("%w: operation %d: counter overflow (adding %d)", meta.ErrInvalid, index[i], op.Delta)
				}
				return false, &meta.TxError{Index: index[i], Op: op}
			case "", "None":
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				transient = true
			default:
				other = true
			}
		}
		return transient && !other, err
	})
	var txErr *meta.TxError
	if errors.As(err, &txErr) {
		return txErr
	}
	if err != nil {
		return fail(s.classify(ctx, err))
	}
	return nil
}

// transactItems translates ops and returns, for each item, the index of its
// op.
func (s *Store) transactItems(ops []meta.Op) ([]types.TransactWriteItem, []int) {
	items := make([]types.TransactWriteItem, 0, len(ops))
	index := make([]int, 0, len(ops))
	table := aws.String(s.table)
	for i, op := range ops {
		var e expr
		var item types.TransactWriteItem
		switch op.Kind {
		case meta.OpPut:
			u := &types.Update{Key: itemKey(op.Item.PK, op.Item.SK), TableName: table}
			u.UpdateExpression = aws.String(e.putUpdate(op.Item, newBase(), newToken()))
			u.ConditionExpression = optional(e.cond(op.Cond))
			u.ExpressionAttributeNames, u.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
			item.Update = u
		case meta.OpAdd:
			u := &types.Update{Key: itemKey(op.PK, op.SK), TableName: table}
			u.UpdateExpression = aws.String(e.addUpdate(op.Delta, newBase()))
			guard := e.overflowGuard(op.Delta)
			u.ConditionExpression = optional(andGuard(e.cond(op.Cond), guard))
			if guard != "" {
				// To tell an overflow from a failed condition.
				u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
			}
			u.ExpressionAttributeNames, u.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
			item.Update = u
		case meta.OpDelete:
			d := &types.Delete{Key: itemKey(op.PK, op.SK), TableName: table}
			d.ConditionExpression = optional(e.cond(op.Cond))
			d.ExpressionAttributeNames, d.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
			item.Delete = d
		case meta.OpCheck:
			if op.Cond.Kind == meta.Always {
				continue
			}
			c := &types.ConditionCheck{Key: itemKey(op.PK, op.SK), TableName: table}
			c.ConditionExpression = aws.String(e.cond(op.Cond))
			c.ExpressionAttributeNames, c.ExpressionAttributeValues = e.namesOrNil(), e.valuesOrNil()
			item.ConditionCheck = c
		}
		items = append(items, item)
		index = append(index, i)
	}
	return items, index
}

// ownWrite reports whether err is a failed condition on an item that holds
// exactly what the Put of it at version, with write token token, wrote: the
// Put applied, and err is the answer to the SDK sending it again.
func ownWrite(err error, it meta.Item, version int64, token string) bool {
	var condErr *types.ConditionalCheckFailedException
	if !errors.As(err, &condErr) || len(condErr.Item) == 0 {
		return false
	}
	w, ok := condErr.Item[attrWrite].(*types.AttributeValueMemberS)
	if !ok || w.Value != token {
		return false
	}
	got, derr := decodeItem(condErr.Item)
	if derr != nil {
		return false
	}
	var wantExp, gotExp int64
	if !it.ExpiresAt.IsZero() {
		wantExp = it.ExpiresAt.Unix()
	}
	if !got.ExpiresAt.IsZero() {
		gotExp = got.ExpiresAt.Unix()
	}
	return got.Version == version && got.N == it.N && bytes.Equal(got.Value, it.Value) && gotExp == wantExp
}

// holds reports whether c is met by the item old (nil when missing), as
// returned by ReturnValuesOnConditionCheckFailure.
func holds(c meta.Cond, old map[string]types.AttributeValue) bool {
	exists := len(old) > 0
	switch c.Kind {
	case meta.IfAbsent:
		return !exists
	case meta.IfExists:
		return exists
	case meta.IfVersion:
		v, ok, err := numberAttr(old, attrVersion)
		return exists && ok && err == nil && v == c.Version
	case meta.IfAtMost:
		n, _, err := numberAttr(old, attrN)
		return err == nil && n <= c.Max
	}
	return true
}

// retryConflicts runs write until it succeeds, fails for another reason than
// a conflicting transaction, or has been refused for conflicts
// s.conflictAttempts times; write reports whether its error is such a
// conflict. Conflicts clear within milliseconds, so the backoff starts short
// and is jittered so that contenders spread out.
func (s *Store) retryConflicts(ctx context.Context, write func() (conflict bool, err error)) error {
	backoff := s.conflictBackoff
	for attempt := 1; ; attempt++ {
		conflict, err := write()
		if !conflict || err == nil {
			return err
		}
		if attempt >= s.conflictAttempts {
			// Both: the caller's optimistic loop re-reads and retries
			// (ErrConflict), and one that gives up may tell its own caller
			// to come back later (ErrUnavailable).
			return fmt.Errorf("%w (%w): refused for conflicting transactions %d times: %w", meta.ErrConflict, meta.ErrUnavailable, attempt, err)
		}
		t := time.NewTimer(rand.N(backoff) + 1)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxConflictBackoff)
	}
}

// isTxConflict reports whether a single-item write was refused because a
// transaction in progress holds the item.
func isTxConflict(err error) bool {
	var tc *types.TransactionConflictException
	return errors.As(err, &tc)
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
