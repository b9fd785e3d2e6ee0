package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// The archive tier. A file's content (its current version's blob) can be
// moved to an archive class of the blob store (blob.Archiver) and restored
// from it for some days. Where a blob stands is kept in its blob item (the
// truth reads check, in the item they read anyway) and mirrored in the
// entry of the file, so that a listing shows every file's state without a
// request to the blob store. A restore is a record in the metadata store
// (restorejobs.go), worked on by whichever server claims it.
//
// States, as clients see them:
//
//	hot        no archive class
//	archived   in an archive class (GLACIER_IR: archived and readable)
//	restoring  a restore was asked for and its copy is not there yet
//	restored   a readable copy exists until a time; archived again after
const (
	StateHot       = "hot"
	StateArchived  = "archived"
	StateRestoring = "restoring"
	StateRestored  = "restored"
)

// archRec is a blob's place in the archive tier, in its blob item and in
// the entries of the files whose current version it is.
type archRec struct {
	Class blob.ArchiveClass `json:"c"`
	Since int64             `json:"s"`
	// A restore: asked for at Requested, at Tier, for Days; its copy
	// expected by Expected. Until is when the restored copy expires, once
	// it exists.
	Tier      blob.RestoreTier `json:"t,omitempty"`
	Days      int              `json:"d,omitempty"`
	Requested int64            `json:"rq,omitempty"`
	Expected  int64            `json:"x,omitempty"`
	Until     int64            `json:"u,omitempty"`
}

// state is the client's word for where a stands at now (nil is hot).
func (a *archRec) state(now time.Time) string {
	switch {
	case a == nil:
		return StateHot
	case !a.Class.NeedsRestore():
		return StateArchived
	case a.Until > now.UnixNano():
		return StateRestored
	case a.Requested != 0 && a.Until == 0:
		return StateRestoring
	}
	return StateArchived
}

// readable reports whether content in a can be read at now.
func (a *archRec) readable(now time.Time) bool {
	return a == nil || !a.Class.NeedsRestore() || a.Until > now.UnixNano()
}

// restoring reports a restore in progress.
func (a *archRec) restoring() bool {
	return a != nil && a.Requested != 0 && a.Until == 0
}

// ArchiveInfo is a file's place in the archive tier, for clients.
type ArchiveInfo struct {
	// Class is glacier, deep-archive or glacier-ir.
	Class string    `json:"class"`
	Since time.Time `json:"since"`
	// Tier, Requested, Expected: the restore in progress or last done.
	Tier      string    `json:"tier,omitempty"`
	Days      int       `json:"days,omitempty"`
	Requested time.Time `json:"requested,omitzero"`
	Expected  time.Time `json:"expected,omitzero"`
	// Until is when the restored copy expires.
	Until time.Time `json:"until,omitzero"`
}

func (a *archRec) public() *ArchiveInfo {
	if a == nil {
		return nil
	}
	i := &ArchiveInfo{Class: a.Class.Name(), Since: record.FromNanos(a.Since), Days: a.Days,
		Requested: record.FromNanos(a.Requested), Expected: record.FromNanos(a.Expected), Until: record.FromNanos(a.Until)}
	if a.Tier != "" {
		i.Tier = a.Tier.Name()
	}
	return i
}

