package spool

import "testing"

// Taking beyond the budget fails until memory is given back, which closes
// the Freed taken before; buffers are reused, and spares are kept only
// within the budget.
func TestBudget(t *testing.T) {
	b := New(100)
	if !b.TryTake(60) || b.TryTake(50) || b.Left() != 40 {
		t.Fatalf("take: %d left", b.Left())
	}
	freed := b.Freed()
	b.Give(60)
	select {
	case <-freed:
	default:
		t.Fatal("Give did not close Freed")
	}
	buf := b.Buffer(60)
	b.Recycle(append(buf, 1, 2, 3))
	if again := b.Buffer(50); cap(again) != cap(buf) || len(again) != 0 {
		t.Errorf("not reused: cap %d len %d", cap(again), len(again))
	}
	b.Recycle(make([]byte, 0, 60))
	b.Recycle(make([]byte, 0, 60)) // 120 > 100: dropped
	if n := len(b.spare); n != 1 {
		t.Errorf("%d spares kept", n)
	}
}
