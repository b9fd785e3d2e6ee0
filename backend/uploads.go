package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/storepath"
)

// DefaultMaxOpenUploads bounds the open upload sessions of one user unless
// Config.MaxOpenUploads says otherwise.
const DefaultMaxOpenUploads = 1000

// UploadOptions describe a resumable upload session.
type UploadOptions struct {
	// Size is the exact size of the file.
	Size int64
	// PartSize is the size of every part but the last; 0 picks one. It must
	// be a multiple of 64 KiB between MinPartSize and MaxPartSize, small
	// enough for Size, and large enough for at most blob.MaxParts parts.
	PartSize int64
	// SHA256, when set, is the digest the whole file must have.
	SHA256 []byte
	// MTime is the file's modification time; zero means the time of
	// Complete. Outside MinMTime..MaxMTime it is refused (errs.ErrInvalid).
	MTime time.Time
	// Fingerprint is an opaque client string (at most 256 bytes) that lets a
	// client find its own session again to resume it.
	Fingerprint string
	// ClientDigest asks that the server not hash the file: the client
	// hashes it as it reads it and gives that SHA-256, with the CRC-32C
	// of every part as it read it, at Complete (CompleteCheck); the server
	// checks each stored part against its CRC-32C and records the client's
	// digest. It is granted only for a file in the uploader's own home
	// (Upload.ClientDigest says whether it was); see CompleteCheck.
	ClientDigest bool
}

// Upload describes an upload session.
type Upload struct {
	ID          string `json:"id"`
	Path        string `json:"path"`
	Size        int64  `json:"size"`
	PartSize    int64  `json:"partSize"`
	Parts       int    `json:"parts"`
	SHA256      string `json:"sha256,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// ClientDigest: the server does not hash this session's file, and
	// takes the client's digest at Complete (UploadOptions.ClientDigest,
	// granted).
	ClientDigest bool         `json:"clientDigest,omitempty"`
	Created      time.Time    `json:"created"`
	Expires      time.Time    `json:"expires"`
	Received     []UploadPart `json:"received,omitempty"`
	// User is who opened the session, when it is not whose sessions
	// were listed: a session that reserves in that user's home on
	// someone else's behalf (a share's recipient, an admin). Its Path
	// is as that uploader named it.
	User string `json:"user,omitempty"`
}

// UploadPart is a received part. CRC32C (8 hex digits, Castagnoli) is
// there for every part stored since it was introduced; SHA256 only for a
// part sent with a SHA-256 to check (see PartCheck).
type UploadPart struct {
	N      int    `json:"n"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	CRC32C string `json:"crc32c,omitempty"`
}

// PartCheck holds the digests a part's bytes must have, as its sender
// computed them; either may be nil.
//
// Every byte of an upload is hashed with SHA-256 once on its way in: into
// the file's digest, which Complete checks against the client's. A part's
// own SHA-256 would be a second pass over the same bytes, so it is computed
// only when a sender asks for that check. What every part gets instead is
// its CRC-32C, at a few percent of a SHA-256's cost: it is returned, so the
// sender can compare it with what it sent and send the part again at once
// if they differ, and recorded, so a resuming client can tell a part the
// server holds from a part of other bytes. A CRC is no defence against a
// forger, and needs not be: a part that passes it wrongly only makes the
// file's SHA-256 differ at Complete, which then refuses to commit it.
type PartCheck struct {
	SHA256 []byte
	CRC32C []byte // 4 bytes, big-endian
}

// CompleteCheck holds what a Complete is checked against: the file's
// SHA-256 (nil: none given), and the CRC-32C of every part in order (8 hex
// digits each; nil: none given), as the client computed them in its one
// read of the file.
//
// On a session opened with ClientDigest the server hashes nothing: every
// byte is then hashed with SHA-256 once on its way in, by the client,
// while it reads the file to send it. Given both, each stored part's
// CRC-32C (computed by the server as the part streamed in, so known to be
// what it stored) must equal the client's, or the Complete fails with
// nothing committed and the session left open to send that part again.
// That is the check of the parts against the digest: the CRCs and the
// SHA-256 come from the same read, so a part that was changed, swapped or
// sent from another version of the file shows, and a transfer error too.
// Without both (another client resuming the session), the server reads
// the file back and hashes it, as for any session whose chain did not
// reach the end.
//
// What the server records as the file's digest is then the uploader's
// word, and the entry says so (Entry.ClientDigest, kept wherever the
// content goes), so that no one takes it for proof of what is stored.
// The word is taken only for a file in the uploader's own home, from the
// uploader (CreateUpload, and again at Complete): a file written into
// someone else's home, a folder outside the homes, through a share or a
// share link, or completed by an admin for a user is hashed by the
// server, as are uploads the server reads whole (a plain PUT, SFTP, scp)
// and empty files.
type CompleteCheck struct {
	SHA256     []byte
	PartCRC32C []string
}

func validUploadID(id string) error {
	if len(id) != 26 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7')
	}) {
		return fmt.Errorf("upload %q: %w", clip.Text(id), errs.ErrNotFound)
	}
	return nil
}

