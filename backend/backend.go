// Package backend is Strata's file tree: files, folders, versions, trash,
// upload sessions, folder jobs and key rotation, written once on top of
// three small driver interfaces (blob.Store, meta.Store, keys.Service).
// Who is who lives in backend/identity, what may be done in backend/iam.
//
// Every method takes the acting iam.Principal and checks it before it acts. The
// core knows nothing about HTTP; the server maps its errors to status codes.
package backend

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/spool"
	"github.com/strata-storage/strata/internal/storepath"
)

// ErrConfig is a Config that cannot work (a setting out of range).
var ErrConfig = errors.New("backend: invalid setting")

// Config assembles a Backend.
type Config struct {
	Blobs blob.Store
	Meta  meta.Store
	Keys  keys.Service

	// KeepVersions is how many versions of a file are kept (current
	// included); 0 means DefaultKeepVersions.
	KeepVersions int
	// PartSize is the plaintext part size of streamed uploads and the
	// default for upload sessions; 0 means crypto.DefaultPartSize.
	PartSize int64
	// UploadTTL is how long an upload session may stay open; 0 means
	// DefaultUploadTTL.
	UploadTTL time.Duration
	// KeyCacheTTL bounds how long unwrapped data keys stay in memory; 0
	// means DefaultKeyCacheTTL, negative disables the cache.
	KeyCacheTTL time.Duration
	// Grace is how old an unreferenced blob must be before the collector
	// removes it; 0 means DefaultGrace.
	Grace time.Duration
	// Exclusive says this backend is the only one using the store (the
	// embedded engines, whose data directory is locked): then a claim left
	// by an earlier process is known to be dead at once, without waiting
	// for its lease.
	Exclusive bool
	// SpoolBudget bounds the memory that parts of resumable uploads which
	// arrive ahead of their turn may hold while they wait to be hashed
	// into their file's digest; 0 means DefaultSpoolBudget, negative none
	// (such parts are then read back when the upload completes).
	SpoolBudget int64

	// InlineMax is the largest sealed content kept in its blob's metadata
	// record, committed in the same transaction as its version, instead
	// of in the blob store: a small file then costs a share of one
	// grouped metadata commit rather than a blob object with its own
	// fsyncs (its data, its directory). 0 (or less) keeps every file in
	// the blob store. It is for a metadata engine whose records are cheap (the
	// embedded one); DynamoDB bills writes by the KiB.
	InlineMax int64

	// MaxOpenUploads bounds the open upload sessions of one user; 0 means
	// DefaultMaxOpenUploads.
	MaxOpenUploads int
	// DefaultQuota is the quota of a new user's home folder (zero: none).
	DefaultQuota Quota

	// Decider is the one authorization decision; nil means iam.HomeRule.
	Decider iam.Decider
	// Users resolves user names for operations on another user's trash
	// and upload sessions; nil allows none.
	Users Users

	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
}

// Defaults.
const (
	DefaultKeepVersions = 10
	DefaultUploadTTL    = 7 * 24 * time.Hour
	DefaultKeyCacheTTL  = 5 * time.Minute
	DefaultSpoolBudget  = 64 << 20
	// DefaultInlineMax is the InlineMax the embedded metadata engine is
	// run with: files of up to about 16 KiB.
	DefaultInlineMax = 16 << 10
	// MaxInline bounds InlineMax: a record holds the bytes in base64
	// (4/3 of them), and DynamoDB items, which every record must fit,
	// end at 400 KB.
	MaxInline = 64 << 10
	// MinPartSize and MaxPartSize bound upload session parts: below 5 MiB S3
	// refuses multipart parts, above 4 GiB a part cannot be sealed (and
	// above 5 GiB S3 refuses any part).
	MinPartSize = 5 << 20
	MaxPartSize = crypto.MaxPartSize
	// MaxUploadSize is the largest file an upload session takes: the most
	// parts of the largest size.
	MaxUploadSize = blob.MaxParts * MaxPartSize
)

