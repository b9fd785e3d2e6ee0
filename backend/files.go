package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// PutOptions tune a Put.
type PutOptions struct {
	// Size is the exact number of bytes the reader yields, or -1 if unknown.
	Size int64
	// SHA256, when set, is the digest the content must have; a mismatch
	// commits nothing.
	SHA256 []byte
	// MTime is the file's modification time; zero means now. Outside
	// MinMTime..MaxMTime it is refused (errs.ErrInvalid).
	MTime time.Time
	// IfMatch, when set, is the SHA-256 (hex, the ETag) the current version
	// must have; IfNoneMatch requires that nothing exists at the path.
	IfMatch     string
	IfNoneMatch bool
}

// Put stores the content of r as a new version of the file at p, creating
// missing parent folders. The content is sealed and stored first, then the
// version is committed in one transaction: a failure at any point leaves the
// previous version current and nothing new visible.
func (b *Backend) Put(ctx context.Context, pr iam.Principal, p storepath.Path, r io.Reader, o PutOptions) (Entry, error) {
	t, err := b.authorize(ctx, pr, iam.PutFile, p)
	if err != nil {
		return Entry{}, err
	}
	e, err := b.put(ctx, pr, t.path, r, o)
	return t.show(e), t.fail(err)
}

func (b *Backend) put(ctx context.Context, pr iam.Principal, p storepath.Path, r io.Reader, o PutOptions) (Entry, error) {
	if p.IsRoot() {
		return Entry{}, fmt.Errorf("/: %w", errs.ErrIsDir)
	}
	if o.SHA256 != nil && len(o.SHA256) != sha256.Size {
		return Entry{}, fmt.Errorf("%w: SHA-256 digest must be %d bytes", errs.ErrInvalid, sha256.Size)
	}
	if !o.MTime.IsZero() {
		if err := CheckMTime(o.MTime); err != nil {
			return Entry{}, err
		}
	}
	if o.Size >= 0 {
		if err := (crypto.Layout{Size: o.Size, PartSize: b.partSize}).Validate(); err != nil {
			return Entry{}, fmt.Errorf("%w: a file of %d bytes cannot be stored: %w", errs.ErrInvalid, o.Size, err)
		}
	}
	// Fail early, before any byte is stored, on what would fail at commit.
	// A new file in a folder this server knows is not even read: its
	// commit's must-not-exist condition says whether it is new.
	hint, err := b.precheckCachedPut(ctx, p, o.IfMatch, o.IfNoneMatch, o.IfMatch == "")
	if err != nil {
		return Entry{}, err
	}
	if o.Size > 0 {
		err := b.fitsAt(ctx, p, hint, o.Size)
		if err != nil && hint != nil && hint.cached {
			// The limits are on the home folder's entry: the cached
			// one may be stale. Refuse only on what is there now.
			b.dirs.drop(p.Parent())
			if hint, err = b.precheckPut(ctx, p, o.IfMatch, o.IfNoneMatch); err == nil {
				err = b.fitsAt(ctx, p, hint, o.Size)
			}
		}
		if err != nil {
			return Entry{}, err
		}
	}

	blobID := record.NewID()
	dk, hold, err := b.newDataKey(ctx, blobContext(blobID))
	if err != nil {
		return Entry{}, err
	}
	defer hold.release()
	defer clear(dk.Plaintext)

	body := &countingReader{r: r, want: o.Size, h: sha256.New()}
	sealer, err := crypto.NewSealer(dk.Plaintext, b.partSize, body)
	if err != nil {
		return Entry{}, err
	}
	sealedSize := int64(-1)
	if o.Size >= 0 {
		sealedSize = crypto.Layout{Size: o.Size, PartSize: b.partSize}.SealedSize()
	}
	var inline []byte
	// Not an empty file: empty inline bytes would be dropped from the
	// record (omitempty) and read back as "in the blob store".
	if sealedSize > 0 && sealedSize <= b.inlineMax {
		// Kept in its record, committed with its version (no blob object
		// to discard if anything fails from here).
		inline, err = io.ReadAll(io.LimitReader(sealer, sealedSize+1))
		if body.err != nil {
			return Entry{}, body.err
		}
		if err != nil {
			return Entry{}, err
		}
	} else if err := b.blobs.Put(ctx, blobID, sealer, sealedSize); err != nil {
		if body.err != nil {
			return Entry{}, body.err
		}
		return Entry{}, errs.FromStore("store content", err)
	}
	discard := func() {
		if inline == nil {
			b.discardBlob(blobID)
		}
	}
	sum := body.h.Sum(nil)
	if body.err == nil && o.Size >= 0 && body.n != o.Size {
		body.err = fmt.Errorf("%w: got %d bytes, expected %d", errs.ErrLengthMismatch, body.n, o.Size)
	}
	if body.err == nil && o.SHA256 != nil && !bytes.Equal(sum, o.SHA256) {
		body.err = fmt.Errorf("%w: content has sha-256 %x, expected %x", errs.ErrDigestMismatch, sum, o.SHA256)
	}
	if body.err == nil && inline != nil && int64(len(inline)) != sealedSize {
		body.err = fmt.Errorf("crypto: sealed %d bytes, expected %d", len(inline), sealedSize)
	}
	if body.err != nil {
		discard()
		return Entry{}, body.err
	}

	nv := newVersion{
		blobID: blobID,
		blob: &blobRec{
			Size:     body.n,
			PartSize: b.partSize,
			Wrapped:  dk.Wrapped,
			KeyID:    dk.KeyID,
			Created:  record.Nanos(b.now()),
			Inline:   inline,
		},
		size:   body.n,
		sha256: hex.EncodeToString(sum),
		mtime:  o.MTime,
	}
	e, err := b.commitVersion(ctx, pr, p, nv, o.IfMatch, o.IfNoneMatch, hint)
	if err != nil {
		discard()
		return Entry{}, err
	}
	// A file is often read soon after it is written (a check, a preview).
	b.keyCache.put(blobID, dk.Plaintext)
	return e, nil
}

