package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
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
// whole part or the part's turn comes. So no sender ever waits for memory
// in the middle of a request body, where a server's body timeout would cut
// it short, and the part whose turn it is never waits for memory (the
// upload always moves). Bytes read again, by a part sent again, are not
// hashed twice: what the digest has passed is skipped.
//
// The hashing itself is done outside mu, by one sender at a time (busy):
// the one whose bytes are at the hashed end, or the one that moved the
// hashed end onto a held part, which then hashes what is held while that
// part's sender goes on adding to it. Under mu, a sender only copies its
// bytes or claims them, so the senders ahead of their turn never wait
// behind a digest (hashed under mu, four senders spent more time waiting
// for it than sending); the one whose turn has just come may wait for the
// bytes before its own to be hashed, at most a part.
//
// The same bytes, as they go into the digest, go into the CRC-32C of the
// part they belong to: the server checks its parts against those at
// Complete, so that the parts it holds are the bytes this digest is of.
type fileHasher struct {
	partSize int64
	budget   *spool.Budget
	// waiting, if set, is called when admit is about to wait (tests).
	waiting func(part int64)

	// The digest, owned by the sender that set busy; hashed counts its
	// bytes.
	h      hash.Hash
	crc    uint32   // of the part hashed now, so far
	crcs   []uint32 // of the parts hashed, in order
	hashed int64

	mu    sync.Mutex
	idle  *sync.Cond      // on mu: busy went false
	busy  bool            // a sender is hashing, outside mu
	next  int64           // bytes hashed or being hashed (claimed by the busy sender)
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

// errOutOfOrder: bytes of a part held ahead of its turn came neither after
// those it holds nor over them (a bug of the caller: a part is read from
// its start, and again from its start).
var errOutOfOrder = errors.New("client: a part's bytes read out of order")

func newFileHasher(partSize, budget int64) *fileHasher {
	fh := &fileHasher{partSize: partSize, budget: spool.New(max(budget, partSize)), h: sha256.New(),
		ahead: map[int64]*held{}, moved: make(chan struct{})}
	fh.idle = sync.NewCond(&fh.mu)
	return fh
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
// waits for memory: the part's was reserved when it was admitted. Bytes
// at the hashed end may wait for the hashing of the bytes before them to
// finish, which waits for nothing.
func (fh *fileHasher) write(off int64, p []byte) error {
	end := off + int64(len(p))
	fh.mu.Lock()
	defer fh.mu.Unlock()
	if end <= fh.next {
		return nil // hashed already
	}
	if hp := fh.ahead[off/fh.partSize]; hp != nil {
		// Not yet its turn, or its turn came and the busy sender is
		// hashing what it holds: drain hashes every part held at the
		// hashed end before it lets go of busy.
		return fh.hold(hp, off, p)
	}
	if off > fh.next {
		return errNotAdmitted
	}
	for fh.busy {
		// The bytes before these are being hashed by the sender that
		// handed this part its turn; it is done with them once it lets go.
		fh.idle.Wait()
		if end <= fh.next {
			return nil
		}
	}
	fh.busy = true
	from := fh.next
	q := p[from-off:]
	fh.next = end
	fh.mu.Unlock()
	fh.feed(q)
	fh.mu.Lock()
	fh.drain(from)
	return nil
}

// hold keeps bytes p, read at off, of part hp, held ahead of its turn.
// Bytes it holds already (read again, by a part sent again) are skipped:
// they may be being hashed. fh.mu is held.
func (fh *fileHasher) hold(hp *held, off int64, p []byte) error {
	if hp.data == nil {
		// Memory only for a part admitted, and only once it holds bytes.
		hp.data = fh.budget.Buffer(hp.taken)
	}
	have := hp.start + int64(len(hp.data))
	if off > have || off < hp.start {
		return fmt.Errorf("%w: bytes at %d of a part held from %d to %d", errOutOfOrder, off, hp.start, have)
	}
	if end := off + int64(len(p)); end > have {
		hp.data = append(hp.data, p[have-off:]...)
	}
	return nil
}

// drain hashes, outside mu, the held bytes whose turn has come, until it
// catches up with what their senders have read: a part held whole is
// done, and its memory given back; one still being read is handed back to
// its sender, whose bytes from there on are at the hashed end. It then
// lets go of busy, and wakes the senders waiting to be admitted if the
// hashed end passed a part's start since from, where this sender's
// hashing began. Only then: the digest moving within a part, chunk by
// chunk, admits no one, and waking the waiters for each chunk would only
// cost CPU. fh.mu is held, and busy set by the caller.
func (fh *fileHasher) drain(from int64) {
	for {
		k := fh.next / fh.partSize
		hp := fh.ahead[k]
		if hp == nil {
			break
		}
		if end := hp.start + int64(len(hp.data)); end > fh.next {
			q := hp.data[fh.next-hp.start:]
			fh.next = end
			fh.mu.Unlock()
			fh.feed(q)
			fh.mu.Lock()
			if hp.start+int64(len(hp.data)) > fh.next {
				continue // its sender added more meanwhile
			}
		}
		// Caught up with what is held: the part is whole, or its sender
		// goes on from the hashed end.
		delete(fh.ahead, k)
		fh.budget.Give(hp.taken)
		fh.budget.Recycle(hp.data)
	}
	fh.busy = false
	fh.idle.Broadcast()
	if fh.next/fh.partSize > from/fh.partSize {
		close(fh.moved)
		fh.moved = make(chan struct{})
	}
}

// feed hashes p, the bytes at hashed on, into the digest and into the
// CRC-32C of the parts they fall in. Only the busy sender calls it,
// without fh.mu.
func (fh *fileHasher) feed(p []byte) {
	fh.h.Write(p)
	for len(p) > 0 {
		n := min(int64(len(p)), fh.partSize-fh.hashed%fh.partSize)
		fh.crc = crc32.Update(fh.crc, castagnoli(), p[:n])
		fh.hashed += n
		p = p[n:]
		if fh.hashed%fh.partSize == 0 {
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
	for fh.busy {
		fh.idle.Wait()
	}
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