// choosePartSize applies UploadOptions' rules, so that the session's
// layout is one the sealing holds and the blob store takes.
func (b *Backend) choosePartSize(size, want int64) (int64, error) {
	if size > MaxUploadSize {
		return 0, fmt.Errorf("%w: a file of %d bytes is larger than an upload session takes (%d parts of at most %d bytes: %d bytes)",
			errs.ErrInvalid, size, blob.MaxParts, MaxPartSize, int64(MaxUploadSize))
	}
	if want == 0 {
		want = b.partSize
		if want < MinPartSize {
			want = MinPartSize
		}
		if need := (size + blob.MaxParts - 1) / blob.MaxParts; want < need {
			want = (need + crypto.PackageSize - 1) / crypto.PackageSize * crypto.PackageSize
		}
	}
	switch {
	case want < MinPartSize || want > MaxPartSize || want%crypto.PackageSize != 0:
		return 0, fmt.Errorf("%w: part size %d must be a multiple of %d between %d and %d",
			errs.ErrInvalid, want, crypto.PackageSize, MinPartSize, MaxPartSize)
	case (size+want-1)/want > blob.MaxParts:
		return 0, fmt.Errorf("%w: part size %d gives more than %d parts for %d bytes", errs.ErrInvalid, want, blob.MaxParts, size)
	}
	if err := (crypto.Layout{Size: size, PartSize: want}).Validate(); err != nil {
		return 0, fmt.Errorf("%w: %w", errs.ErrInvalid, err)
	}
	return want, nil
}

// CreateUpload opens a resumable upload session for the file at p. Parts
// go straight to the blob store as they arrive; nothing is visible at p until
// CompleteUpload.
func (b *Backend) CreateUpload(ctx context.Context, pr iam.Principal, p storepath.Path, o UploadOptions) (Upload, error) {
	// The session keeps p as named: Complete resolves it again (a share
	// may have been revoked or moved meanwhile). What is checked and
	// reserved now is where it lands now (through a share: in the owner's
	// tree and home).
	t, err := b.authorize(ctx, pr, iam.PutFile, p)
	if err != nil {
		return Upload{}, err
	}
	if p.IsRoot() {
		return Upload{}, fmt.Errorf("/: %w", errs.ErrIsDir)
	}
	if o.Size < 0 {
		return Upload{}, fmt.Errorf("%w: size must be given", errs.ErrInvalid)
	}
	if o.SHA256 != nil && len(o.SHA256) != sha256.Size {
		return Upload{}, fmt.Errorf("%w: SHA-256 digest must be %d bytes", errs.ErrInvalid, sha256.Size)
	}
	var mtime *int64
	if !o.MTime.IsZero() {
		if err := CheckMTime(o.MTime); err != nil {
			return Upload{}, err
		}
		n := mtimeNanos(o.MTime)
		mtime = &n
	}
	if len(o.Fingerprint) > 256 {
		return Upload{}, fmt.Errorf("%w: fingerprint longer than 256 bytes", errs.ErrInvalid)
	}
	partSize, err := b.choosePartSize(o.Size, o.PartSize)
	if err != nil {
		return Upload{}, err
	}
	// At the bound, fail before anything is begun; the create itself
	// takes its slot exactly (createSession).
	if _, err := record.Optimistic(ctx, "count uploads", func() (meta.Cond, error) { return b.uploadSlot(ctx, pr.UserID) }); err != nil {
		return Upload{}, err
	}
	resolved, err := b.precheckPut(ctx, t.path, "", false)
	if err != nil {
		return Upload{}, t.fail(err)
	}
	// The session reserves its size in the home folder it writes to; a
	// session that cannot fit is refused before anything is begun.
	acct, err := b.accountOfPath(ctx, t.path, resolved)
	if err != nil {
		return Upload{}, t.fail(err)
	}
	if err := b.fits(ctx, acct, o.Size); err != nil {
		return Upload{}, t.fail(err)
	}
	// The client's digest is taken only where no one but the uploader
	// can be misled by it (CompleteCheck): their own home.
	clientDigest := o.ClientDigest && o.Size > 0 && ownHome(acct, pr) // an empty file: nothing to hash
	id, blobID := record.NewID(), record.NewID()
	dk, hold, err := b.newDataKey(ctx, blobContext(blobID))
	if err != nil {
		return Upload{}, err
	}
	defer hold.release()
	// The parts that follow (on this server) need the key: keep it rather
	// than ask the key service to unwrap it again.
	b.keyCache.put(blobID, dk.Plaintext)
	clear(dk.Plaintext)
	uploadID, err := b.blobs.Begin(ctx, blobID)
	if err != nil {
		return Upload{}, errs.FromStore("begin upload", err)
	}
	now := b.now()
	s := sessionRec{
		UserID: pr.UserID, Path: p.String(), Size: o.Size, PartSize: partSize,
		Blob: blobID, Wrapped: dk.Wrapped, KeyID: dk.KeyID, UploadID: uploadID,
		SHA256: hex.EncodeToString(o.SHA256), MTime: mtime, Fingerprint: o.Fingerprint, ClientDigest: clientDigest,
		Created: record.Nanos(now), Expires: record.Nanos(now.Add(b.upTTL)),
	}
	if acct.home != "" {
		s.Home, s.HomeName, s.Reserved, s.UserName = acct.home, acct.name, o.Size, pr.Name
	}
	if acct.home != "" && acct.name != pr.Name {
		// Someone else's home: its owner sees the session too, and may
		// abort it (as a bucket's owner may a multipart upload in it). A
		// home folder no user has is no one's to list it in.
		owner, err := b.users.UserID(ctx, acct.name)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return Upload{}, err
		}
		s.HomeOwner = owner
	}
	idx := sessionIndexRec{UserID: pr.UserID, Expires: s.Expires, HomeOwner: s.HomeOwner}
	sess := record.Item(uploadPK(id), skSession, s)
	sess.ExpiresAt = now.Add(b.upTTL)
	if err := b.createSession(ctx, id, s, sess, idx, acct.quota); err != nil {
		_ = b.blobs.Abort(context.WithoutCancel(ctx), blobID, uploadID)
		if errors.Is(err, errs.ErrTooMany) || errors.Is(err, errs.ErrConflict) || errors.Is(err, errs.ErrQuotaExceeded) {
			return Upload{}, err
		}
		return Upload{}, errs.FromStore("create upload", err)
	}
	return upload(id, s), nil
}

