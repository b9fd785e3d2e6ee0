// Package blob defines the byte store that holds sealed (encrypted) blobs.
//
// A blob.Store never sees a user path or a plaintext byte: keys are random IDs
// chosen by the core and content is already sealed. Implementations live in
// sub-packages (local/, and later s3/) and must all pass
// backendtest.RunBlob.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Errors returned by every Store. Implementations wrap them (fmt.Errorf("...: %w",
// blob.ErrNotFound)), callers test with errors.Is.
var (
	// ErrNotFound: the key (or upload) does not exist.
	ErrNotFound = errors.New("blob: not found")
	// ErrInvalidKey: the key fails ValidKey.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrInvalidRange: offset or length outside the object.
	ErrInvalidRange = errors.New("blob: invalid range")
	// ErrSizeMismatch: the reader gave more or fewer bytes than the size announced.
	ErrSizeMismatch = errors.New("blob: size mismatch")
	// ErrNoSpace: the store is full (ENOSPC, EDQUOT, or the engine's equivalent).
	ErrNoSpace = errors.New("blob: no space left")
	// ErrInvalidPart: a part number outside [1, MaxParts] or a Complete that names
	// parts that were not uploaded.
	ErrInvalidPart = errors.New("blob: invalid part")
	// ErrArchived: the object is in an archive storage class and has no
	// readable restored copy; Get fails with it until a Restore completes.
	ErrArchived = errors.New("blob: archived")
	// ErrUnavailable: the engine is throttling or unreachable; the
	// operation may be retried. Drivers wrap it (alongside the engine's own
	// error) when a request still failed after the client's retries because
	// the engine refused it for load (throttling, 503) or the network failed
	// (connection refused or reset, a response cut short, a timeout). A
	// caller's own cancellation or deadline is never ErrUnavailable. A
	// write that fails with it may or may not have been applied, as with any
	// failed write.
	ErrUnavailable = errors.New("blob: engine unavailable")
)

// MaxParts is the highest part number a multipart upload accepts (S3's limit).
const MaxParts = 10000

// MinPartSize is the smallest size of every part but the last of a
// multipart upload (S3's limit). Every driver enforces it at Complete, so
// that a core that breaks it fails on every engine, not only on S3.
const MinPartSize = 5 << 20

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// ArchiveClass is a cold storage class.
type ArchiveClass string

// Archive classes, named as S3 names them. GLACIER_IR (Glacier Instant
// Retrieval) is cold and cheap to keep but reads at once: it needs no
// restore.
const (
	ClassGlacier     ArchiveClass = "GLACIER"
	ClassDeepArchive ArchiveClass = "DEEP_ARCHIVE"
	ClassGlacierIR   ArchiveClass = "GLACIER_IR"
)

// ArchiveClasses are the classes Archive accepts.
var ArchiveClasses = []ArchiveClass{ClassGlacier, ClassDeepArchive, ClassGlacierIR}

// Valid reports whether c is one of ArchiveClasses.
func (c ArchiveClass) Valid() bool {
	return c == ClassGlacier || c == ClassDeepArchive || c == ClassGlacierIR
}

// NeedsRestore reports whether an object in c must be restored before it
// can be read.
func (c ArchiveClass) NeedsRestore() bool {
	return c == ClassGlacier || c == ClassDeepArchive
}

// Offers reports whether a restore at tier is offered for c: Deep Archive
// has no Expedited tier, and a class that needs no restore offers none.
func (c ArchiveClass) Offers(t RestoreTier) bool {
	return c.NeedsRestore() && t.Valid() && !(c == ClassDeepArchive && t == TierExpedited)
}

// MinRestoreDays and MaxRestoreDays bound the days a restored copy is kept
// for (Strata's bounds; S3 accepts more).
const (
	MinRestoreDays = 1
	MaxRestoreDays = 30
)

// RestoreTier is how fast a restore should be (and what it costs).
type RestoreTier string