func (a *archRec) clone() *archRec {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

func sameArch(a, b *archRec) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Restore times per class and tier, from AWS's documentation: the first
// look after the request, how often to look again (doubling up to four
// times that), and when the copy is expected at the latest.
type restoreTiming struct {
	first, every, expect time.Duration
}

var restoreTimings = map[blob.ArchiveClass]map[blob.RestoreTier]restoreTiming{
	blob.ClassGlacier: {
		blob.TierExpedited: {first: time.Minute, every: time.Minute, expect: 5 * time.Minute},
		blob.TierStandard:  {first: 3 * time.Hour, every: 15 * time.Minute, expect: 5 * time.Hour},
		blob.TierBulk:      {first: 5 * time.Hour, every: 30 * time.Minute, expect: 12 * time.Hour},
	},
	blob.ClassDeepArchive: {
		blob.TierStandard: {first: 9 * time.Hour, every: 30 * time.Minute, expect: 12 * time.Hour},
		blob.TierBulk:     {first: 24 * time.Hour, every: time.Hour, expect: 48 * time.Hour},
	},
}

// RestoreDelayer is the optional capability of a blob store whose
// restores take a known time (the embedded cold tier): the poller then
// looks when the copy is due rather than by AWS's times.
type RestoreDelayer interface {
	RestoreDelay(class blob.ArchiveClass, tier blob.RestoreTier) time.Duration
}

func (b *Backend) restoreTiming(class blob.ArchiveClass, tier blob.RestoreTier) restoreTiming {
	if d, ok := b.blobs.(RestoreDelayer); ok {
		delay := d.RestoreDelay(class, tier)
		return restoreTiming{first: delay, every: max(delay/10, 10*time.Second), expect: delay}
	}
	return restoreTimings[class][tier]
}

// archiver is the blob store's archive tier, or an error saying there is
// none.
func (b *Backend) archiver() (blob.Archiver, error) {
	a, ok := b.blobs.(blob.Archiver)
	if !ok {
		return nil, fmt.Errorf("%w: this store's blob engine has no archive tier", errs.ErrInvalid)
	}
	return a, nil
}

// archivedError is the problem of reading content that is archived.
func archivedError(what string, a *archRec) error {
	if a.restoring() {
		return fmt.Errorf("%s: %w in %s: a restore is in progress, expected by %s; read it once restored (strata restore --wait)",
			what, errs.ErrArchived, a.Class.Name(), record.FromNanos(a.Expected).UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%s: %w in %s since %s: restore it first (strata restore %s, or POST /v1/restore/...) and read it once restored",
		what, errs.ErrArchived, a.Class.Name(), record.FromNanos(a.Since).UTC().Format(time.DateOnly), quoteArg(what))
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " '\"\\$`") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// blobArchError maps the blob store's errors of archive operations.
func blobArchError(op string, err error) error {
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return fmt.Errorf("%s: %w: the content is missing: %w", op, errs.ErrIntegrity, err)
	case errors.Is(err, blob.ErrArchived):
		return fmt.Errorf("%s: %w: %w", op, errs.ErrArchived, err)
	}
	return errs.FromStore(op, err)
}

// ArchiveOptions select how Archive archives.
type ArchiveOptions struct {
	Class blob.ArchiveClass
}

// Archive moves the content of the file at p to an archive class. A file
// in that class already is left as it is; one being restored, or with an
// upload of pr's to its path in progress, is refused (errs.ErrConflict).
// Archiving to another class a file that needs a restore to be read needs
// the restore first (S3 copies only readable objects).
func (b *Backend) Archive(ctx context.Context, pr iam.Principal, p storepath.Path, o ArchiveOptions) (Entry, error) {
	if err := b.allowPath(ctx, pr, iam.ArchiveFile, p); err != nil {
		return Entry{}, err
	}
	if !o.Class.Valid() {
		return Entry{}, fmt.Errorf("%w: unknown archive class %q: want glacier, deep-archive or glacier-ir", errs.ErrInvalid, o.Class)
	}
	if _, err := b.archiver(); err != nil {
		return Entry{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Entry{}, err
	}
	if l.rec.Kind == KindDir {
		return Entry{}, fmt.Errorf("%s: %w: archive a folder's files with the recursive option", p, errs.ErrIsDir)
	}
	if err := b.noUploadTo(ctx, pr, p); err != nil {
		return Entry{}, err
	}
	return b.archiveFile(ctx, p, l, o.Class)
}

// noUploadTo refuses while pr has an upload session open on p: the file's
// next version would come out hot.
func (b *Backend) noUploadTo(ctx context.Context, pr iam.Principal, p storepath.Path) error {
	return b.eachItem(ctx, userPK(pr.UserID), userUpPrefix, func(it meta.Item) error {
		id := strings.TrimPrefix(it.SK, userUpPrefix)
		s, _, err := record.Get[sessionRec](ctx, b.meta, uploadPK(id), skSession)
		if record.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if s.Path == p.String() && s.Expires > b.now().UnixNano() {
			return fmt.Errorf("%s: %w: upload %s to it is in progress; archive it once the upload completes or is aborted", p, errs.ErrConflict, id)
		}
		return nil
	})
}

// archiveFile archives the file l resolves to.
func (b *Backend) archiveFile(ctx context.Context, p storepath.Path, l loc, class blob.ArchiveClass) (Entry, error) {
	a, err := b.archiver()
	if err != nil {
		return Entry{}, err
	}
	return record.Optimistic(ctx, p.String(), func() (Entry, error) {
		cur, bit, err := b.blobArch(ctx, l.rec.Blob)
		if err != nil {
			return Entry{}, err
		}
		switch {
		case cur != nil && cur.Class == class:
			if !sameArch(l.rec.Arch, cur) {
				return b.mirrorArch(ctx, p, l, cur)
			}
			return b.entry(p, l.rec), nil
		case cur.restoring():
			return Entry{}, fmt.Errorf("%s: %w: it is being restored (expected by %s); archive it again once restored",
				p, errs.ErrConflict, record.FromNanos(cur.Expected).UTC().Format(time.RFC3339))
		case cur != nil && !cur.readable(b.now()):
			return Entry{}, archivedError(p.String(), cur)
		}
		extra, err := b.storeInline(ctx, l.rec.Blob, bit)
		if err != nil {
			return Entry{}, err
		}
		if err := a.Archive(ctx, l.rec.Blob, class); err != nil {
			if extra != nil {
				b.discardBlob(l.rec.Blob) // the record keeps the bytes
			}
			return Entry{}, blobArchError("archive", err)
		}
		next := &archRec{Class: class, Since: record.Nanos(b.now())}
		e, err := b.commitArch(ctx, p, l, bit, next, extra)
		if record.IsConflict(err) {
			// Something changed under us: read the file again.
			if nl, lerr := b.lookupExisting(ctx, p); lerr == nil && nl.rec.Kind == KindFile {
				l = nl
			} else if lerr != nil {
				return Entry{}, lerr
			}
		}
		return e, err
	})
}

// blobArch reads a blob's archive state and its item.
func (b *Backend) blobArch(ctx context.Context, blobID string) (*archRec, meta.Item, error) {
	br, it, err := record.Get[blobRec](ctx, b.meta, blobPK(blobID), skBlob)
	if err != nil {
		return nil, it, fmt.Errorf("blob %s: %w", blobID, err)
	}
	return br.Arch, it, nil
}

// storeInline puts a blob kept inline (its item read as it) into the blob
// store, to be archived: what the blob's record must drop with it is the
// returned ops (blobArchOp drops its bytes). If the record is never
// written (a crash, a lost race), the record still holds the bytes and the
// object goes with the blob: releaseBlob deletes both, and the collector
// an object whose record is gone.
func (b *Backend) storeInline(ctx context.Context, blobID string, it meta.Item) ([]meta.Op, error) {
	br, err := record.Decode[blobRec](it)
	if err != nil || br.Inline == nil {
		return nil, err
	}
	if err := b.blobs.Put(ctx, blobID, bytes.NewReader(br.Inline), int64(len(br.Inline))); err != nil {
		return nil, errs.FromStore("store content", err)
	}
	pk, sk := inlineItemKey(blobID)
	return []meta.Op{meta.Delete(pk, sk, meta.NoCond)}, nil
}

// blobArchOp is the write of a blob item (read as it) with the archive
// state a, its counter kept. A blob in the archive tier is in the blob
// store: bytes kept inline are dropped (storeInline put them there).
func blobArchOp(it meta.Item, a *archRec) (meta.Op, error) {
	br, err := record.Decode[blobRec](it)
	if err != nil {
		return meta.Op{}, err
	}
	br.Arch = a
	if a != nil {
		br.Inline = nil
	}
	nit := record.Item(it.PK, it.SK, br)
	nit.N, nit.ExpiresAt = it.N, it.ExpiresAt
	return meta.Put(nit, meta.AtVersion(it.Version)), nil
}

// commitArch records a as the state of the blob (its item read as bit)
// and of the file l resolves to, with extra, in one transaction.
func (b *Backend) commitArch(ctx context.Context, p storepath.Path, l loc, bit meta.Item, a *archRec, extra []meta.Op) (Entry, error) {
	bop, err := blobArchOp(bit, a)
	if err != nil {
		return Entry{}, err
	}
	rec := l.rec
	rec.Arch = a.clone()
	ops := append([]meta.Op{bop, meta.Put(record.Item(dirPK(l.parentID), entrySK(p.Name()), rec), meta.AtVersion(l.ver))}, extra...)
	ops = append(ops, guard(l)...)
	if err := b.meta.Transact(ctx, ops); err != nil {
		return Entry{}, errs.FromStore("record archive state", err)
	}
	return b.entry(p, rec), nil
}

// mirrorArch brings the entry l resolves to in line with its blob's state
// a (a copy made before, or a restore that did not list it).
func (b *Backend) mirrorArch(ctx context.Context, p storepath.Path, l loc, a *archRec) (Entry, error) {
	rec := l.rec
	rec.Arch = a.clone()
	_, err := b.meta.Put(ctx, record.Item(dirPK(l.parentID), entrySK(p.Name()), rec), meta.AtVersion(l.ver))
	if err != nil && !record.IsConflict(err) {
		return Entry{}, err
	}
	return b.entry(p, rec), nil
}

// RestoreOptions select how Restore restores.
type RestoreOptions struct {
	Tier blob.RestoreTier
	// Days the restored copy is kept, MinRestoreDays to MaxRestoreDays.
	Days int
}

// Check reports options out of range as errs.ErrInvalid.
func (o RestoreOptions) Check() error {
	if !o.Tier.Valid() {
		return fmt.Errorf("%w: unknown restore tier %q: want expedited, standard or bulk", errs.ErrInvalid, o.Tier)
	}
	if o.Days < blob.MinRestoreDays || o.Days > blob.MaxRestoreDays {
		return fmt.Errorf("%w: restore for %d days: want %d to %d", errs.ErrInvalid, o.Days, blob.MinRestoreDays, blob.MaxRestoreDays)
	}
	return nil
}

// RestoreResult is what Restore did.
type RestoreResult struct {
	Entry Entry `json:"entry"`
	// Started: a restore was asked for (or a restored copy's days
	// extended); otherwise Note says why nothing was needed.
	Started bool   `json:"started"`
	Note    string `json:"note,omitempty"`
}

// Restore asks for a readable copy of the archived file at p for o.Days.
// The request is recorded and the restore poller carries it out; a file
// that needs no restore (hot, in glacier-ir) or is being restored already
// is left as it is, with a note that says so.
func (b *Backend) Restore(ctx context.Context, pr iam.Principal, p storepath.Path, o RestoreOptions) (RestoreResult, error) {
	if err := b.allowPath(ctx, pr, iam.RestoreFile, p); err != nil {
		return RestoreResult{}, err
	}
	if err := o.Check(); err != nil {
		return RestoreResult{}, err
	}
	if _, err := b.archiver(); err != nil {
		return RestoreResult{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return RestoreResult{}, err
	}
	if l.rec.Kind == KindDir {
		return RestoreResult{}, fmt.Errorf("%s: %w: restore a folder's files with the recursive option", p, errs.ErrIsDir)
	}
	res, err := b.restoreFile(ctx, pr, p, l, o)
	if err == nil && res.Started {
		b.kickRestores()
	}
	return res, err
}

func (b *Backend) restoreFile(ctx context.Context, pr iam.Principal, p storepath.Path, l loc, o RestoreOptions) (RestoreResult, error) {
	return record.Optimistic(ctx, p.String(), func() (RestoreResult, error) {
		cur, bit, err := b.blobArch(ctx, l.rec.Blob)
		if err != nil {
			return RestoreResult{}, err
		}
		note := func(n string) (RestoreResult, error) {
			e := b.entry(p, l.rec)
			if !sameArch(l.rec.Arch, cur) {
				if e, err = b.mirrorArch(ctx, p, l, cur); err != nil {
					return RestoreResult{}, err
				}
			}
			return RestoreResult{Entry: e, Note: n}, nil
		}
		switch {
		case cur == nil:
			return note("not archived: it reads as it is, nothing to restore")
		case !cur.Class.NeedsRestore():
			return note(cur.Class.Name() + " reads at once: nothing to restore")
		case !cur.Class.Offers(o.Tier):
			return RestoreResult{}, fmt.Errorf("%w: %s has no %s tier: use standard (within 12 hours) or bulk (within 48 hours)",
				errs.ErrInvalid, cur.Class.Name(), o.Tier.Name())
		case cur.restoring():
			return note(fmt.Sprintf("a restore is in progress already (%s, expected by %s)",
				cur.Tier.Name(), record.FromNanos(cur.Expected).UTC().Format(time.RFC3339)))
		}
		now := b.now()
		t := b.restoreTiming(cur.Class, o.Tier)
		next := cur.clone()
		next.Tier, next.Days, next.Requested, next.Expected = o.Tier, o.Days, record.Nanos(now), record.Nanos(now.Add(t.expect))
		if !cur.readable(now) {
			next.Until = 0 // restoring; a restored copy's days are extended without leaving "restored"
		}
		job := restoreJobRec{Class: cur.Class, Tier: o.Tier, Days: o.Days, OwnerID: pr.UserID,
			Requested: next.Requested, NextPoll: record.Nanos(now), Until: next.Until,
			Entries: []entryRef{{Dir: l.parentID, Name: p.Name(), File: l.rec.ID}}}
		// The entries an earlier request of the same content listed (a
		// copy's) still want its state.
		if old, _, err := record.Get[restoreJobRec](ctx, b.meta, pkRestores, l.rec.Blob); err == nil {
			for _, e := range old.Entries {
				if len(job.Entries) < maxRestoreEntries && e != job.Entries[0] {
					job.Entries = append(job.Entries, e)
				}
			}
		} else if !record.IsNotFound(err) {
			return RestoreResult{}, err
		}
		jit := record.Item(pkRestores, l.rec.Blob, job)
		e, err := b.commitArch(ctx, p, l, bit, next, []meta.Op{meta.Put(jit, meta.NoCond)})
		if record.IsConflict(err) {
			if nl, lerr := b.lookupExisting(ctx, p); lerr == nil && nl.rec.Kind == KindFile {
				l = nl
			} else if lerr != nil {
				return RestoreResult{}, lerr
			}
		}
		if err != nil {
			return RestoreResult{}, err
		}
		return RestoreResult{Entry: e, Started: true}, nil
	})
}

// syncArch is the archive state of the file l resolves to as its blob has
// it, mirrored into its entry if the entry lags (a copy of a file archived
// after the copy was made, a restore asked for through another path).
func (b *Backend) syncArch(ctx context.Context, p storepath.Path, l loc) (Entry, error) {
	cur, _, err := b.blobArch(ctx, l.rec.Blob)
	if err != nil {
		if record.IsNotFound(err) {
			return b.entry(p, l.rec), nil
		}
		return Entry{}, err
	}
	if sameArch(l.rec.Arch, cur) {
		return b.entry(p, l.rec), nil
	}
	return b.mirrorArch(ctx, p, l, cur)
}

// kickRestores asks for a run of the restore poller soon.
func (b *Backend) kickRestores() {
	if f := b.restoreKick; f != nil {
		f()
	}
}

// OnRestoreRequested sets what to call when a restore is asked for (the
// daemon kicks its restore poller).
func (b *Backend) OnRestoreRequested(f func()) { b.restoreKick = f }
