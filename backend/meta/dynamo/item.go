package dynamo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/strata-storage/strata/backend/meta"
)

// expr collects the attribute names and values that one request's
// expressions use. DynamoDB refuses names or values that no expression uses,
// and empty maps, so only what is used is ever sent. Every attribute goes by
// a placeholder name because "ttl" is one of DynamoDB's reserved words.
type expr struct {
	names  map[string]string
	values map[string]types.AttributeValue
}

// name returns the placeholder of attribute attr.
func (e *expr) name(attr string) string {
	if e.names == nil {
		e.names = make(map[string]string)
	}
	e.names["#"+attr] = attr
	return "#" + attr
}

// value returns the placeholder :key, bound to v.
func (e *expr) value(key string, v types.AttributeValue) string {
	if e.values == nil {
		e.values = make(map[string]types.AttributeValue)
	}
	e.values[":"+key] = v
	return ":" + key
}

// cond returns the condition expression of c, or "" for no condition.
func (e *expr) cond(c meta.Cond) string {
	switch c.Kind {
	case meta.IfAbsent:
		return "attribute_not_exists(" + e.name(attrPK) + ")"
	case meta.IfExists:
		return "attribute_exists(" + e.name(attrPK) + ")"
	case meta.IfVersion:
		return e.name(attrVersion) + " = " + e.value("ver", num(c.Version))
	case meta.IfAtMost:
		// Every stored item has a counter (Put writes it, 0 included), so a
		// missing counter is a missing item, which counts as 0.
		n := e.name(attrN)
		atMost := n + " <= " + e.value("max", num(c.Max))
		if c.Max < 0 {
			return atMost
		}
		return "attribute_not_exists(" + n + ") OR " + atMost
	}
	return ""
}

// putUpdate returns the update expression that replaces an item's value,
// counter and expiry with those of it, sets its write token to token (see
// Store.Put) and moves its version on (see setVersion), so that a write and
// its version change are one atomic step.
func (e *expr) putUpdate(it meta.Item, base int64, token string) string {
	set := []string{
		e.name(attrN) + " = " + e.value("n", num(it.N)),
		e.name(attrWrite) + " = " + e.value("w", str(token)),
	}
	var remove []string
	// An empty value is stored as no attribute: it reads back the same and
	// needs no support for empty binary values.
	if len(it.Value) > 0 {
		set = append(set, e.name(attrValue)+" = "+e.value("v", &types.AttributeValueMemberB{Value: it.Value}))
	} else {
		remove = append(remove, e.name(attrValue))
	}
	if !it.ExpiresAt.IsZero() {
		set = append(set, e.name(attrTTL)+" = "+e.value("ttl", num(it.ExpiresAt.Unix())))
	} else {
		remove = append(remove, e.name(attrTTL))
	}
	set = append(set, e.setVersion(base))
	u := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		u += " REMOVE " + strings.Join(remove, ", ")
	}
	return u
}

// addUpdate returns the update expression that adds delta to the counter
// (creating it at 0 when missing) and moves the version on; value and expiry
// stay as they are.
func (e *expr) addUpdate(delta, base int64) string {
	return "SET " + e.setVersion(base) + " ADD " + e.name(attrN) + " " + e.value("d", num(delta))
}

// setVersion returns the SET action that gives the item its next version:
// one more than its current one, or base + 1 when the item is new.
//
// meta promises that a key never gets a version twice, not even across a
// delete and re-create, so that a condition on a version read before the
// delete cannot hold against the new item. DynamoDB forgets everything about
// a deleted item, and a table-wide sequence would cost every write a request
// to one hot item, so each new item starts its run of versions at a random
// base below 2^62 (see newBase). Within one life of an item versions then
// count up and never repeat; two lives of one key share a version only if
// their runs overlap, which for runs of k writes has a chance of about
// 2k/2^62.
func (e *expr) setVersion(base int64) string {
	ver := e.name(attrVersion)
	return ver + " = if_not_exists(" + ver + ", " + e.value("base", num(base)) + ") + " + e.value("one", num(1))
}

// newBase draws the version base of an item that a write may create.
func newBase() int64 { return rand.Int64N(maxBase) }

// newToken draws a Put's write token: 64 random bits, in hex.
func newToken() string { return strconv.FormatUint(rand.Uint64(), 16) }

// maxBase bounds version bases, leaving 2^62 writes of an item before its
// version could overflow.
const maxBase = 1 << 62

// overflowGuard returns the condition that adding delta keeps the counter
// within int64, or "" when no delta can overflow. DynamoDB's numbers have 38
// digits and would not wrap, but a counter beyond int64 could never be read
// back; bolt refuses the same Add.
func (e *expr) overflowGuard(delta int64) string {
	var op string
	var limit int64
	switch {
	case delta > 0:
		op, limit = "<=", math.MaxInt64-delta
	case delta < 0:
		op, limit = ">=", math.MinInt64-delta
	default:
		return ""
	}
	n := e.name(attrN)
	return "attribute_not_exists(" + n + ") OR " + n + " " + op + " " + e.value("limit", num(limit))
}

// andGuard joins a condition and an overflow guard (either may be empty).
// DynamoDB refuses redundant parentheses, so the guard, a disjunction, is
// parenthesised only when it follows another condition.
func andGuard(cond, guard string) string {
	switch {
	case guard == "":
		return cond
	case cond == "":
		return guard
	case strings.Contains(cond, " OR "):
		cond = "(" + cond + ")"
	}
	return cond + " AND (" + guard + ")"
}

// namesOrNil and valuesOrNil return nil for nothing used, as DynamoDB wants.
func (e *expr) namesOrNil() map[string]string {
	if len(e.names) == 0 {
		return nil
	}
	return e.names
}

func (e *expr) valuesOrNil() map[string]types.AttributeValue {
	if len(e.values) == 0 {
		return nil
	}
	return e.values
}

// optional returns a pointer to s, or nil for "".
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// decodeItem turns a stored item into a meta.Item.
func decodeItem(av map[string]types.AttributeValue) (meta.Item, error) {
	var it meta.Item
	var err error
	if it.PK, err = stringAttr(av, attrPK); err != nil {
		return meta.Item{}, err
	}
	if it.SK, err = stringAttr(av, attrSK); err != nil {
		return meta.Item{}, err
	}
	fail := func(err error) (meta.Item, error) {
		return meta.Item{}, fmt.Errorf("item (%q, %q): %w", it.PK, it.SK, err)
	}
	switch v := av[attrValue].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		it.Value = v.Value
	default:
		return fail(fmt.Errorf("attribute %s is %T, want binary", attrValue, v))
	}
	if it.N, _, err = numberAttr(av, attrN); err != nil {
		return fail(err)
	}
	if it.Version, _, err = numberAttr(av, attrVersion); err != nil {
		return fail(err)
	}
	ttl, ok, err := numberAttr(av, attrTTL)
	if err != nil {
		return fail(err)
	}
	if ok {
		it.ExpiresAt = time.Unix(ttl, 0)
	}
	return it, nil
}

func stringAttr(av map[string]types.AttributeValue, name string) (string, error) {
	v, ok := av[name].(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("item without string attribute %s", name)
	}
	return v.Value, nil
}

// numberAttr returns the integer in attribute name, and whether it is there.
func numberAttr(av map[string]types.AttributeValue, name string) (int64, bool, error) {
	switch v := av[name].(type) {
	case nil:
		return 0, false, nil
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("attribute %s: %w", name, err)
		}
		return n, true, nil
	default:
		return 0, false, fmt.Errorf("attribute %s is %T, want a number", name, v)
	}
}