// Restore tiers, named as S3 names them. DEEP_ARCHIVE has no Expedited.
const (
	TierExpedited RestoreTier = "Expedited"
	TierStandard  RestoreTier = "Standard"
	TierBulk      RestoreTier = "Bulk"
)

// Valid reports whether t is one of the three tiers.
func (t RestoreTier) Valid() bool {
	return t == TierExpedited || t == TierStandard || t == TierBulk
}

// ArchiveState is where an object stands in the archive tier.
type ArchiveState struct {
	// Class is the archive class, or "" for an object in the hot tier. An
	// object in a class that needs no restore (GLACIER_IR) is readable
	// and never restoring.
	Class ArchiveClass
	// Restoring: a restore was requested and has not completed.
	Restoring bool
	// RestoredUntil, when not zero, is when the readable restored copy of
	// an archived object expires.
	RestoredUntil time.Time
}

// Archiver is the optional capability of a Store with a cold tier: S3's
// Glacier classes, or a cold directory on another disk. Callers detect it
// with a type assertion.
type Archiver interface {
	// Archive moves the object at key to class. Archiving an object that
	// is already in class is not an error. ErrNotFound if missing.
	Archive(ctx context.Context, key string, class ArchiveClass) error

	// Restore asks for a readable copy of an archived object for days
	// days (MinRestoreDays to MaxRestoreDays), at tier. It returns as soon
	// as the request is taken; the copy may take hours to appear (poll
	// ArchiveState, never assume). Restoring an object that is being
	// restored (the first request stands) or has a restored copy (which
	// then lasts days from now), or an object that needs no restore (hot,
	// or in GLACIER_IR), is not an error. A tier the class does not offer
	// (Expedited for DEEP_ARCHIVE) is an error.
	Restore(ctx context.Context, key string, days int, tier RestoreTier) error

	// ArchiveState reports the object's state. ErrNotFound if missing.
	ArchiveState(ctx context.Context, key string) (ArchiveState, error)
}

// PendingUpload is a multipart upload that was begun and neither completed
// nor aborted.
type PendingUpload struct {
	Key      string
	UploadID string
	// Started is when the upload began (or, on stores that cannot tell,
	// when it last changed).
	Started time.Time
}

// UploadLister is the optional capability of listing pending multipart
// uploads, so that the collector can abort the ones no session knows about
// (a crash between Begin and recording the session).
type UploadLister interface {
	ListUploads(ctx context.Context, fn func(PendingUpload) error) error
}

// Sweeper is an optional capability of a Store that keeps local leftovers
// (temporary files, uploads a crash left behind): the collector calls Sweep
// with its grace period, and the store removes what is older.
type Sweeper interface {
	Sweep(ctx context.Context, olderThan time.Duration) error
}

// Part identifies an uploaded part: its number and the engine's tag for it
// (an S3 ETag; on local disk the size and digest). Complete needs them all.
type Part struct {
	Number int    `json:"n"`
	Size   int64  `json:"size"`
	Tag    string `json:"tag"`
}

