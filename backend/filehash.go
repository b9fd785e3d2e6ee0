package backend

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// The SHA-256 of a file uploaded in parts.
//
// Parts arrive in parallel and in any order, yet the file's digest is over
// its bytes in order. Reading the whole file back at Complete to hash it
// would cost a second pass over every byte — on S3 a second download of the
// whole object. Instead the digest is carried forward as parts arrive: the
// part that is next in line is hashed while it streams in; a part that
// arrives early is kept in memory (within a budget) until its turn comes.
// The state after each step is saved with the session (a marshalled SHA-256
// is about a hundred bytes), so a Complete on any server, or after a
// restart, continues from it, and reads back only the parts the chain did
// not reach. The chain also records the blob store's tag of every part it
// hashed: a part sent again after it was hashed changes its tag, and the
// chain is then not trusted beyond it.

// hashRec is the item at (upload#<id>, hash).
type hashRec struct {
	Next  int    `json:"n"` // first part not hashed yet (1-based)
	State []byte `json:"s"` // marshalled SHA-256 after parts 1..Next-1
	Chain string `json:"c"` // tag chain of parts 1..Next-1 (see chainTag)
}

const skHash = "hash"

// chainTag extends the tag chain by one part's tag.
func chainTag(chain, tag string) string {
	h := sha256.Sum256([]byte(chain + "\x00" + tag))
	return hex.EncodeToString(h[:])
}

func marshalHash(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("backend: sha256 state: %v", err)) // crypto/sha256 always can
	}
	return b
}

func unmarshalHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if len(state) == 0 {
		return h, nil
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("backend: saved sha256 state: %w", err)
	}
	return h, nil
}

// seqHasher is one session's digest in progress on this server.
type seqHasher struct {
	mu     sync.Mutex
	next   int
	h      hash.Hash
	chain  string
	ver    int64 // of the hash item
	inline bool  // the part numbered next is being hashed as it streams
	// active are the parts streaming in now; pending the parts stored
	// ahead of their turn, with their bytes.
	active  map[int]*partHashing
	pending map[int]spooled
	// moved is closed (and replaced) whenever next changes, to wake parts
	// waiting for spool memory whose turn may have come.
	moved chan struct{}
	// touched is when a part last came through here; a session idle for
	// longer than idleHasher is forgotten (its spools freed).
	touched time.Time
}

// idleHasher is how long a session's digest in progress stays in memory
// without a part arriving here (its parts may have gone to other servers,
// or its client may be gone).
const idleHasher = 5 * time.Minute

type spooled struct {
	data  []byte
	tag   string
	taken int64 // spool budget held
}

// partHashing is one PutPart's share of the digest: its bytes go to a
// spool while it is ahead of its turn, and straight into the digest once
// its turn comes — at the start, or midway when the parts before it finish
// while it streams (it is then promoted: what it spooled is hashed and the
// rest goes straight in). So the part whose turn it is never waits, and
// memory holds only the parts that truly run ahead.
type partHashing struct {
	b     *Backend
	id    string
	n     int
	sh    *seqHasher
	mu    sync.Mutex
	h     hash.Hash // inline: the digest state being advanced
	spool []byte    // spooling: the bytes so far
	taken int64     // spool budget held
}

// Write takes the part's plaintext as it streams.
func (ph *partHashing) Write(p []byte) (int, error) {
	ph.mu.Lock()
	defer ph.mu.Unlock()
	switch {
	case ph.h != nil:
		ph.h.Write(p)
	case ph.spool != nil:
		ph.spool = append(ph.spool, p...)
	}
	return len(p), nil
}

// hasher returns this server's digest in progress for a session, loading
// it from the session's hash item the first time.
func (b *Backend) hasher(ctx context.Context, id string) (*seqHasher, error) {
	now := b.now()
	b.hashMu.Lock()
	sh, ok := b.hashers[id]
	var idle []string
	for other, osh := range b.hashers {
		if other != id && now.Sub(osh.lastTouch()) > idleHasher {
			idle = append(idle, other)
		}
	}
	b.hashMu.Unlock()
	for _, other := range idle {
		b.dropHasher(other)
	}
	if ok {
		return sh, nil
	}
	rec, it, err := record.Get[hashRec](ctx, b.meta, uploadPK(id), skHash)
	if record.IsNotFound(err) {
		rec, it.Version = hashRec{Next: 1}, 0
	} else if err != nil {
		return nil, err
	}
	h, err := unmarshalHash(rec.State)
	if err != nil {
		return nil, err
	}
	sh = &seqHasher{next: rec.Next, h: h, chain: rec.Chain, ver: it.Version,
		active: map[int]*partHashing{}, pending: map[int]spooled{}, moved: make(chan struct{}), touched: now}
	b.hashMu.Lock()
	defer b.hashMu.Unlock()
	if prev, ok := b.hashers[id]; ok {
		return prev, nil
	}
	b.hashers[id] = sh
	return sh, nil
}