// Backend is the core service.
type Backend struct {
	blobs        blob.Store
	meta         meta.Store
	keys         keys.Service
	keep         int
	partSize     int64
	inlineMax    int64
	upTTL        time.Duration
	grace        time.Duration
	maxUploads   int
	defaultQuota Quota
	keyCache     *keyCache
	dirs         *dirCache
	spool        *spool.Budget
	instance     string // this backend's identity in claims
	excl         bool
	hashMu       sync.Mutex
	hashers      map[string]*seqHasher
	decider      iam.Decider
	users        Users
	bg           sync.WaitGroup // background work: copies, purges
	jobMu        sync.Mutex
	jobDone      map[string]chan struct{} // jobs this server runs, closed as each ends
	holds        *keyHolds
	// rotating is the context of the key rotations this backend runs,
	// ended by Drain (they resume at the next start).
	rotating     context.Context
	stopRotating context.CancelFunc
	log          *slog.Logger
	now          func() time.Time
	// restoreKick asks the daemon's restore poller for a run.
	restoreKick func()
}

// New checks cfg and returns a Backend.
func New(cfg Config) (*Backend, error) {
	if cfg.Blobs == nil || cfg.Meta == nil || cfg.Keys == nil {
		return nil, errors.New("backend: Blobs, Meta and Keys are required")
	}
	b := &Backend{
		dirs:      newDirCache(),
		blobs:     cfg.Blobs,
		meta:      cfg.Meta,
		keys:      cfg.Keys,
		keep:      cfg.KeepVersions,
		partSize:  cfg.PartSize,
		inlineMax: min(cfg.InlineMax, MaxInline),
		upTTL:     cfg.UploadTTL,
		log:       cfg.Logger,
		now:       cfg.Now,
	}
	if b.keep == 0 {
		b.keep = DefaultKeepVersions
	}
	if b.keep < 1 || b.keep > 1000 {
		return nil, fmt.Errorf("%w: KeepVersions %d out of 1..1000", ErrConfig, b.keep)
	}
	if b.partSize == 0 {
		b.partSize = crypto.DefaultPartSize
	}
	if err := (crypto.Layout{Size: 0, PartSize: b.partSize}).Validate(); err != nil {
		return nil, fmt.Errorf("%w: PartSize: %w", ErrConfig, err)
	}
	if b.upTTL == 0 {
		b.upTTL = DefaultUploadTTL
	}
	b.maxUploads = cfg.MaxOpenUploads
	if cfg.DefaultQuota.Bytes < 0 || cfg.DefaultQuota.Files < 0 {
		return nil, fmt.Errorf("%w: a default quota is 0 (none) or more", ErrConfig)
	}
	b.defaultQuota = cfg.DefaultQuota
	if b.maxUploads == 0 {
		b.maxUploads = DefaultMaxOpenUploads
	}
	if b.maxUploads < 1 {
		return nil, fmt.Errorf("backend: MaxOpenUploads %d is below 1", b.maxUploads)
	}
	b.grace = cfg.Grace
	if b.grace == 0 {
		b.grace = DefaultGrace
	}
	if b.grace < 0 {
		return nil, fmt.Errorf("%w: negative Grace %v", ErrConfig, b.grace)
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.decider, b.users = cfg.Decider, cfg.Users
	if b.decider == nil {
		b.decider = iam.HomeRule{}
	}
	if b.users == nil {
		b.users = noUsers{}
	}
	if b.now == nil {
		b.now = time.Now
	}
	ttl := cfg.KeyCacheTTL
	if ttl == 0 {
		ttl = DefaultKeyCacheTTL
	}
	b.keyCache = newKeyCache(ttl, 4096, b.now)
	budget := cfg.SpoolBudget
	if budget == 0 {
		budget = DefaultSpoolBudget
	}
	b.spool = spool.New(max(budget, 0))
	b.hashers = make(map[string]*seqHasher)
	b.jobDone = make(map[string]chan struct{})
	b.instance, b.excl = record.NewID(), cfg.Exclusive
	b.holds = newKeyHolds()
	b.rotating, b.stopRotating = context.WithCancel(context.Background())
	return b, nil
}

// Entry describes a file or folder.
type Entry struct {
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Kind    Kind      `json:"kind"`
	ID      string    `json:"id"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Created time.Time `json:"created"`
	// Files only.
	SHA256 string `json:"sha256,omitempty"`
	// ClientDigest: SHA256 is the word of the client that uploaded the
	// content (clientDigest), not the server's computation;
	// ClientDigestBy is that uploader's user ID (empty for files completed
	// before Strata kept it).
	ClientDigest   bool   `json:"clientDigest,omitempty"`
	ClientDigestBy string `json:"clientDigestBy,omitempty"`
	Version        int64  `json:"version,omitempty"`
	State          string `json:"state,omitempty"`
	// Archive is where an archived file's content stands (nil if hot).
	Archive *ArchiveInfo `json:"archive,omitempty"`
}

func (b *Backend) entry(p storepath.Path, r entryRec) Entry {
	e := Entry{
		Path:    p.String(),
		Name:    p.Name(),
		Kind:    r.Kind,
		ID:      r.ID,
		Size:    r.Size,
		ModTime: mtimeOf(r.MTime),
		Created: record.FromNanos(r.Created),
		SHA256:  r.SHA256,
		Version: r.Seq,
	}
	e.ClientDigest, e.ClientDigestBy = r.ClientDigest, r.By
	if r.ID == rootDirID {
		e.ModTime = time.Time{} // the root folder has no times
	}
	if r.Kind == KindFile {
		// Only an archived file's state depends on the time, and reading
		// the clock for each entry of a listing was 3 % of its time.
		e.State = StateHot
		if r.Arch != nil {
			e.State = r.Arch.state(b.now())
		}
		e.Archive = r.Arch.public()
	}
	return e
}

// Ready checks that the engines answer: a read of an item and of an object
// that do not exist must come back as "not found", not as an error. The
// object is read with Get rather than Stat: on S3 a HEAD (Stat) of a key in
// a bucket that was deleted answers a bare 404 that cannot be told from a
// missing key, whereas a GET says NoSuchBucket.
func (b *Backend) Ready(ctx context.Context) error {
	if _, err := b.meta.Get(ctx, "ready", "probe"); err != nil && !record.IsNotFound(err) {
		return fmt.Errorf("metadata store: %w", err)
	}
	rc, err := b.blobs.Get(ctx, "ready-probe", 0, -1)
	if err == nil {
		rc.Close()
	} else if !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("blob store: %w", err)
	}
	return nil
}

// canaryRec is the item at (config, canary): a data key wrapped when the
// store was first used, to tell at every start whether the key service is
// still the one the store's data keys were wrapped with.
type canaryRec struct {
	Wrapped []byte `json:"wk"`
	KeyID   string `json:"kid"`
	Created int64  `json:"c"`
}

var canaryContext = keys.Context{"purpose": "strata-canary"}

// ErrWrongKeys: the key service cannot unwrap the store's keys.
var ErrWrongKeys = errors.New("the key service cannot unwrap this store's data keys")

// CheckKeys makes sure the key service can unwrap what this store wrapped:
// a replaced key file or a different KMS key would otherwise let the server
// start and then fail every read (and write new data under keys the old
// data does not share). On a new store it records the canary.
func (b *Backend) CheckKeys(ctx context.Context) error {
	c, _, err := record.Get[canaryRec](ctx, b.meta, pkConfig, skCanary)
	if record.IsNotFound(err) {
		dk, hold, err := b.newDataKey(ctx, canaryContext)
		if err != nil {
			return fmt.Errorf("key service: %w", err)
		}
		defer hold.release()
		clear(dk.Plaintext)
		_, err = b.meta.Put(ctx, record.Item(pkConfig, skCanary, canaryRec{Wrapped: dk.Wrapped, KeyID: dk.KeyID, Created: record.Nanos(b.now())}), meta.MustNew)
		if err != nil && !record.IsConflict(err) { // another server recorded it first
			return fmt.Errorf("record the key canary: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	k, err := b.keys.Decrypt(ctx, c.Wrapped, canaryContext)
	if errors.Is(err, keys.ErrDecrypt) {
		return fmt.Errorf("%w (it was written with master key %s): the key file was replaced or --keys names another key; restore the original key file or key", ErrWrongKeys, c.KeyID)
	}
	if err != nil {
		return fmt.Errorf("key service: %w", err)
	}
	clear(k)
	return nil
}