// Store is an atomic object store addressed by opaque keys.
//
// Atomicity: a key is either absent or holds a whole object, never a part
// of one. A Put or Complete that fails, is cancelled, or is interrupted by a
// crash leaves the key as it was. Once Put, Complete or Delete returns nil
// the change is durable. The core writes each key once; drivers may make
// replacing an existing key non-atomic (briefly absent, never partial).
//
// Errors wrap the sentinels below; a cancelled ctx gives an error wrapping
// ctx.Err(), and a reader returned by Get fails once its ctx is done. Any
// method may fail with ErrUnavailable when the engine throttles or cannot be
// reached: the caller may retry the operation later (for Put and PutPart,
// with the content again).
type Store interface {
	// Put stores the bytes of r under key, replacing any object there. If size
	// is >= 0, r must yield exactly size bytes, otherwise Put fails with
	// ErrSizeMismatch and stores nothing; size -1 reads r to EOF. A cancelled
	// ctx stops the write and stores nothing.
	Put(ctx context.Context, key string, r io.Reader, size int64) error

	// Get returns a reader of length bytes starting at offset. length -1 reads
	// to the end. offset == size with length 0 or -1 is valid and reads nothing;
	// offset > size, or offset+length > size, is ErrInvalidRange. A missing key
	// is ErrNotFound; an archived object without a restored copy is
	// ErrArchived. The reader must be closed.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat describes the object at key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the object at key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// List calls fn for every object whose key starts with prefix, in no
	// particular order, until fn returns an error (which List returns).
	// Objects written concurrently may or may not be seen. Pending multipart
	// uploads are not objects.
	List(ctx context.Context, prefix string, fn func(Info) error) error

	// Begin starts a multipart upload that will become key on Complete and
	// returns its upload ID. Nothing is visible under key until then.
	Begin(ctx context.Context, key string) (uploadID string, err error)

	// PutPart stores part number n (1 <= n <= MaxParts) of an upload, replacing
	// an earlier part n. size must be >= 0 and r must yield exactly size
	// bytes (ErrSizeMismatch otherwise). Distinct parts may be sent in any
	// order and in parallel. A stored part is durable. An unknown upload is
	// ErrNotFound.
	PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (Part, error)

	// Complete joins the given parts, in the order given (ascending part
	// numbers), into the object at key and ends the upload. Parts that were
	// uploaded but not named are discarded. An empty list, numbers that do
	// not ascend, a part that does not match its uploaded tag, or a part but
	// the last smaller than MinPartSize is ErrInvalidPart. An unknown upload
	// is ErrNotFound. When Complete fails the upload stays open, so the
	// caller may fix the list and try again.
	Complete(ctx context.Context, key, uploadID string, parts []Part) error

	// Abort ends an upload and discards its parts. Aborting an unknown upload
	// is not an error.
	Abort(ctx context.Context, key, uploadID string) error
}

// ValidKey reports whether key is a well-formed object key: 1 to 128 bytes
// of [a-z0-9._-], not starting with a dot. Keys are chosen by the core (random
// IDs), never by users; drivers still check them so that no key can ever
// escape the store. Lowercase only, so that a case-insensitive filesystem
// cannot merge two keys; 128 bytes, so that a key is always a valid file name.
func ValidKey(key string) bool {
	if key == "" || len(key) > 128 || key[0] == '.' {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c == '.' || c == '-' || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z')) {
			return false
		}
	}
	return true
}

// CheckRestore checks the arguments of Archiver.Restore other than the
// key, for drivers.
func CheckRestore(days int, tier RestoreTier) error {
	if days < MinRestoreDays || days > MaxRestoreDays {
		return fmt.Errorf("restore for %d days: want %d to %d", days, MinRestoreDays, MaxRestoreDays)
	}
	if !tier.Valid() {
		return fmt.Errorf("unknown restore tier %q", tier)
	}
	return nil
}

// ParseClass reads an archive class as users write it: glacier,
// deep-archive or glacier-ir (S3's names, any case, are accepted too).
func ParseClass(name string) (ArchiveClass, error) {
	c := ArchiveClass(strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	if !c.Valid() {
		return "", fmt.Errorf("unknown archive class %q: want glacier, deep-archive or glacier-ir", name)
	}
	return c, nil
}

// Name is the class as users write it (deep-archive).
func (c ArchiveClass) Name() string {
	return strings.ToLower(strings.ReplaceAll(string(c), "_", "-"))
}

// ParseTier reads a restore tier as users write it: expedited, standard
// or bulk, any case.
func ParseTier(name string) (RestoreTier, error) {
	for _, t := range []RestoreTier{TierExpedited, TierStandard, TierBulk} {
		if strings.EqualFold(name, string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown restore tier %q: want expedited, standard or bulk", name)
}

// Name is the tier as users write it (standard).
func (t RestoreTier) Name() string { return strings.ToLower(string(t)) }
