package backend

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/strata-storage/strata/backend/keys"
)

// keyHolds counts, per master key, the writes in flight that hold a data
// key wrapped under it: from the moment the wrapping is in hand (made by
// GenerateDataKey, or read from an upload session) until the write commits
// the record that stores it, or gives up. A key rotation retires an old
// master key only when a complete scan found nothing wrapped under it AND
// no such write was in flight meanwhile: a write that got its wrapping
// before the rotation may commit its record after the scan went past the
// place where that record lands. Counting here covers the writes of this
// process only, which is why retirement needs a store nobody else writes
// to (Config.Exclusive; the local keyring is locked to one process anyway).
type keyHolds struct {
	mu sync.Mutex
	// inFlight counts the holds of each key that have not ended.
	inFlight map[string]int
	// ended counts the holds of each key that ended, ever: a change
	// between the start and the end of a scan means a write under that key
	// may have committed behind the scan.
	ended map[string]int64
	// retired keys are refused to new holds: a wrapping under one can
	// only come from a GenerateDataKey that read the key service's state
	// before the key was retired, and must be made again.
	retired map[string]bool
	// changed is closed (and replaced) whenever a hold ends.
	changed chan struct{}
}

func newKeyHolds() *keyHolds {
	return &keyHolds{inFlight: map[string]int{}, ended: map[string]int64{}, retired: map[string]bool{}, changed: make(chan struct{})}
}

// keyHold is one write's hold on a key; release it exactly once (a nil hold
// is a no-op).
type keyHold struct {
	h     *keyHolds
	keyID string
	once  sync.Once
}

// acquire takes a hold on keyID, or reports that the key was retired.
func (h *keyHolds) acquire(keyID string) (*keyHold, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.retired[keyID] {
		return nil, false
	}
	h.inFlight[keyID]++
	return &keyHold{h: h, keyID: keyID}, true
}

// release ends the hold, whether the write committed or not.
func (k *keyHold) release() {
	if k == nil {
		return
	}
	k.once.Do(func() {
		h := k.h
		h.mu.Lock()
		defer h.mu.Unlock()
		h.inFlight[k.keyID]--
		if h.inFlight[k.keyID] == 0 {
			delete(h.inFlight, k.keyID)
		}
		h.ended[k.keyID]++
		close(h.changed)
		h.changed = make(chan struct{})
	})
}

// mark is what a scan starts from.
func (h *keyHolds) mark() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.ended)
}

// retire runs fn (which forgets keyID for good) if no write holds keyID now
// and none ended since mark was taken, atomically with taking new holds: a
// write that got its wrapping from the key service before fn ran is then
// refused its hold and makes its data key again. It reports whether fn ran.
func (h *keyHolds) retire(keyID string, mark map[string]int64, fn func() error) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.inFlight[keyID] > 0 || h.ended[keyID] != mark[keyID] {
		return false, nil
	}
	if err := fn(); err != nil {
		return false, err
	}
	h.retired[keyID] = true
	return true, nil
}

// inUse is the number of writes holding keyID now.
func (h *keyHolds) inUse(keyID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inFlight[keyID]
}

// drain waits until no write holds keyID (or ctx ends).
func (h *keyHolds) drain(ctx context.Context, keyID string) error {
	for {
		h.mu.Lock()
		n, changed := h.inFlight[keyID], h.changed
		h.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// newDataKey makes a data key for ec and holds its master key until the
// caller releases the hold (after the commit that stores the wrapping, or
// after giving up).
func (b *Backend) newDataKey(ctx context.Context, ec keys.Context) (keys.DataKey, *keyHold, error) {
	for attempt := 0; ; attempt++ {
		dk, err := b.keys.GenerateDataKey(ctx, ec)
		if err != nil {
			return keys.DataKey{}, nil, fmt.Errorf("generate data key: %w", err)
		}
		if hold, ok := b.holds.acquire(dk.KeyID); ok {
			return dk, hold, nil
		}
		clear(dk.Plaintext)
		if attempt == 2 {
			return keys.DataKey{}, nil, fmt.Errorf("generate data key: the key service keeps wrapping under the retired master key %s", dk.KeyID)
		}
	}
}
