package s3blob

import (
	"container/list"
	"context"
	"sync"
)

// budget is a weighted semaphore over bytes of memory: Put takes from it
// every buffer it holds, so that all the Puts of a Store together never
// hold more than its MaxBufferBytes. Waiters are served in order, so a big
// request is not starved by a stream of small ones.
type budget struct {
	size int64

	mu      sync.Mutex
	used    int64
	peak    int64      // the most ever used at once, for tests
	waiters *list.List // of *budgetWaiter, oldest first
	queued  func()     // if set, called as a request starts to wait, for tests
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes are granted
}

func newBudget(size int64) *budget {
	return &budget{size: size, waiters: list.New()}
}

// clamp is what a request for n bytes takes: n, or the whole budget if n is
// more than that (so that a request bigger than the budget waits until it
// is alone, instead of waiting for ever).
func (b *budget) clamp(n int64) int64 { return min(n, b.size) }

// acquire takes n bytes (clamped), waiting until they are free or ctx is
// done. It returns what it took, to give back with release.
func (b *budget) acquire(ctx context.Context, n int64) (int64, error) {
	n = b.clamp(n)
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.take(n)
		b.mu.Unlock()
		return n, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	queued := b.queued
	b.mu.Unlock()
	if queued != nil {
		queued()
	}
	select {
	case <-w.ready:
		return n, nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted meanwhile: give it back.
			b.used -= n
		default:
			b.waiters.Remove(e)
		}
		b.grant()
		b.mu.Unlock()
		return 0, ctx.Err()
	}
}

// tryAcquire takes n bytes (clamped) if they are free now and nobody waits.
func (b *budget) tryAcquire(n int64) (int64, bool) {
	n = b.clamp(n)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.take(n)
		return n, true
	}
	return 0, false
}

// release gives back n bytes that acquire or tryAcquire returned.
func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.used < 0 {
		panic("s3blob: budget released more than it lent")
	}
	b.grant()
}

func (b *budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// grant wakes the waiters, in order, whose bytes are now free. b.mu is held.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.take(w.n)
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// maxUsed reports the most bytes ever held at once.
func (b *budget) maxUsed() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}
