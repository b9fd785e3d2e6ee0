package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// OpenOptions select what Open reads.
type OpenOptions struct {
	// Version is the version number to read; 0 means the current one.
	Version int64
	// Offset and Length select a byte range; Length -1 reads to the end.
	Offset int64
	Length int64
}

// Reader reads a file's content. Entry describes the version being read
// (Size and SHA256 are those of the whole version, not of the range).
type Reader struct {
	Entry  Entry
	Offset int64
	Length int64
	rc     io.ReadCloser
}

// Read reads plaintext. Stored data that fails authentication is an error
// wrapping errs.ErrIntegrity: tampered data is never returned.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && errors.Is(err, crypto.ErrTampered) {
		err = fmt.Errorf("%w: %w", errs.ErrIntegrity, err)
	}
	return n, err
}

// Close releases the reader.
func (r *Reader) Close() error { return r.rc.Close() }

// StatVersion describes the file at p as of one version (0: the current
// one). Size, SHA256, ModTime and Version are those of that version.
func (b *Backend) StatVersion(ctx context.Context, pr iam.Principal, p storepath.Path, version int64) (Entry, error) {
	e, _, err := b.fileVersion(ctx, pr, p, version)
	return e, err
}

// fileVersion resolves a file version to its description and blob.
func (b *Backend) fileVersion(ctx context.Context, pr iam.Principal, p storepath.Path, version int64) (Entry, string, error) {
	t, err := b.authorize(ctx, pr, iam.GetFile, p)
	if err != nil {
		return Entry{}, "", err
	}
	if t.virtual {
		return Entry{}, "", fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	e, blobID, err := b.fileVersionAt(ctx, t.path, version)
	return t.show(e), blobID, t.fail(err)
}

func (b *Backend) fileVersionAt(ctx context.Context, p storepath.Path, version int64) (Entry, string, error) {
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Entry{}, "", err
	}
	if l.rec.Kind == KindDir {
		return Entry{}, "", fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	e := b.entry(p, l.rec)
	if version == 0 || version == l.rec.Seq {
		return e, l.rec.Blob, nil
	}
	v, _, err := record.Get[versionRec](ctx, b.meta, filePK(l.rec.ID), versionSK(version))
	if record.IsNotFound(err) {
		return Entry{}, "", fmt.Errorf("%s: version %d: %w", p, version, errs.ErrNotFound)
	}
	if err != nil {
		return Entry{}, "", err
	}
	e.Version, e.Size, e.SHA256, e.ModTime = version, v.Size, v.SHA256, mtimeOf(v.MTime)
	e.ClientDigest, e.ClientDigestBy = v.ClientDigest, v.By
	return e, v.Blob, nil
}

// Open reads the file at p (or one of its versions), whole or a range.
func (b *Backend) Open(ctx context.Context, pr iam.Principal, p storepath.Path, o OpenOptions) (*Reader, error) {
	e, blobID, err := b.fileVersion(ctx, pr, p, o.Version)
	if err != nil {
		return nil, err
	}
	length := o.Length
	if length < 0 {
		length = e.Size - o.Offset
	}
	if o.Offset < 0 || length < 0 || o.Offset+length > e.Size {
		return nil, fmt.Errorf("%w: bytes %d+%d of a %d-byte file", errs.ErrInvalidRange, o.Offset, o.Length, e.Size)
	}
	rc, err := b.openBlob(ctx, p.String(), blobID, o.Offset, length)
	if err != nil {
		return nil, err
	}
	return &Reader{Entry: e, Offset: o.Offset, Length: length, rc: rc}, nil
}

// openBlob decrypts a range of a blob.
func (b *Backend) openBlob(ctx context.Context, what, blobID string, off, n int64) (io.ReadCloser, error) {
	br, _, err := record.Get[blobRec](ctx, b.meta, blobPK(blobID), skBlob)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", blobID, err)
	}
	if !br.Arch.readable(b.now()) {
		return nil, archivedError(what, br.Arch)
	}
	key, err := b.dataKeyFresh(ctx, blobID, br.Wrapped, func() ([]byte, error) {
		br, _, err := record.Get[blobRec](ctx, b.meta, blobPK(blobID), skBlob)
		return br.Wrapped, err
	})
	if err != nil {
		return nil, err
	}
	fetch := func(ctx context.Context, off, n int64) (io.ReadCloser, error) {
		if br.Inline != nil {
			if off < 0 || n < 0 || off+n > int64(len(br.Inline)) {
				return nil, fmt.Errorf("%w: blob %s is short: bytes %d+%d of %d kept inline", errs.ErrIntegrity, blobID, off, n, len(br.Inline))
			}
			return io.NopCloser(bytes.NewReader(br.Inline[off : off+n])), nil
		}
		rc, err := b.blobs.Get(ctx, blobID, off, n)
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrInvalidRange) {
			return nil, fmt.Errorf("%w: blob %s is missing or short: %w", errs.ErrIntegrity, blobID, err)
		}
		if errors.Is(err, blob.ErrArchived) {
			// Its restored copy expired before the poller noticed.
			return nil, fmt.Errorf("%s: %w: restore it first (strata restore): %w", what, errs.ErrArchived, err)
		}
		return rc, err
	}
	rc, err := crypto.Open(ctx, key, crypto.Layout{Size: br.Size, PartSize: br.PartSize}, off, n, fetch)
	if err != nil {
		if errors.Is(err, crypto.ErrInvalidRange) {
			return nil, fmt.Errorf("%w: %w", errs.ErrInvalidRange, err)
		}
		return nil, err
	}
	return rc, nil
}

