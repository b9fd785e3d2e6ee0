package backend

import (
	"fmt"
	"math"
	"time"

	"github.com/strata-storage/strata/backend/errs"
)

// The single-table data model (docs/architecture.md has the full table).
// Keys are built only here, so the layout lives in one place.
const (
	rootDirID = "root"

	skBlob    = "blob"
	skSession = "session"

	pkTreeLock = "tree"
	skTreeLock = "moves"
	pkUploads  = "uploads"
	pkPurge    = "purge"
	// pkTrashCuts lists the users whose emptied trash is still being
	// purged (trash.go).
	pkTrashCuts = "trashcuts"
	skTrashCut  = "cut"
	pkConfig    = "config"
	skCanary    = "canary"
	skRekey     = "rekey"

	entryPrefix   = "e#"
	versionPrefix = "v#"
	partPrefix    = "p#"
	trashPrefix   = "t#"
	userUpPrefix  = "up#"
	guestUpPrefix = "upg#"
)

func dirPK(id string) string     { return "dir#" + id }
func entrySK(name string) string { return entryPrefix + name }
func filePK(id string) string    { return "file#" + id }
func versionSK(seq int64) string { return fmt.Sprintf("%s%020d", versionPrefix, seq) }
func blobPK(id string) string    { return "blob#" + id }

// inlinePK is the partition that lists the blobs kept inline (in their
// record, blobRec.Inline) whose IDs start with prefix (two characters, as
// key rotation walks them); the item's sort key is the blob's ID.
func inlinePK(prefix string) string { return "inline#" + prefix }

func inlineItemKey(blobID string) (pk, sk string) { return inlinePK(blobID[:2]), blobID }
func userPK(id string) string                     { return "user#" + id }
func trashPK(userID string) string                { return "trash#" + userID }
func trashSK(id string) string                    { return trashPrefix + id }
func uploadPK(id string) string                   { return "upload#" + id }
func partSK(n int) string                         { return fmt.Sprintf("%s%05d", partPrefix, n) }
func userUploadSK(id string) string               { return userUpPrefix + id }

// guestUploadSK is the item at (user#<owner>, upg#<id>) of a session that
// reserves in the owner's home on someone else's behalf (a share's
// recipient, an admin), so that the owner can list and abort it where
// their own sessions are (up#).
func guestUploadSK(id string) string { return guestUpPrefix + id }

// Kind of an entry.
type Kind string

// Entry kinds.
const (
	KindFile Kind = "file"
	KindDir  Kind = "dir"
)

// entryRec is the item at (dir#<parent>, e#<name>). For a file it repeats the
// current version's facts so that a listing is one Query.
type entryRec struct {
	ID      string `json:"id"`
	Kind    Kind   `json:"k"`
	Created int64  `json:"c"`           // unix nanoseconds
	MTime   int64  `json:"m"`           // unix nanoseconds
	Size    int64  `json:"s,omitempty"` // files
	SHA256  string `json:"h,omitempty"` // files, hex
	Blob    string `json:"b,omitempty"` // files: current version's blob
	Seq     int64  `json:"v,omitempty"` // files: current version number
	First   int64  `json:"f,omitempty"` // files: oldest version kept
	// digestWord: whose word SHA256 is; it follows the content (copies,
	// moves, restored versions).
	digestWord
	// Quota is a home folder's limits (quota.go), nil for none.
	Quota *Quota `json:"q,omitempty"`
	// Arch mirrors the archive state of the current version's blob
	// (archive.go), nil for hot.
	Arch *archRec `json:"a,omitempty"`
}

// versionRec is the item at (file#<id>, v#<seq>).
type versionRec struct {
	Blob       string `json:"b"`
	Size       int64  `json:"s"`
	SHA256     string `json:"h"`
	Author     string `json:"a"`            // user name, as it was
	AuthorID   string `json:"ai,omitempty"` // user ID (versions written before it was kept have none)
	digestWord        // whose word SHA256 is (entryRec)
	Time       int64  `json:"t"` // unix nanoseconds, when written
	MTime      int64  `json:"m"`
}

// digestWord says whose word a file's SHA-256 is: the server's (both
// empty), or the uploader's client's (a clientDigest session), whose user
// ID is By. Files of clientDigest sessions completed before By was kept
// have ClientDigest without By: some client's word, not known whose.
type digestWord struct {
	ClientDigest bool   `json:"cd,omitempty"`
	By           string `json:"cdb,omitempty"`
}

// clientWord is the digestWord of a file whose SHA-256 the client of the
// user with ID userID gave.
func clientWord(userID string) digestWord { return digestWord{ClientDigest: true, By: userID} }

// blobRec is the item at (blob#<id>, blob). Its counter N is the number of
// versions that reference the blob; the collector removes blobs at zero.
type blobRec struct {
	Size     int64  `json:"s"`
	PartSize int64  `json:"ps"`
	Wrapped  []byte `json:"wk"`
	KeyID    string `json:"kid"`
	Created  int64  `json:"c"`
	// Arch is the blob's place in the archive tier, nil for hot.
	Arch *archRec `json:"a,omitempty"`
	// Inline is the sealed blob itself when it is kept in its record
	// rather than in the blob store (Config.InlineMax); it is listed in
	// inlinePK then. An archived blob is never inline.
	Inline []byte `json:"in,omitempty"`
}

