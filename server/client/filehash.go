package client

import (
	"context"
	"crypto/sha256"
	"hash"
	"sync"
)

// fileHasher computes a file's SHA-256 from the bytes the senders of its
// parts read, in whatever order they read them, so that the file is read
// once for both: sending and hashing.
//
// The bytes at the hashed end of the file go straight into the digest. A
// part that is read ahead of its turn is held in memory until its turn
// comes, within a budget; a sender that would go beyond the budget waits
// for the digest to catch up (the sender of the part whose turn it is never
// waits, so the upload always moves). Bytes read again, by a part sent
// again, are not hashed twice: what the digest has passed is skipped.
type fileHasher struct {
	partSize int64
	budget   int64

	mu    sync.Mutex
	h     hash.Hash
	next  int64            // bytes hashed so far
	ahead map[int64]*spool // by part index
	held  int64            // bytes held in ahead
	moved chan struct{}    // closed (and replaced) when memory is freed
	spare [][]byte         // buffers of finished spools, for the next ones
}

// spool is the bytes of one part read ahead of their turn: those at
// start.. of the file.
type spool struct {
	start int64
	data  []byte
}

// readAheadBudget bounds the memory of the parts read ahead of their turn.
const readAheadBudget = 64 << 20

func newFileHasher(partSize, budget int64) *fileHasher {
	return &fileHasher{partSize: partSize, budget: budget, h: sha256.New(), ahead: map[int64]*spool{}, moved: make(chan struct{})}
}

// write takes bytes p, read at off. It waits (until ctx ends) only when p
// runs ahead and the budget is used up.
func (fh *fileHasher) write(ctx context.Context, off int64, p []byte) error {
	end := off + int64(len(p))
	for {
		fh.mu.Lock()
		if end <= fh.next {
			fh.mu.Unlock()
			return nil // hashed already
		}
		if off <= fh.next {
			fh.h.Write(p[fh.next-off:])
			fh.next = end
			fh.catchUp()
			fh.mu.Unlock()
			return nil
		}
		k := off / fh.partSize
		sp := fh.ahead[k]
		if sp == nil {
			sp = &spool{start: off, data: fh.buffer()}
			fh.ahead[k] = sp
		}
		have := sp.start + int64(len(sp.data))
		if off > have || off < sp.start {
			// Not where the part's bytes left off: start again here.
			fh.held -= int64(len(sp.data))
			sp.start, sp.data, have = off, sp.data[:0], off
			fh.wake()
		}
		if end <= have {
			fh.mu.Unlock()
			return nil // held already
		}
		add := p[have-off:]
		if fh.held+int64(len(add)) <= fh.budget {
			sp.data = append(sp.data, add...)
			fh.held += int64(len(add))
			fh.mu.Unlock()
			return nil
		}
		moved := fh.moved
		fh.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// catchUp hashes the held bytes whose turn has come, and wakes the senders
// waiting for memory if it frees some. Only then: the digest moving within
// the part whose turn it is, chunk by chunk, frees nothing, and waking the
// waiters for each chunk would only cost CPU. fh.mu is held.
func (fh *fileHasher) catchUp() {
	freed := false
	defer func() {
		if freed {
			fh.wake()
		}
	}()
	for {
		k := fh.next / fh.partSize
		sp := fh.ahead[k]
		if sp == nil || sp.start > fh.next {
			break
		}
		if end := sp.start + int64(len(sp.data)); end > fh.next {
			fh.h.Write(sp.data[fh.next-sp.start:])
			fh.next = end
		}
		fh.held -= int64(len(sp.data))
		fh.spare = append(fh.spare, sp.data[:0])
		delete(fh.ahead, k)
		freed = true
	}
}

// wake wakes the senders waiting for memory. fh.mu is held.
func (fh *fileHasher) wake() {
	close(fh.moved)
	fh.moved = make(chan struct{})
}

// buffer returns an empty buffer for a spool: a spare one, or a new one
// that can hold a whole part (within the budget), so that spools neither
// grow by copying nor leave garbage behind. fh.mu is held.
func (fh *fileHasher) buffer() []byte {
	if n := len(fh.spare); n > 0 {
		b := fh.spare[n-1]
		fh.spare = fh.spare[:n-1]
		return b
	}
	return make([]byte, 0, min(fh.partSize, fh.budget))
}

// sum returns the digest once all size bytes have been written, or false.
func (fh *fileHasher) sum(size int64) ([]byte, bool) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	if fh.next != size {
		return nil, false
	}
	return fh.h.Sum(nil), true
}