// Version describes one kept version of a file.
type Version struct {
	Version int64  `json:"version"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Author  string `json:"author"`
	// AuthorID is the user ID of who wrote it (empty for versions
	// written before Strata kept it).
	AuthorID string `json:"authorId,omitempty"`
	// Time is when the version was written; ModTime the file time it carries.
	Time    time.Time `json:"time"`
	ModTime time.Time `json:"mtime"`
	Current bool      `json:"current"`
}

// VersionPage is one page of versions, newest first.
type VersionPage struct {
	Versions []Version `json:"versions"`
	Cursor   string    `json:"cursor,omitempty"`
}

// Versions lists the kept versions of the file at p, newest first.
func (b *Backend) Versions(ctx context.Context, pr iam.Principal, p storepath.Path, cursor string, limit int) (VersionPage, error) {
	t, err := b.authorize(ctx, pr, iam.ListVersions, p)
	if err != nil {
		return VersionPage{}, err
	}
	vp, err := b.versions(ctx, t.path, cursor, limit)
	return vp, t.fail(err)
}

func (b *Backend) versions(ctx context.Context, p storepath.Path, cursor string, limit int) (VersionPage, error) {
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return VersionPage{}, err
	}
	if l.rec.Kind == KindDir {
		return VersionPage{}, fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	if limit <= 0 || limit > meta.MaxPageLimit {
		limit = meta.MaxPageLimit
	}
	q := meta.QueryOpts{Prefix: versionPrefix, Limit: limit, Reverse: true}
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return VersionPage{}, err
		}
		q.After = after
	}
	pg, err := b.meta.Query(ctx, filePK(l.rec.ID), q)
	if err != nil {
		return VersionPage{}, err
	}
	out := VersionPage{Versions: []Version{}}
	for _, it := range pg.Items {
		v, err := record.Decode[versionRec](it)
		if err != nil {
			return VersionPage{}, err
		}
		var seq int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(it.SK, versionPrefix), "%d", &seq); err != nil {
			return VersionPage{}, fmt.Errorf("backend: corrupt version key %q", it.SK)
		}
		out.Versions = append(out.Versions, Version{
			Version: seq, Size: v.Size, SHA256: v.SHA256, Author: v.Author, AuthorID: v.AuthorID,
			Time: record.FromNanos(v.Time), ModTime: mtimeOf(v.MTime), Current: seq == l.rec.Seq,
		})
	}
	if pg.Next != "" {
		out.Cursor = encodeCursor(pg.Next)
	}
	return out, nil
}

// RestoreVersion makes an old version of the file at p current again, as a
// new version that shares its content (nothing is copied or re-encrypted).
func (b *Backend) RestoreVersion(ctx context.Context, pr iam.Principal, p storepath.Path, version int64) (Entry, error) {
	t, err := b.authorize(ctx, pr, iam.RestoreVersion, p)
	if err != nil {
		return Entry{}, err
	}
	e, err := b.restoreVersion(ctx, pr, t.path, version)
	return t.show(e), t.fail(err)
}

func (b *Backend) restoreVersion(ctx context.Context, pr iam.Principal, p storepath.Path, version int64) (Entry, error) {
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	if l.rec.Kind == KindDir {
		return Entry{}, fmt.Errorf("%s: %w", p, errs.ErrIsDir)
	}
	v, it, err := record.Get[versionRec](ctx, b.meta, filePK(l.rec.ID), versionSK(version))
	if record.IsNotFound(err) {
		return Entry{}, fmt.Errorf("%s: version %d: %w", p, version, errs.ErrNotFound)
	}
	if err != nil {
		return Entry{}, err
	}
	return b.commitVersion(ctx, pr, p, newVersion{
		blobID: v.Blob, from: &it, size: v.Size, sha256: v.SHA256, word: v.digestWord, mtime: mtimeOf(v.MTime),
	}, "", false, &l)
}

// dropInline removes a blob kept inline, its record read as it: the record
// and its listing in one transaction (conditioned on the record as read),
// then an object an archive may have put in the blob store and failed
// after.
func (b *Backend) dropInline(ctx context.Context, blobID string, it meta.Item) error {
	pk, sk := inlineItemKey(blobID)
	if err := b.meta.Transact(ctx, []meta.Op{
		meta.Delete(blobPK(blobID), skBlob, meta.AtVersion(it.Version)),
		meta.Delete(pk, sk, meta.NoCond),
	}); err != nil {
		return err
	}
	if err := b.blobs.Delete(ctx, blobID); err != nil && !errors.Is(err, blob.ErrNotFound) {
		b.log.Warn("delete released blob", "blob", blobID, "err", err)
	}
	return nil
}

// releaseBlob removes a blob whose last reference is gone. Its record goes
// first: once a blob has no record nothing can reference it again, and an
// object left behind by a crash is an orphan the collector removes.
func (b *Backend) releaseBlob(ctx context.Context, blobID string) {
	it, err := b.meta.Get(ctx, blobPK(blobID), skBlob)
	if err != nil || it.N > 0 {
		return
	}
	if br, err := record.Decode[blobRec](it); err == nil && br.Inline != nil {
		if err := b.dropInline(ctx, blobID, it); err != nil {
			b.log.Warn("delete released inline blob", "blob", blobID, "err", err)
		}
		return
	}
	if err := b.meta.Delete(ctx, blobPK(blobID), skBlob, meta.AtVersion(it.Version)); err != nil {
		return
	}
	if err := b.blobs.Delete(ctx, blobID); err != nil {
		b.log.Warn("delete released blob", "blob", blobID, "err", err)
	}
}
