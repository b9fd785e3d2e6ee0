package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"hash/crc32"
	"sync"

	"github.com/strata-storage/strata/internal/spool"
)

// fileHasher computes a file's SHA-256 from the bytes the senders of its
// parts read, in whatever order they read them, so that the file is read
// once for both: sending and hashing.
//
// The bytes at the hashed end of the file go straight into the digest. A
// part that runs ahead of its turn is held in memory until its turn comes,
// within a budget: its sender admits it (admit) before the part's request
// starts, waiting there, if it must, until the budget has room for the
// whole part or the part's turn comes. So no sender ever waits in the
// middle of a request body, where a server's body timeout would cut it
// short, and the part whose turn it is never waits at all (the upload
// always moves). Bytes read again, by a part sent again, are not hashed
// twice: what the digest has passed is skipped.
//
// The same bytes, as they go into the digest, go into the CRC-32C of the
// part they belong to: the server checks its parts against those at
// Complete, so that the parts it holds are the bytes this digest is of.
type fileHasher struct {
	partSize int64
	budget   *spool.Budget
	// waiting, if set, is called when admit is about to wait (tests).
	waiting func(part int64)

	mu    sync.Mutex
	h     hash.Hash
	crc   uint32          // of the part hashed now, so far
	crcs  []uint32        // of the parts hashed, in order
	next  int64           // bytes hashed so far
	ahead map[int64]*held // admitted parts ahead of their turn, by index
	moved chan struct{}   // closed (and replaced) when next passes a part's start
}

// held is a part admitted ahead of its turn: its reservation, and its
// bytes from start on (none until its sender reads some).
type held struct {
	start int64
	taken int64
	data  []byte
}

// readAheadBudget bounds the memory of the parts read ahead of their turn
// (raised to one part when parts are larger, so that one may always run
// ahead: the memory is then that of one part).
const readAheadBudget = 64 << 20

// errNotAdmitted: bytes of a part ahead of its turn came without the part
// being admitted first (a bug of the caller).
var errNotAdmitted = errors.New("client: part read ahead of its turn without being admitted")

func newFileHasher(partSize, budget int64) *fileHasher {
	return &fileHasher{partSize: partSize, budget: spool.New(max(budget, partSize)), h: sha256.New(),
		ahead: map[int64]*held{}, moved: make(chan struct{})}
}

// admit readies part k, of size bytes, to be read: at once when its turn
// has come (or it was admitted already), else once the budget takes its
// whole size, or its turn comes meanwhile. It waits until ctx ends at
// most; call it before the part's request starts.
func (fh *fileHasher) admit(ctx context.Context, k, size int64) error {
	start := k * fh.partSize
	for {
		freed := fh.budget.Freed()
		fh.mu.Lock()
		_, admitted := fh.ahead[k]
		switch {
		case start <= fh.next || admitted:
			fh.mu.Unlock()
			return nil
		case fh.budget.TryTake(size):
			fh.ahead[k] = &held{start: start, taken: size}
			fh.mu.Unlock()
			return nil
		}
		moved := fh.moved
		fh.mu.Unlock()
		if fh.waiting != nil {
			fh.waiting(k)
		}
		select {
		case <-moved:
		case <-freed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// write takes bytes p, read at off, of a part admitted before. It never
// waits: the part's memory was reserved when it was admitted.
func (fh *fileHasher) write(off int64, p []byte) error {
	end := off + int64(len(p))
	fh.mu.Lock()
	defer fh.mu.Unlock()
	if end <= fh.next {
		return nil // hashed already
	}
	if off <= fh.next {
		before := fh.next / fh.partSize
		fh.feed(p[fh.next-off:])
		fh.catchUp(fh.next/fh.partSize != before)
		return nil
	}
	hp := fh.ahead[off/fh.partSize]
	if hp == nil {
		return errNotAdmitted
	}
	if hp.data == nil {
		// Memory only for a part admitted, and only once it holds bytes.
		hp.data = fh.budget.Buffer(hp.taken)
	}
	have := hp.start + int64(len(hp.data))
	if off > have || off < hp.start {
		// Not where the part's bytes left off: start again here.
		hp.start, hp.data, have = off, hp.data[:0], off
	}
	if end > have {
		hp.data = append(hp.data, p[have-off:]...)
	}
	return nil
}

// catchUp hashes the held bytes whose turn has come, gives their memory
// back, and wakes the senders waiting to be admitted if a part's turn may
// have come (passed, true when the digest passed a part's start). Only
// then: the digest moving within a part, chunk by chunk, admits no one,
// and waking the waiters for each chunk would only cost CPU. fh.mu is held.
func (fh *fileHasher) catchUp(passed bool) {
	for {
		k := fh.next / fh.partSize
		hp := fh.ahead[k]
		if hp == nil || hp.start > fh.next {
			break
		}
		if end := hp.start + int64(len(hp.data)); end > fh.next {
			fh.feed(hp.data[fh.next-hp.start:])
		}
		delete(fh.ahead, k)
		fh.budget.Give(hp.taken)
		fh.budget.Recycle(hp.data)
		passed = true
	}
	if passed {
		close(fh.moved)
		fh.moved = make(chan struct{})
	}
}

// feed hashes p, the bytes at next on, into the digest and into the
// CRC-32C of the parts they fall in. fh.mu is held.
func (fh *fileHasher) feed(p []byte) {
	fh.h.Write(p)
	for len(p) > 0 {
		n := min(int64(len(p)), fh.partSize-fh.next%fh.partSize)
		fh.crc = crc32.Update(fh.crc, castagnoli(), p[:n])
		fh.next += n
		p = p[n:]
		if fh.next%fh.partSize == 0 {
			fh.crcs = append(fh.crcs, fh.crc)
			fh.crc = 0
		}
	}
}

// sum returns the digest, and the CRC-32C of every part (8 hex digits),
// once all size bytes have been written, or false.
func (fh *fileHasher) sum(size int64) ([]byte, []string, bool) {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	if fh.next != size {
		return nil, nil, false
	}
	crcs := make([]string, 0, len(fh.crcs)+1)
	for _, c := range fh.crcs {
		crcs = append(crcs, hexCRC(c))
	}
	if size%fh.partSize != 0 {
		crcs = append(crcs, hexCRC(fh.crc)) // the last part, shorter
	}
	return fh.h.Sum(nil), crcs, true
}
