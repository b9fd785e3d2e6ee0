package bolt

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/meta"
)

// TestDeleteExpired: items whose expiry has passed go, others stay, across
// more keys than one scan chunk.
func TestDeleteExpired(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	const n = sweepChunk + 904 // more than one chunk
	wantGone := 0
	for i := 0; i < n; i += meta.MaxTxOps {
		var ops []meta.Op
		for j := i; j < min(n, i+meta.MaxTxOps); j++ {
			it := meta.Item{PK: fmt.Sprintf("p%d", j%7), SK: fmt.Sprintf("s%05d", j), Value: []byte("v")}
			switch j % 3 {
			case 0:
				it.ExpiresAt = past
				wantGone++
			case 1:
				it.ExpiresAt = future
			}
			ops = append(ops, meta.Op{Kind: meta.OpPut, Item: it})
		}
		if err := s.Transact(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DeleteExpired(ctx, now)
	if err != nil || got != wantGone {
		t.Fatalf("DeleteExpired = %d, %v; want %d", got, err, wantGone)
	}
	for j := range n {
		_, err := s.Get(ctx, fmt.Sprintf("p%d", j%7), fmt.Sprintf("s%05d", j))
		if gone := errors.Is(err, meta.ErrNotFound); gone != (j%3 == 0) {
			t.Fatalf("item %d: gone %v (err %v)", j, gone, err)
		}
	}
	if got, err := s.DeleteExpired(ctx, now); got != 0 || err != nil {
		t.Fatalf("a second sweep: %d, %v", got, err)
	}
}