// fitsAt checks that size more bytes fit the quota of p's home folder
// (resolved: p as resolved, or nil).
func (b *Backend) fitsAt(ctx context.Context, p storepath.Path, resolved *loc, size int64) error {
	acct, err := b.accountOfPath(ctx, p, resolved)
	if err != nil {
		return err
	}
	return b.fits(ctx, acct, size)
}

// countingReader counts and hashes what passes through and enforces the
// announced size, so that a body longer or shorter than declared fails the
// store instead of being cut or padded.
type countingReader struct {
	r     io.Reader
	want  int64 // -1: unknown
	n     int64
	h     hash.Hash
	extra io.Writer // also fed every byte, if set
	err   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.want >= 0 && int64(len(p)) > c.want-c.n+1 {
		// Read at most one byte past the announced size: enough to notice
		// an overlong body without consuming more of it.
		p = p[:c.want-c.n+1]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.want >= 0 && c.n > c.want {
		c.err = fmt.Errorf("%w: body is longer than the %d bytes announced", errs.ErrLengthMismatch, c.want)
		return 0, c.err
	}
	c.h.Write(p[:n])
	if c.extra != nil {
		c.extra.Write(p[:n])
	}
	switch {
	case errors.Is(err, io.EOF) && c.want >= 0 && c.n < c.want:
		c.err = fmt.Errorf("%w: body ended after %d of %d bytes", errs.ErrLengthMismatch, c.n, c.want)
		return n, c.err
	case err != nil && !errors.Is(err, io.EOF):
		// The sender went away or the connection broke mid-body: for the
		// store it is a body that ended short.
		c.err = fmt.Errorf("%w: the body could not be read whole after %d bytes: %w", errs.ErrLengthMismatch, c.n, err)
		return n, c.err
	}
	return n, err
}

// discardBlob removes a blob that was stored but never committed. It runs on
// its own context: the request's may be what was cancelled. If it fails the
// collector removes the blob later.
func (b *Backend) discardBlob(blobID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.blobs.Delete(ctx, blobID); err != nil {
		b.log.Warn("discard uncommitted blob", "blob", blobID, "err", err)
	}
}

// precheckPut fails early, before any content is stored, on what would
// fail at commit. It returns the resolved path when its parent exists, for
// the commit to start from. It walks from the root: what it returns may be
// trusted without a transaction (an upload session reserves its size with
// the quota it reads).
func (b *Backend) precheckPut(ctx context.Context, p storepath.Path, ifMatch string, ifNoneMatch bool) (*loc, error) {
	l, err := b.lookup(ctx, p)
	if err == nil {
		if pl, ok := parentLoc(l); ok {
			b.dirs.put(pl)
		}
	}
	return b.prechecked(l, err, p, ifMatch, ifNoneMatch)
}

// precheckCachedPut is precheckPut for a Put, whose commit checks every
// folder it starts from: it may start from the cached parent folder, and
// with assume need not read p's entry (see lookupCached). A refusal
// that comes from cached folders is checked again without them.
func (b *Backend) precheckCachedPut(ctx context.Context, p storepath.Path, ifMatch string, ifNoneMatch, assume bool) (*loc, error) {
	l, ok, err := b.lookupCached(ctx, p, assume)
	if !ok {
		return b.precheckPut(ctx, p, ifMatch, ifNoneMatch)
	}
	if err == nil && b.precheckAt(l, p, ifMatch, ifNoneMatch) == nil {
		return &l, nil
	}
	b.dirs.drop(p.Parent())
	return b.precheckPut(ctx, p, ifMatch, ifNoneMatch)
}

func (b *Backend) prechecked(l loc, err error, p storepath.Path, ifMatch string, ifNoneMatch bool) (*loc, error) {
	if errors.Is(err, errs.ErrNotFound) {
		// A missing ancestor will be created; a file in the way will not.
		return nil, b.precondition(loc{}, ifMatch, ifNoneMatch)
	}
	if err != nil {
		return nil, err
	}
	return &l, b.precheckAt(l, p, ifMatch, ifNoneMatch)
}

func (b *Backend) precheckAt(l loc, p storepath.Path, ifMatch string, ifNoneMatch bool) error {
	if l.exists && l.rec.Kind == KindDir {
		return fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	return b.precondition(l, ifMatch, ifNoneMatch)
}

func (b *Backend) precondition(l loc, ifMatch string, ifNoneMatch bool) error {
	if ifNoneMatch && l.exists {
		return fmt.Errorf("%s: %w: it exists", l.path, errs.ErrPrecondition)
	}
	if ifMatch != "" && (!l.exists || l.rec.SHA256 != strings.ToLower(ifMatch)) {
		return fmt.Errorf("%w: the current version does not match %q", errs.ErrPrecondition, ifMatch)
	}
	return nil
}

// newVersion is a version about to be committed: either a freshly stored
// blob (blob != nil) or an existing one that gains a reference (from is the
// version item that references it, which must still exist at commit).
type newVersion struct {
	blobID string
	blob   *blobRec
	from   *meta.Item
	size   int64
	sha256 string
	word   digestWord // whose word sha256 is
	mtime  time.Time
	// extra operations to commit in the same transaction.
	extra []meta.Op
	// session, when set, is the upload session the version completes,
	// whose reservation the commit gives back.
	session *sessionRec
}

// commitVersion makes nv the current version of the file at p in one
// transaction, with optimistic retries: concurrent writers to one path each
// get their own version, in commit order. hint, if not nil, is p resolved
// moments ago: the first attempt trusts it (saving a walk of the path) and
// the transaction's conditions catch it if it went stale.
func (b *Backend) commitVersion(ctx context.Context, pr iam.Principal, p storepath.Path, nv newVersion, ifMatch string, ifNoneMatch bool, hint *loc) (Entry, error) {
	type result struct {
		e        Entry
		released []string
	}
	r, err := record.Optimistic(ctx, p.String(), func() (result, error) {
		for {
			e, released, err := b.commitVersionOnce(ctx, pr, p, nv, ifMatch, ifNoneMatch, hint)
			if err == nil || hint == nil || !hint.cached {
				hint = nil
				return result{e, released}, err
			}
			// A hint from the cache failed. If only the name was
			// taken after all, read it under the same folders and
			// commit as an overwrite; otherwise the folders may have
			// moved: forget them and walk from the root.
			if hint.assumed && nameTaken(err, *hint) {
				if l, rerr := b.readEntry(ctx, *hint); rerr == nil {
					hint = &l
					continue
				}
			}
			b.dirs.drop(p.Parent())
			hint = nil
		}
	})
	if err != nil {
		return Entry{}, err
	}
	for _, id := range r.released {
		b.releaseBlob(ctx, id)
	}
	return r.e, nil
}

// nameTaken reports whether err is a transaction that failed only because
// l's entry, taken to be absent, exists.
func nameTaken(err error, l loc) bool {
	var te *meta.TxError
	return errors.As(err, &te) && te.Op.Kind == meta.OpPut &&
		te.Op.Item.PK == dirPK(l.parentID) && te.Op.Item.SK == entrySK(l.path.Name())
}

func (b *Backend) commitVersionOnce(ctx context.Context, pr iam.Principal, p storepath.Path, nv newVersion, ifMatch string, ifNoneMatch bool, hint *loc) (Entry, []string, error) {
	var l loc
	if hint != nil {
		l = *hint
	} else {
		parent, err := b.ensureDir(ctx, p.Parent())
		if err != nil {
			return Entry{}, nil, err
		}
		b.dirs.put(parent)
		l = parent.below(p.Name(), p)
		rec, it, err := record.Get[entryRec](ctx, b.meta, dirPK(l.parentID), entrySK(p.Name()))
		switch {
		case err == nil:
			l.exists, l.rec, l.ver = true, rec, it.Version
		case !record.IsNotFound(err):
			return Entry{}, nil, err
		}
	}
	if l.exists && l.rec.Kind == KindDir {
		return Entry{}, nil, fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	if err := b.precondition(l, ifMatch, ifNoneMatch); err != nil {
		return Entry{}, nil, err
	}

	now := b.now()
	mtime := nv.mtime
	if mtime.IsZero() {
		mtime = now
	}
	var tx txn
	// A new blob is hot; a version that shares a blob (a copy, an old
	// version made current) shares its archive state.
	var arch *archRec
	if nv.blob != nil {
		bi := record.Item(blobPK(nv.blobID), skBlob, nv.blob)
		bi.N = 1
		if err := tx.add(meta.Put(bi, meta.MustNew)); err != nil {
			return Entry{}, nil, err
		}
		if nv.blob.Inline != nil {
			pk, sk := inlineItemKey(nv.blobID)
			if err := tx.add(meta.Put(record.Item(pk, sk, struct{}{}), meta.MustNew)); err != nil {
				return Entry{}, nil, err
			}
		}
	} else {
		br, _, err := record.Get[blobRec](ctx, b.meta, blobPK(nv.blobID), skBlob)
		if err != nil && !record.IsNotFound(err) { // missing: the Add below fails the commit
			return Entry{}, nil, err
		}
		arch = br.Arch
		if err := tx.add(
			meta.Add(blobPK(nv.blobID), skBlob, 1, meta.MustLive),
			meta.Check(nv.from.PK, nv.from.SK, meta.AtVersion(nv.from.Version))); err != nil {
			return Entry{}, nil, err
		}
	}

	next := entryRec{
		ID: record.NewID(), Kind: KindFile, Created: record.Nanos(now), MTime: mtimeNanos(mtime),
		Size: nv.size, SHA256: nv.sha256, digestWord: nv.word, Blob: nv.blobID, Seq: 1, First: 1, Arch: arch,
	}
	entryCond := meta.MustNew
	if l.exists {
		next.ID, next.Created, next.Seq, next.First = l.rec.ID, l.rec.Created, l.rec.Seq+1, l.rec.First
		entryCond = meta.AtVersion(l.ver)
	}

	// The version counts against the home folder it lands in, in this
	// transaction; a completed session's reservation is given back in it.
	acct := accountAt(l, next)
	var use charges
	newFile := int64(0)
	if !l.exists {
		newFile = 1
	}
	use.add(acct, nv.size, newFile)
	if s := nv.session; s != nil {
		use.reserve(account{home: s.Home, name: s.HomeName}, -s.Reserved)
		use.recheck(acct)
	}
	// Drop the oldest versions beyond the number kept, a bounded number per
	// commit so the transaction stays small; each drop releases a blob
	// reference (and its bytes) in the same transaction that deletes the
	// version.
	var released []string
	for next.Seq-next.First+1 > int64(b.keep) && len(released) < 16 {
		old, oit, err := record.Get[versionRec](ctx, b.meta, filePK(next.ID), versionSK(next.First))
		if err != nil && !record.IsNotFound(err) {
			return Entry{}, nil, err
		}
		if err == nil {
			if err := tx.add(
				meta.Delete(oit.PK, oit.SK, meta.AtVersion(oit.Version)),
				meta.Add(blobPK(old.Blob), skBlob, -1, meta.MustLive)); err != nil {
				return Entry{}, nil, err
			}
			use.add(acct, -old.Size, 0)
			released = append(released, old.Blob)
		}
		next.First++
	}

	if err := tx.add(
		meta.Put(record.Item(dirPK(l.parentID), entrySK(p.Name()), next), entryCond),
		meta.Put(record.Item(filePK(next.ID), versionSK(next.Seq), versionRec{
			Blob: nv.blobID, Size: nv.size, SHA256: nv.sha256, digestWord: nv.word, Author: pr.Name, AuthorID: pr.UserID,
			Time: record.Nanos(now), MTime: mtimeNanos(mtime),
		}), meta.MustNew)); err != nil {
		return Entry{}, nil, err
	}
	if err := tx.add(guard(l)...); err != nil {
		return Entry{}, nil, err
	}
	if err := tx.add(nv.extra...); err != nil {
		return Entry{}, nil, err
	}
	if err := use.commit(ctx, b.meta, tx.ops); err != nil {
		return Entry{}, nil, errs.FromStore("commit", err)
	}
	return b.entry(p, next), released, nil
}