func upload(id string, s sessionRec) Upload {
	l := crypto.Layout{Size: s.Size, PartSize: s.PartSize}
	return Upload{
		ID: id, Path: s.Path, Size: s.Size, PartSize: s.PartSize, Parts: l.Parts(),
		SHA256: s.SHA256, Fingerprint: s.Fingerprint, ClientDigest: s.ClientDigest,
		Created: record.FromNanos(s.Created), Expires: record.FromNanos(s.Expires),
	}
}

// session loads a session of the user owner ("" for pr) that has not
// expired, once pr may manage it. Anything else is errs.ErrNotFound, so IDs
// of other users' sessions reveal nothing.
func (b *Backend) session(ctx context.Context, pr iam.Principal, owner, id string) (sessionRec, meta.Item, error) {
	if err := b.allow(ctx, pr, iam.ManageUploads, iam.UploadOf(ownerName(pr, owner), id)); err != nil {
		return sessionRec{}, meta.Item{}, err
	}
	if err := validUploadID(id); err != nil {
		return sessionRec{}, meta.Item{}, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return sessionRec{}, meta.Item{}, err
	}
	return b.loadSession(ctx, ownerID, id)
}

// loadSession loads a session of the user ownerID that has not expired.
func (b *Backend) loadSession(ctx context.Context, ownerID, id string) (sessionRec, meta.Item, error) {
	s, it, err := record.Get[sessionRec](ctx, b.meta, uploadPK(id), skSession)
	if record.IsNotFound(err) || (err == nil && (s.UserID != ownerID || b.now().UnixNano() > s.Expires)) {
		return sessionRec{}, meta.Item{}, fmt.Errorf("upload %s: %w", id, errs.ErrNotFound)
	}
	return s, it, err
}

// GetUpload describes a session of owner ("" for pr's own) with the parts
// received so far.
func (b *Backend) GetUpload(ctx context.Context, pr iam.Principal, owner, id string) (Upload, error) {
	s, _, err := b.session(ctx, pr, owner, id)
	if err != nil {
		return Upload{}, err
	}
	u := upload(id, s)
	u.Received = []UploadPart{}
	err = b.eachPart(ctx, id, func(n int, pr partRec) error {
		u.Received = append(u.Received, UploadPart{N: n, Size: pr.Size, SHA256: pr.SHA256, CRC32C: pr.CRC32C})
		return nil
	})
	return u, err
}