func (sh *seqHasher) lastTouch() time.Time {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.touched
}

// refresh catches up with what other servers saved: parts of one session
// may go to any server, and this one's view of the digest goes stale as
// soon as another moves it on. Spools the saved state has passed are
// freed, and spools whose turn has come are hashed. sh.mu is held.
func (b *Backend) refresh(ctx context.Context, sh *seqHasher, id string) {
	rec, it, err := record.Get[hashRec](ctx, b.meta, uploadPK(id), skHash)
	if err != nil || it.Version == sh.ver || rec.Next <= sh.next {
		return
	}
	h, err := unmarshalHash(rec.State)
	if err != nil {
		return
	}
	sh.h, sh.next, sh.chain, sh.ver = h, rec.Next, rec.Chain, it.Version
	if b.advance(sh) {
		b.save(ctx, sh, id)
	}
	close(sh.moved)
	sh.moved = make(chan struct{})
}

// dropHasher forgets a session's digest in progress and frees its spools.
func (b *Backend) dropHasher(id string) {
	b.hashMu.Lock()
	sh, ok := b.hashers[id]
	delete(b.hashers, id)
	b.hashMu.Unlock()
	if !ok {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for n, sp := range sh.pending {
		b.spool.Give(sp.taken)
		b.spool.Recycle(sp.data)
		delete(sh.pending, n)
	}
}

// startPart decides how part n (of want bytes) joins the digest. It never
// fails: when nothing can be done the part is simply read back at Complete.
// A part ahead of its turn needs spool memory and waits for some (briefly);
// it stops waiting as soon as its turn comes, since it then needs none.
func (b *Backend) startPart(ctx context.Context, id string, n int, want int64) *partHashing {
	sh, err := b.hasher(ctx, id)
	if err != nil {
		b.log.Debug("part digest: no hasher", "upload", id, "err", err)
		return nil
	}
	ph := &partHashing{b: b, id: id, n: n, sh: sh}
	timer := time.NewTimer(spoolWait)
	defer timer.Stop()
	for first := true; ; first = false {
		sh.mu.Lock()
		sh.touched = b.now()
		if first || n > sh.next {
			b.refresh(ctx, sh, id)
		}
		_, dup := sh.active[n]
		switch {
		case dup || n < sh.next || (n == sh.next && sh.inline):
			// The same part twice at once, or again after the digest
			// passed it: this copy is read back if it is the one kept.
			sh.mu.Unlock()
			return nil
		case n == sh.next:
			ph.h = cloneHash(sh.h)
			sh.inline = true
			sh.active[n] = ph
			sh.mu.Unlock()
			return ph
		case want > b.spool.Total():
			// It could never be spooled: read back at Complete.
			sh.mu.Unlock()
			return nil
		case b.spool.TryTake(want):
			ph.taken = want
			ph.spool = b.spool.Buffer(want)
			sh.active[n] = ph
			sh.mu.Unlock()
			return ph
		}
		moved := sh.moved
		sh.mu.Unlock()
		// Wake when this server moves the digest, memory is freed, or
		// (polling) another server may have moved it.
		select {
		case <-moved:
		case <-b.spool.Freed():
		case <-time.After(500 * time.Millisecond):
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// spoolWait is how long a part that runs ahead waits for spool memory.
const spoolWait = 10 * time.Second

func cloneHash(h hash.Hash) hash.Hash {
	c, err := unmarshalHash(marshalHash(h))
	if err != nil {
		panic(err) // a state we marshalled ourselves always unmarshals
	}
	return c
}

// writer is where the part's plaintext must also go (nil: nowhere).
func (ph *partHashing) writer() io.Writer {
	if ph == nil {
		return nil
	}
	return ph
}

// finish records the outcome of the part: on success (the part is stored
// and recorded with tag) the digest moves forward as far as it can and is
// saved; on failure what was held is let go.
func (ph *partHashing) finish(ctx context.Context, ok bool, tag string) {
	if ph == nil {
		return
	}
	sh, b := ph.sh, ph.b
	sh.mu.Lock()
	delete(sh.active, ph.n)
	ph.mu.Lock()
	inline, spool, taken := ph.h, ph.spool, ph.taken
	ph.h, ph.spool, ph.taken = nil, nil, 0
	ph.mu.Unlock()
	sh.touched = b.now()
	if inline != nil {
		sh.inline = false
	}
	advanced := false
	switch {
	case ok && inline != nil && sh.next == ph.n:
		sh.h, sh.next, sh.chain = inline, ph.n+1, chainTag(sh.chain, tag)
		advanced = true
	case ok && spool != nil && ph.n >= sh.next:
		// Its turn may have come while it streamed: advance below then
		// takes it at once.
		if old, had := sh.pending[ph.n]; had {
			b.spool.Give(old.taken)
			b.spool.Recycle(old.data)
		}
		sh.pending[ph.n] = spooled{data: spool, tag: tag, taken: taken}
		spool, taken = nil, 0 // now held by pending
	}
	b.spool.Give(taken)
	b.spool.Recycle(spool)
	if b.advance(sh) {
		advanced = true
	}
	if !advanced {
		sh.mu.Unlock()
		return
	}
	close(sh.moved)
	sh.moved = make(chan struct{})
	ok = b.save(ctx, sh, ph.id)
	sh.mu.Unlock()
	if !ok {
		// Another server moved the digest on meanwhile (or the store
		// failed): start over from what is saved next time.
		b.dropHasher(ph.id)
	}
}

// save stores the digest state, conditioned on the version this server
// last saw; sh.mu is held. It reports whether it was saved.
func (b *Backend) save(ctx context.Context, sh *seqHasher, id string) bool {
	rec := hashRec{Next: sh.next, State: marshalHash(sh.h), Chain: sh.chain}
	cond := meta.AtVersion(sh.ver)
	if sh.ver == 0 {
		cond = meta.MustNew
	}
	v, err := b.meta.Put(ctx, record.Item(uploadPK(id), skHash, rec), cond)
	if err != nil {
		return false
	}
	sh.ver = v
	return true
}

// advance moves the digest through the parts whose turn has come: stored
// ones from their spools, and a streaming one by promoting it. It reports
// whether the digest moved. sh.mu is held.
func (b *Backend) advance(sh *seqHasher) bool {
	for n, sp := range sh.pending {
		if n < sh.next { // a part sent twice: the digest passed it
			b.spool.Give(sp.taken)
			b.spool.Recycle(sp.data)
			delete(sh.pending, n)
		}
	}
	moved := false
	for !sh.inline {
		if sp, ok := sh.pending[sh.next]; ok {
			sh.h.Write(sp.data)
			sh.chain = chainTag(sh.chain, sp.tag)
			delete(sh.pending, sh.next)
			b.spool.Give(sp.taken)
			b.spool.Recycle(sp.data)
			sh.next++
			moved = true
			continue
		}
		if ph, ok := sh.active[sh.next]; ok {
			ph.mu.Lock()
			if ph.spool != nil {
				h := cloneHash(sh.h)
				h.Write(ph.spool)
				ph.h = h
				b.spool.Give(ph.taken)
				b.spool.Recycle(ph.spool)
				ph.spool, ph.taken = nil, 0
				sh.inline = true
			}
			ph.mu.Unlock()
		}
		break
	}
	return moved
}

// fileDigest computes the SHA-256 of a session's file as stored: from the
// saved digest state, if its chain matches the parts being completed, then
// by reading back and decrypting only the parts it did not reach.
func (b *Backend) fileDigest(ctx context.Context, id string, s sessionRec, key []byte, parts []partTag) (string, error) {
	l := crypto.Layout{Size: s.Size, PartSize: s.PartSize}
	h, from := sha256.New(), 1
	rec, _, err := record.Get[hashRec](ctx, b.meta, uploadPK(id), skHash)
	switch {
	case err == nil && rec.Next >= 1 && rec.Next-1 <= len(parts):
		chain := ""
		for _, p := range parts[:rec.Next-1] {
			chain = chainTag(chain, p.tag)
		}
		if chain == rec.Chain {
			if saved, err := unmarshalHash(rec.State); err == nil {
				h, from = saved, rec.Next
			}
		}
	case err != nil && !record.IsNotFound(err):
		return "", err
	}
	if from <= l.Parts() {
		off := int64(from-1) * s.PartSize
		rc, err := crypto.Open(ctx, key, l, off, l.Size-off, func(ctx context.Context, o, n int64) (io.ReadCloser, error) {
			return b.blobs.Get(ctx, s.Blob, o, n)
		})
		if err != nil {
			return "", err
		}
		defer rc.Close()
		if err := pipeHash(h, rc); err != nil {
			return "", err
		}
	}
	b.log.Debug("upload digest", "upload", id, "hashedAsSent", from-1, "readBack", l.Parts()-from+1)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// partTag is a part being completed, with the blob store's tag.
type partTag struct {
	n   int
	tag string
}