// trashRec is the item at (trash#<userID>, t#<trashID>): an entry taken out of
// the tree with where it was.
type trashRec struct {
	Path     string   `json:"p"`
	ParentID string   `json:"pid"`
	Name     string   `json:"n"`
	Entry    entryRec `json:"e"`
	Deleted  int64    `json:"d"`
	// Home is the home folder whose usage the item counts against
	// ("": nobody). Counted is false for an item trashed before quotas,
	// which counts against nobody.
	Home    string `json:"hm,omitempty"`
	Counted bool   `json:"ct,omitempty"`
}

// purgeRec is the item at (purge, <id>): deletion work that outlives a crash.
type purgeRec struct {
	Kind Kind   `json:"k"`
	ID   string `json:"id"` // file or dir ID
	// Home is the home folder whose usage what is purged counted against
	// ("": nobody).
	Home string `json:"hm,omitempty"`
}

// sessionRec is the item at (upload#<id>, session).
type sessionRec struct {
	UserID   string `json:"u"`
	Path     string `json:"p"`
	Size     int64  `json:"s"`
	PartSize int64  `json:"ps"`
	Blob     string `json:"b"`
	Wrapped  []byte `json:"wk"`
	KeyID    string `json:"kid"`
	UploadID string `json:"bu"` // the blob store's multipart upload ID
	SHA256   string `json:"h,omitempty"`
	// MTime is the file time the client gave, nil for the time of
	// Complete (a pointer: the epoch is 0, and a time).
	MTime       *int64 `json:"m,omitempty"`
	Fingerprint string `json:"fp,omitempty"`
	// ClientDigest: the client gives the file's SHA-256 and its parts'
	// CRC-32C at Complete, and the server does not hash the file itself
	// (UploadOptions.ClientDigest).
	ClientDigest bool  `json:"cd,omitempty"`
	Created      int64 `json:"c"`
	Expires      int64 `json:"x"`
	// Completing is when a Complete last claimed (or renewed its claim
	// on) the session, 0 when none does; CompletingBy is the instance of
	// the backend that did. One Complete at a time; a claim not renewed
	// for completeLease is abandoned (its server died) and may be taken.
	Completing   int64  `json:"cl,omitempty"`
	CompletingBy string `json:"clb,omitempty"`
	// Home and Reserved: the home folder that holds Reserved bytes for
	// the session (quota.go), given back when the session ends.
	Home     string `json:"hm,omitempty"`
	HomeName string `json:"hmn,omitempty"`
	Reserved int64  `json:"rs,omitempty"`
	// HomeOwner: Home is not the uploader's own (UserName's) but the
	// user's with this ID, under whom the session is listed too
	// (guestUploadSK).
	HomeOwner string `json:"ho,omitempty"`
	UserName  string `json:"un,omitempty"`
}

// partRec is the item at (upload#<id>, p#<n>).
type partRec struct {
	Size   int64  `json:"s"`
	SHA256 string `json:"h,omitempty"` // only when the sender gave one to check
	CRC32C string `json:"c,omitempty"` // of the plaintext, hex; always since issue 16
	Tag    string `json:"t"`
	Time   int64  `json:"tm"`
}

// sessionIndexRec is at (uploads, <id>) for the collector and at
// (user#<id>, up#<id>) for listing one user's sessions; and, for a
// session that reserves in someone else's home folder, at
// (user#<HomeOwner>, upg#<id>).
type sessionIndexRec struct {
	UserID    string `json:"u"`
	Expires   int64  `json:"x"`
	HomeOwner string `json:"ho,omitempty"`
}

// File times are kept as Unix nanoseconds, exactly, the Unix epoch
// included (record.Nanos would keep it as 0, which means "unset"): a file
// time is always set once a file exists. That holds the instants from
// MinMTime to MaxMTime; CheckMTime refuses the others rather than let them
// wrap around.
var (
	MinMTime = time.Unix(0, math.MinInt64).UTC() // 1677-09-21T00:12:43.145224192Z
	MaxMTime = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// CheckMTime reports, as errs.ErrInvalid, a file time Strata cannot keep
// exactly.
func CheckMTime(t time.Time) error {
	if t.Before(MinMTime) || t.After(MaxMTime) {
		return fmt.Errorf("%w: file time %s is outside the times Strata keeps (%s to %s)", errs.ErrInvalid,
			t.UTC().Format(time.RFC3339Nano), MinMTime.Format(time.RFC3339), MaxMTime.Format(time.RFC3339))
	}
	return nil
}

// mtimeNanos is a file time as stored; t is within CheckMTime's range.
func mtimeNanos(t time.Time) int64 { return t.UnixNano() }

// mtimeOf is a stored file time.
func mtimeOf(n int64) time.Time { return time.Unix(0, n).UTC() }