func (b *Backend) eachPart(ctx context.Context, id string, fn func(n int, p partRec) error) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, uploadPK(id), meta.QueryOpts{Prefix: partPrefix, After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			n, err := strconv.Atoi(strings.TrimPrefix(it.SK, partPrefix))
			if err != nil {
				return fmt.Errorf("backend: corrupt part key %q", it.SK)
			}
			p, err := record.Decode[partRec](it)
			if err != nil {
				return err
			}
			if err := fn(n, p); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// ListUploads lists the open sessions of owner ("" for pr's own), oldest
// first.
func (b *Backend) ListUploads(ctx context.Context, pr iam.Principal, owner string) ([]Upload, error) {
	if err := b.allow(ctx, pr, iam.ManageUploads, iam.UploadOf(ownerName(pr, owner), "*")); err != nil {
		return nil, err
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return nil, err
	}
	out := []Upload{}
	err = b.eachItem(ctx, userPK(ownerID), userUpPrefix, func(it meta.Item) error {
		id := strings.TrimPrefix(it.SK, userUpPrefix)
		s, _, err := b.loadSession(ctx, ownerID, id)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, upload(id, s))
		return nil
	})
	if err != nil {
		return nil, err
	}
	// And the sessions of others that reserve in the owner's home.
	err = b.eachItem(ctx, userPK(ownerID), guestUpPrefix, func(it meta.Item) error {
		id := strings.TrimPrefix(it.SK, guestUpPrefix)
		s, _, gone, err := b.guestSessionIn(ctx, ownerID, id)
		switch {
		case gone:
			// Left by a server from before the index (or one that
			// rewrote the session without it): nothing to list.
			return b.meta.Delete(ctx, it.PK, it.SK, meta.NoCond)
		case errors.Is(err, errs.ErrNotFound):
			return nil // expired: the collector's
		case err != nil:
			return err
		}
		u := upload(id, s)
		// Someone else's: who, and what the owner of the home needs to
		// decide; not their local file's fingerprint nor their digest.
		u.User, u.Fingerprint, u.SHA256 = s.UserName, "", ""
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Upload) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// guestSessionIn loads session id, one that someone else opened in the
// home of the user with ID owner and that has not expired; else
// errs.ErrNotFound, with gone set when there is no such session at all
// (ended, or not a guest's there) rather than one expired.
func (b *Backend) guestSessionIn(ctx context.Context, owner, id string) (s sessionRec, it meta.Item, gone bool, err error) {
	s, it, err = record.Get[sessionRec](ctx, b.meta, uploadPK(id), skSession)
	gone = record.IsNotFound(err) || err == nil && s.HomeOwner != owner
	switch {
	case gone || err == nil && b.now().UnixNano() > s.Expires:
		return sessionRec{}, meta.Item{}, gone, fmt.Errorf("upload %s: %w", id, errs.ErrNotFound)
	case err != nil:
		return sessionRec{}, meta.Item{}, false, err
	}
	return s, it, false, nil
}

// PutPart stores part n (1-based) of a session: exactly the part's size,
// sealed on the way to the blob store. sum, when set, is the part's SHA-256.
// Sending a part again replaces it.
func (b *Backend) PutPart(ctx context.Context, pr iam.Principal, owner, id string, n int, r io.Reader, size int64, sum []byte) (UploadPart, error) {
	return b.PutPartChecked(ctx, pr, owner, id, n, r, size, PartCheck{SHA256: sum})
}

// PutPartChecked is PutPart with the digests of check verified: a part
// that does not match them is refused (errs.ErrDigestMismatch) and not
// recorded.
func (b *Backend) PutPartChecked(ctx context.Context, pr iam.Principal, owner, id string, n int, r io.Reader, size int64, check PartCheck) (UploadPart, error) {
	sum := check.SHA256
	s, _, err := b.session(ctx, pr, owner, id)
	if err != nil {
		return UploadPart{}, err
	}
	if b.busy(s) {
		return UploadPart{}, fmt.Errorf("upload %s: %w: it is being completed", id, errs.ErrConflict)
	}
	l := crypto.Layout{Size: s.Size, PartSize: s.PartSize}
	if n < 1 || n > l.Parts() {
		return UploadPart{}, fmt.Errorf("%w: part %d of an upload with %d parts", errs.ErrInvalid, n, l.Parts())
	}
	want := l.PartPlainSize(n - 1)
	if size >= 0 && size != want {
		return UploadPart{}, fmt.Errorf("%w: part %d must be %d bytes, not %d", errs.ErrLengthMismatch, n, want, size)
	}
	if sum != nil && len(sum) != sha256.Size {
		return UploadPart{}, fmt.Errorf("%w: SHA-256 digest must be %d bytes", errs.ErrInvalid, sha256.Size)
	}
	if check.CRC32C != nil && len(check.CRC32C) != crc32.Size {
		return UploadPart{}, fmt.Errorf("%w: CRC-32C must be %d bytes", errs.ErrInvalid, crc32.Size)
	}
	key, err := b.dataKeyFresh(ctx, s.Blob, s.Wrapped, func() ([]byte, error) {
		s, _, err := b.loadSession(ctx, s.UserID, id)
		return s.Wrapped, err
	})
	if err != nil {
		return UploadPart{}, err
	}
	defer clear(key)
	var ph *partHashing // nil: this part goes into no digest of the server's
	if !s.ClientDigest {
		ph = b.startPart(ctx, id, n, want)
	}
	stored := false
	var tag string
	defer func() { ph.finish(context.WithoutCancel(ctx), stored, tag) }()
	// The bytes go once through SHA-256, into the file's digest (ph; not
	// when the client gives the digest), and through CRC-32C; through a
	// SHA-256 of their own only when asked.
	var partSum hash.Hash
	extra := ph.writer()
	if sum != nil {
		partSum = sha256.New()
		extra = teeWriter(extra, partSum)
	}
	body := &countingReader{r: r, want: want, h: crc32.New(crc32.MakeTable(crc32.Castagnoli)), extra: extra}
	sealed, err := crypto.SealPart(key, l, n-1, body)
	if err != nil {
		return UploadPart{}, err
	}
	part, err := b.blobs.PutPart(ctx, s.Blob, s.UploadID, n, sealed, l.PartSealedSize(n-1))
	if body.err != nil {
		return UploadPart{}, body.err
	}
	if err != nil {
		return UploadPart{}, errs.FromStore(fmt.Sprintf("store part %d", n), err)
	}
	// A stored part that fails a check is not recorded, so it can never
	// be completed; sending the part again replaces it.
	crc := body.h.Sum(nil)
	if check.CRC32C != nil && !bytes.Equal(crc, check.CRC32C) {
		return UploadPart{}, fmt.Errorf("%w: part %d has crc32c %x, expected %x", errs.ErrDigestMismatch, n, crc, check.CRC32C)
	}
	rec := partRec{Size: want, CRC32C: hex.EncodeToString(crc), Tag: part.Tag, Time: record.Nanos(b.now())}
	if partSum != nil {
		got := partSum.Sum(nil)
		if !bytes.Equal(got, sum) {
			return UploadPart{}, fmt.Errorf("%w: part %d has sha-256 %x, expected %x", errs.ErrDigestMismatch, n, got, sum)
		}
		rec.SHA256 = hex.EncodeToString(got)
	}
	if _, err := b.meta.Put(ctx, record.Item(uploadPK(id), partSK(n), rec), meta.NoCond); err != nil {
		return UploadPart{}, errs.FromStore("record part", err)
	}
	stored, tag = true, part.Tag
	return UploadPart{N: n, Size: want, SHA256: rec.SHA256, CRC32C: rec.CRC32C}, nil
}

// teeWriter writes to both w and also; w may be nil.
func teeWriter(w, also io.Writer) io.Writer {
	if w == nil {
		return also
	}
	return io.MultiWriter(w, also)
}

// completeLease is how long a Complete's claim on a session holds without
// being renewed before another Complete, an Abort or the collector may take
// the session over; a working Complete renews it every completeRenew.
const (
	completeLease = 2 * time.Minute
	completeRenew = 30 * time.Second
)

// busy reports a session that a live Complete is working on.
func (b *Backend) busy(s sessionRec) bool {
	switch {
	case s.Completing == 0:
		return false
	case b.excl && s.CompletingBy != b.instance:
		return false // left by an earlier process on a store only we use
	}
	return b.now().UnixNano()-s.Completing < int64(completeLease)
}

// claim is a Complete's hold on its session, renewed in the background
// while the Complete joins and hashes (which can take minutes for a big
// file), so that the lease itself can be short.
type claim struct {
	b    *Backend
	sit  meta.Item
	s    sessionRec
	mu   sync.Mutex
	ver  int64 // of the session item, after the last renewal
	lost bool  // a renewal found the session changed
	stop chan struct{}
	done chan struct{}
}

func (b *Backend) claimSession(ctx context.Context, id string, s sessionRec, sit meta.Item) (*claim, error) {
	if b.busy(s) {
		return nil, fmt.Errorf("upload %s: %w: another Complete is in progress", id, errs.ErrConflict)
	}
	c := &claim{b: b, sit: sit, s: s, stop: make(chan struct{}), done: make(chan struct{})}
	v, err := c.write(ctx, record.Nanos(b.now()), sit.Version)
	if record.IsConflict(err) {
		return nil, fmt.Errorf("upload %s: %w: completed or aborted meanwhile", id, errs.ErrConflict)
	}
	if err != nil {
		return nil, errs.FromStore("claim upload", err)
	}
	c.ver = v
	go c.renew(context.WithoutCancel(ctx))
	return c, nil
}

// write stores the session with a claim time (0: released).
func (c *claim) write(ctx context.Context, at int64, ver int64) (int64, error) {
	s := c.s
	s.Completing, s.CompletingBy = at, c.b.instance
	if at == 0 {
		s.CompletingBy = ""
	}
	it := record.Item(c.sit.PK, c.sit.SK, s)
	it.ExpiresAt = record.FromNanos(s.Expires)
	return c.b.meta.Put(ctx, it, meta.AtVersion(ver))
}

func (c *claim) renew(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(completeRenew)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.mu.Lock()
		v, err := c.write(ctx, record.Nanos(c.b.now()), c.ver)
		if err == nil {
			c.ver = v
		} else if record.IsConflict(err) {
			c.lost = true
		}
		c.mu.Unlock()
	}
}

// hold stops renewing and returns the session item's version, for the
// final transaction's condition (errs.ErrConflict if the claim was lost).
func (c *claim) hold() (int64, error) {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lost {
		return 0, fmt.Errorf("%w: the upload was taken over while it was being completed", errs.ErrConflict)
	}
	return c.ver, nil
}

// release gives the session back, open, for another try.
func (c *claim) release(ctx context.Context) {
	ver, err := c.hold()
	if err == nil {
		_, _ = c.write(context.WithoutCancel(ctx), 0, ver)
	}
}

// CompleteUpload joins the parts into the file. It has the file's SHA-256
// from the chain carried forward as the parts arrived (filehash.go),
// reading back through decryption what the chain did not reach, or, on a
// ClientDigest session, from the client (CompleteCheck); checks it against
// the digest given at creation and sum (if set), and commits the version
// in one transaction that also closes the session.
//
// A Complete first claims the session (one conditional write), so that two
// Completes, or a Complete and an Abort, never work on one upload at once:
// the loser gets errs.ErrConflict and touches nothing.
func (b *Backend) CompleteUpload(ctx context.Context, pr iam.Principal, owner, id string, sum []byte) (Entry, error) {
	return b.CompleteUploadChecked(ctx, pr, owner, id, CompleteCheck{SHA256: sum})
}

// CompleteUploadChecked is CompleteUpload with the parts checked too
// (CompleteCheck): a ClientDigest session completed so by its uploader
// is not hashed by the server; without the parts' CRC-32C it is.
func (b *Backend) CompleteUploadChecked(ctx context.Context, pr iam.Principal, owner, id string, check CompleteCheck) (Entry, error) {
	sum := check.SHA256
	s, sit, err := b.session(ctx, pr, owner, id)
	if err != nil {
		return Entry{}, err
	}
	if sum != nil && len(sum) != sha256.Size {
		return Entry{}, fmt.Errorf("%w: SHA-256 digest must be %d bytes", errs.ErrInvalid, sha256.Size)
	}
	p, err := storepath.Parse(s.Path)
	if err != nil {
		return Entry{}, fmt.Errorf("backend: corrupt session %s: %w", id, err)
	}
	t, err := b.authorize(ctx, pr, iam.PutFile, p)
	if err != nil {
		return Entry{}, err
	}
	p = t.path
	l := crypto.Layout{Size: s.Size, PartSize: s.PartSize}
	if err := l.Validate(); err != nil {
		// Only a session opened before layouts were checked at creation.
		return Entry{}, fmt.Errorf("%w: upload %s declares a size and part size that cannot be stored (%w); abort it and start again", errs.ErrInvalid, id, err)
	}
	if err := validPartCRCs(id, check.PartCRC32C); err != nil {
		return Entry{}, err
	}
	// The client's digest stands for the server's only with the parts'
	// CRC-32C to bind it to what is stored; else the file is hashed here.
	// Again as the path resolves now (p is where the file lands), for
	// whoever completes it (an admin completing a user's session is not
	// that user).
	trusted := s.ClientDigest && sum != nil && len(check.PartCRC32C) > 0 && inOwnHome(p, pr)
	parts, crcs, err := b.partList(ctx, id, l)
	if err != nil {
		return Entry{}, err
	}
	if err := checkPartCRCs(id, crcs, check.PartCRC32C); err != nil {
		return Entry{}, err
	}
	s, sit, cl, hold, err := b.claimToComplete(ctx, id, s, sit)
	if err != nil {
		return Entry{}, err
	}
	defer hold.release()
	// Whatever fails from here leaves the session open for another try.
	release := func() { cl.release(ctx) }

	if err := b.joinParts(ctx, s, parts); err != nil {
		release()
		return Entry{}, err
	}
	// What is stored must be what the session declares, whatever the
	// part records said: a file is never committed over fewer bytes.
	if err := b.checkJoined(ctx, s.Blob, l); err != nil {
		if !errors.Is(err, errs.ErrIntegrity) {
			release()
		} else if cv, herr := cl.hold(); herr == nil {
			b.closeBroken(ctx, id, s, sit, cv)
		}
		return Entry{}, err
	}
	key, err := b.dataKey(ctx, s.Blob, s.Wrapped)
	if err != nil {
		release()
		return Entry{}, err
	}
	defer clear(key)
	got := hex.EncodeToString(sum)
	var word digestWord
	if trusted {
		word = clientWord(pr.UserID)
	} else {
		tags := make([]partTag, len(parts))
		for i, p := range parts {
			tags[i] = partTag{n: p.Number, tag: p.Tag}
		}
		got, err = b.fileDigest(ctx, id, s, key, tags)
		b.dropHasher(id)
		if err != nil {
			release()
			return Entry{}, err
		}
	}
	cv, err := cl.hold()
	if err != nil {
		return Entry{}, err
	}
	for _, want := range []string{s.SHA256, hex.EncodeToString(sum)} {
		if want != "" && want != got {
			b.closeBroken(ctx, id, s, sit, cv)
			return Entry{}, fmt.Errorf("%w: file has sha-256 %s, expected %s", errs.ErrDigestMismatch, got, want)
		}
	}
	var mtime time.Time
	if s.MTime != nil {
		mtime = mtimeOf(*s.MTime)
	}
	nv := newVersion{
		blobID: s.Blob,
		blob: &blobRec{
			Size: s.Size, PartSize: s.PartSize, Wrapped: s.Wrapped, KeyID: s.KeyID, Created: record.Nanos(b.now()),
		},
		size:    s.Size,
		sha256:  got,
		word:    word,
		mtime:   mtime,
		extra:   []meta.Op{meta.Delete(sit.PK, sit.SK, meta.AtVersion(cv))},
		session: &s,
	}
	e, err := b.commitVersion(ctx, pr, p, nv, "", false, nil)
	if err != nil {
		// The joined blob stays: a retried Complete uses it, and if none
		// comes the collector removes it with the expired session.
		if _, werr := cl.write(context.WithoutCancel(ctx), 0, cv); werr != nil {
			b.log.Debug("release upload claim", "upload", id, "err", werr)
		}
		return Entry{}, t.fail(err)
	}
	b.endSession(ctx, id, s)
	return t.show(e), nil
}

// checkJoined compares the joined object's size with the session's
// layout: errs.ErrIntegrity if they differ.
func (b *Backend) checkJoined(ctx context.Context, blobID string, l crypto.Layout) error {
	info, err := b.blobs.Stat(ctx, blobID)
	if err != nil {
		return errs.FromStore("check joined upload", err)
	}
	if info.Size != l.SealedSize() {
		b.log.Error("joined upload has the wrong size", "blob", blobID, "bytes", info.Size, "want", l.SealedSize())
		return fmt.Errorf("%w: the joined upload holds %d bytes, its %d parts should hold %d; send the file again",
			errs.ErrIntegrity, info.Size, l.Parts(), l.SealedSize())
	}
	return nil
}

// closeBroken ends a session whose content is wrong and can never become
// right, while the Complete's claim (at session version cv) still holds:
// the session is closed and what it stored dropped.
func (b *Backend) closeBroken(ctx context.Context, id string, s sessionRec, sit meta.Item, cv int64) {
	if err := b.closeSession(ctx, s, sit, cv); err == nil {
		b.discardBlob(s.Blob)
		b.endSession(context.WithoutCancel(ctx), id, s)
	}
}

// claimToComplete holds the master key of the session's data key (its
// wrapping goes into the blob record Complete commits) and claims the
// session. A key rotation may rewrap the session between the read and the
// claim, which then loses on the version: the session is read again and
// claimed as it now is, so that a rotation never fails a Complete.
func (b *Backend) claimToComplete(ctx context.Context, id string, s sessionRec, sit meta.Item) (sessionRec, meta.Item, *claim, *keyHold, error) {
	for attempt := 0; ; attempt++ {
		var err error
		if hold, ok := b.holds.acquire(s.KeyID); ok {
			var cl *claim
			if cl, err = b.claimSession(ctx, id, s, sit); err == nil {
				return s, sit, cl, hold, nil
			}
			hold.release()
		}
		again, againIt, rerr := b.loadSession(ctx, s.UserID, id)
		if err == nil {
			// The key was retired: the rotation rewrapped the session.
			err = fmt.Errorf("upload %s: %w: its data key was rewrapped meanwhile", id, errs.ErrConflict)
		}
		if rerr != nil || bytes.Equal(again.Wrapped, s.Wrapped) || attempt == 2 {
			return sessionRec{}, meta.Item{}, nil, nil, err
		}
		s, sit = again, againIt
	}
}

// partList lists the parts of a session for Complete, with the CRC-32C
// of each, or says which are missing.
func (b *Backend) partList(ctx context.Context, id string, l crypto.Layout) ([]blob.Part, []string, error) {
	parts := make([]blob.Part, 0, l.Parts())
	crcs := make([]string, 0, l.Parts())
	var missing []string
	err := b.eachPart(ctx, id, func(n int, rec partRec) error {
		for len(parts)+1 < n {
			missing = append(missing, strconv.Itoa(len(parts)+1))
			parts = append(parts, blob.Part{})
			crcs = append(crcs, "")
		}
		if n <= l.Parts() && rec.Size == l.PartPlainSize(n-1) {
			parts = append(parts, blob.Part{Number: n, Size: l.PartSealedSize(n - 1), Tag: rec.Tag})
			crcs = append(crcs, rec.CRC32C)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for len(parts) < l.Parts() {
		missing = append(missing, strconv.Itoa(len(parts)+1))
		parts = append(parts, blob.Part{})
	}
	if len(missing) > 0 {
		if len(missing) > 10 {
			missing = append(missing[:10], "...")
		}
		return nil, nil, fmt.Errorf("%w: upload %s is missing parts %s", errs.ErrInvalid, id, strings.Join(missing, ", "))
	}
	return parts, crcs, nil
}

// validPartCRCs checks the form of the CRC-32C a Complete gives.
func validPartCRCs(id string, crcs []string) error {
	for i, c := range crcs {
		if _, err := hex.DecodeString(c); err != nil || len(c) != 2*crc32.Size {
			return fmt.Errorf("%w: upload %s: CRC-32C of part %d: %q is not 8 hex digits", errs.ErrInvalid, id, i+1, clip.Text(c))
		}
	}
	return nil
}

// ownHome reports whether a is pr's own home folder, the one place where
// the client's digest is taken for the server's (CompleteCheck); never
// for a share link's uploads, which act as the link's owner.
func ownHome(a account, pr iam.Principal) bool {
	return a.home != "" && homeOfTheirs(a.name, pr)
}

// inOwnHome is ownHome for the path p a file lands at.
func inOwnHome(p storepath.Path, pr iam.Principal) bool {
	segs := p.Segments()
	return len(segs) >= 3 && segs[0] == homesName && homeOfTheirs(segs[1], pr)
}

// homeOfTheirs reports whether /home/name is pr's own.
func homeOfTheirs(name string, pr iam.Principal) bool {
	return pr.Name != "" && name == pr.Name && pr.Via != iam.ViaShare
}

// checkPartCRCs compares the CRC-32C of the parts stored (have) with the
// client's (want; nil: nothing to check). A part stored before CRCs were
// kept has none, and cannot pass.
func checkPartCRCs(id string, have, want []string) error {
	if want == nil {
		return nil
	}
	if len(want) != len(have) {
		return fmt.Errorf("%w: upload %s has %d parts, the Complete names %d CRC-32C", errs.ErrInvalid, id, len(have), len(want))
	}
	var wrong []string
	for i, w := range want {
		if !strings.EqualFold(w, have[i]) || have[i] == "" {
			wrong = append(wrong, strconv.Itoa(i+1))
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	if len(wrong) > 10 {
		wrong = append(wrong[:10], "...")
	}
	return fmt.Errorf("%w: upload %s: parts %s hold other bytes than the client read (CRC-32C); send them again", errs.ErrDigestMismatch, id, strings.Join(wrong, ", "))
}

// dropSession takes a session that is not being completed away from
// everyone else (by deleting its item at the version read) and then
// discards what it stored. It returns errs.ErrConflict if it lost the session to
// a Complete, another Abort or the collector.
func (b *Backend) dropSession(ctx context.Context, id string, s sessionRec, sit meta.Item) error {
	if b.busy(s) {
		return fmt.Errorf("upload %s: %w: a Complete is in progress", id, errs.ErrConflict)
	}
	if err := b.closeSession(ctx, s, sit, sit.Version); err != nil {
		if record.IsConflict(err) {
			return fmt.Errorf("upload %s: %w: completed or aborted meanwhile", id, errs.ErrConflict)
		}
		return errs.FromStore("abort upload", err)
	}
	if err := b.blobs.Abort(ctx, s.Blob, s.UploadID); err != nil {
		b.log.Warn("abort blob upload", "upload", id, "err", err)
	}
	// A Complete that died after joining left the object; it was never
	// committed (no blob record), and now nothing ever will be.
	if _, err := b.meta.Get(ctx, blobPK(s.Blob), skBlob); record.IsNotFound(err) {
		b.discardBlob(s.Blob)
	}
	b.endSession(ctx, id, s)
	b.dropHasher(id)
	return nil
}

// joinParts completes the blob store's multipart upload, tolerating one that
// an earlier, interrupted Complete already finished.
func (b *Backend) joinParts(ctx context.Context, s sessionRec, parts []blob.Part) error {
	l := crypto.Layout{Size: s.Size, PartSize: s.PartSize}
	var err error
	if len(parts) == 0 {
		err = b.blobs.Put(ctx, s.Blob, bytes.NewReader(nil), 0)
	} else {
		err = b.blobs.Complete(ctx, s.Blob, s.UploadID, parts)
	}
	if errors.Is(err, blob.ErrNotFound) {
		if info, serr := b.blobs.Stat(ctx, s.Blob); serr == nil && info.Size == l.SealedSize() {
			return nil
		}
	}
	if errors.Is(err, blob.ErrInvalidPart) {
		return fmt.Errorf("%w: stored parts do not match their records, send them again: %w", errs.ErrConflict, err)
	}
	if err != nil {
		return errs.FromStore("join parts", err)
	}
	return nil
}

// pipeHash feeds everything r yields into h. Reading (decrypting) and
// hashing run in two goroutines, so that on two cores this costs about the
// time of the slower of the two, not their sum.
func pipeHash(h hash.Hash, r io.Reader) error {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.CopyBuffer(pw, r, make([]byte, 1<<20))
		pw.CloseWithError(err)
	}()
	_, err := io.CopyBuffer(h, pr, make([]byte, 1<<20))
	pr.CloseWithError(err) // stops the reading goroutine if hashing failed
	if err != nil {
		if errors.Is(err, crypto.ErrTampered) {
			return fmt.Errorf("%w: %w", errs.ErrIntegrity, err)
		}
		return fmt.Errorf("verify stored upload: %w", err)
	}
	return nil
}

// AbortUpload ends a session of owner ("" for pr's own) and discards its
// parts.
//
// The sessions of others that reserve in owner's home (ListUploads,
// Upload.User) may be aborted so too, as a bucket's owner may abort a
// multipart upload someone else started in it: the space is theirs.
func (b *Backend) AbortUpload(ctx context.Context, pr iam.Principal, owner, id string) error {
	s, sit, err := b.session(ctx, pr, owner, id)
	if errors.Is(err, errs.ErrNotFound) {
		// Authorized by session (strata:ManageUploads on the owner's).
		var ownerID string
		if ownerID, _, err = b.owner(ctx, pr, owner); err == nil {
			s, sit, _, err = b.guestSessionIn(ctx, ownerID, id)
		}
	}
	if err != nil {
		return err
	}
	return b.dropSession(ctx, id, s, sit)
}

// endSession removes a session's items. Failures are left to the collector,
// which finds the session through its index item, removed last.
func (b *Backend) endSession(ctx context.Context, id string, s sessionRec) {
	var err error
	for err == nil {
		var pg meta.Page
		pg, err = b.meta.Query(ctx, uploadPK(id), meta.QueryOpts{Limit: meta.MaxTxOps})
		if err != nil || len(pg.Items) == 0 {
			break
		}
		ops := make([]meta.Op, 0, len(pg.Items))
		for _, it := range pg.Items {
			ops = append(ops, meta.Delete(it.PK, it.SK, meta.NoCond))
		}
		err = b.meta.Transact(ctx, ops)
	}
	if err == nil {
		err = b.removeSessionIndex(ctx, id, s.UserID, s.HomeOwner)
	}
	if err != nil {
		b.log.Warn("clean up upload session", "upload", id, "err", err)
	}
}

// closeSession deletes the session item at version ver and gives back
// what the session reserved, in one transaction.
func (b *Backend) closeSession(ctx context.Context, s sessionRec, sit meta.Item, ver int64) error {
	var use charges
	use.reserve(account{home: s.Home}, -s.Reserved)
	return use.commit(ctx, b.meta, []meta.Op{meta.Delete(sit.PK, sit.SK, meta.AtVersion(ver))})
}
