package backend

import (
	"fmt"

	"github.com/strata-storage/strata/backend/meta"
)

// txn collects the operations of one transaction. meta.Store forbids two
// operations on one item (as DynamoDB does), yet the core sometimes reaches
// one item twice in one change: restoring a version that is also the oldest
// one being dropped, or dropping two versions that share a blob. txn merges
// those pairs where the result is well defined, and refuses the rest.
type txn struct {
	ops []meta.Op
	at  map[[2]string]int
}

func (t *txn) add(ops ...meta.Op) error {
	if t.at == nil {
		t.at = make(map[[2]string]int)
	}
	for _, op := range ops {
		k := [2]string{op.PK, op.SK}
		i, seen := t.at[k]
		if !seen {
			t.at[k] = len(t.ops)
			t.ops = append(t.ops, op)
			continue
		}
		merged, err := mergeOps(t.ops[i], op)
		if err != nil {
			return err
		}
		t.ops[i] = merged
	}
	return nil
}

func mergeOps(a, b meta.Op) (meta.Op, error) {
	switch {
	case a.Kind == meta.OpAdd && b.Kind == meta.OpAdd && sameOrLive(a.Cond, b.Cond):
		a.Delta += b.Delta
		if b.Cond.Kind == meta.IfExists {
			a.Cond = b.Cond
		}
		return a, nil
	case a.Kind == meta.OpCheck && implies(b.Cond, a.Cond):
		return b, nil
	case b.Kind == meta.OpCheck && implies(a.Cond, b.Cond):
		return a, nil
	}
	return meta.Op{}, fmt.Errorf("backend: cannot combine two operations on (%s, %s) in one transaction", a.PK, a.SK)
}

func sameOrLive(a, b meta.Cond) bool {
	ok := func(c meta.Cond) bool { return c.Kind == meta.Always || c.Kind == meta.IfExists }
	return ok(a) && ok(b)
}

// implies reports whether a write conditioned on w also enforces check c.
func implies(w, c meta.Cond) bool {
	switch c.Kind {
	case meta.Always:
		return true
	case meta.IfExists:
		return w.Kind == meta.IfExists || w.Kind == meta.IfVersion
	case meta.IfVersion:
		return w.Kind == meta.IfVersion && w.Version == c.Version
	case meta.IfAbsent:
		return w.Kind == meta.IfAbsent
	}
	return false
}
