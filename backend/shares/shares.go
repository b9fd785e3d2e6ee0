// Package shares is Strata's share links: a secret URL that lets anyone who
// has it read a file or folder, or drop files into a folder, without an
// account. A link points at an entry (its ID), not at a path, so it follows
// the entry through renames and moves (backend.Pin, backend.Locate), is
// gone while the entry is in the trash, and back when it is restored.
//
// A link acts as the user who made it, through the entry point "share"
// (strata:Via), narrowed to its entry and its mode: every use passes the one
// authorization decision as that user, so a link never grants more than its
// creator has at the time it is used.
package shares

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// The states of a link a visitor can meet, as errors.
var (
	// ErrUnknown: no such link. Forged, truncated and guessed tokens all
	// get it, and nothing else.
	ErrUnknown = errors.New("no such link")
	ErrExpired = errors.New("the link has expired")
	ErrRevoked = errors.New("the link was revoked")
	// ErrExhausted: the link's downloads are used up.
	ErrExhausted = errors.New("the link's downloads are used up")
	// ErrTrashed: the shared entry is in the trash (it may come back).
	ErrTrashed = errors.New("the shared file or folder is in the trash")
	// ErrDeleted: the shared entry was deleted for good, or its owner.
	ErrDeleted = errors.New("the shared file or folder no longer exists")
	// ErrAddress: the link does not take visitors from this address.
	ErrAddress = errors.New("the link cannot be used from this network")
	// ErrMode: the link does not allow this (reading an upload-only
	// link, uploading to a read-only one).
	ErrMode = errors.New("the link does not allow this")
	// ErrTooLarge: an upload over the link's size cap.
	ErrTooLarge = errors.New("the file is larger than this link takes")
)

// Mode is what a link lets visitors do.
type Mode string

// The modes.
const (
	// ModeRead: download (the default).
	ModeRead Mode = "read"
	// ModeUpload: drop files into the folder, see nothing.
	ModeUpload Mode = "upload"
	// ModeReadUpload: download and drop files.
	ModeReadUpload Mode = "read-upload"
)

func (m Mode) reads() bool   { return m == ModeRead || m == ModeReadUpload }
func (m Mode) uploads() bool { return m == ModeUpload || m == ModeReadUpload }

// Limits.
const (
	MaxNoteLen   = 500
	MaxAllowIP   = 32
	tokenBytes   = 24 // 192 bits
	tokenLen     = 32 // base64url characters
	linkPrefix   = "ln#"
	skLink       = "link"
	skCookieKey  = "linkcookie"
	pkConfig     = "config"
	cookieTTL    = time.Hour
	maxListLimit = meta.MaxPageLimit
)

func linkPK(hash string) string   { return "link#" + hash }
func linkIDPK(id string) string   { return "linkid#" + id }
func userPK(id string) string     { return "user#" + id }
func userLinkSK(id string) string { return linkPrefix + id }

// linkRec is the item at (link#<sha256 of the token>, link). Its counter
// N is the number of downloads so far.
type linkRec struct {
	ID        string   `json:"id"`
	OwnerID   string   `json:"o"`
	Owner     string   `json:"on"`
	EntryID   string   `json:"e"`
	Kind      string   `json:"k"`
	Name      string   `json:"n"` // the entry's name when the link was made
	Mode      Mode     `json:"m"`
	Created   int64    `json:"c"`
	Expires   int64    `json:"x,omitempty"`
	Password  string   `json:"pw,omitempty"` // argon2id PHC string
	MaxDL     int64    `json:"md,omitempty"`
	MaxUpload int64    `json:"mu,omitempty"`
	AllowIP   []string `json:"ip,omitempty"`
	Note      string   `json:"note,omitempty"`
	Revoked   int64    `json:"r,omitempty"`
	// Token is the token sealed under the key service (bound to the
	// link's ID), so that its owner can be shown the URL again; links made
	// before it was kept have none.
	Token *backend.Sealed `json:"tk,omitempty"`
}

// refRec is at (linkid#<id>, link) and (user#<owner>, ln#<id>): how the
// owner reaches a link whose token only the visitors have.
type refRec struct {
	Hash    string `json:"h"`
	OwnerID string `json:"o"`
	Owner   string `json:"on"`
}

// Service manages and serves links.
type Service struct {
	files *backend.Backend
	ids   *identity.Service
	meta  meta.Store
	dec   iam.Decider
	now   func() time.Time
	keyMu sync.Mutex
	key   []byte // unlock cookies' key, read at first use
}

// New returns the link service over the core.
func New(files *backend.Backend, ids *identity.Service, m meta.Store, dec iam.Decider, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	if dec == nil {
		dec = iam.HomeRule{}
	}
	return &Service{files: files, ids: ids, meta: m, dec: dec, now: now}
}

// Options are a new link's settings.
type Options struct {
	// Expires is when the link stops working; zero: never.
	Expires time.Time
	// Password, when set, must be given to use the link.
	Password string
	// MaxDownloads bounds the downloads (file or zip); 0: no bound.
	MaxDownloads int64
	Mode         Mode
	// MaxUploadSize bounds each file dropped through the link; 0: no
	// bound but the owner's quota.
	MaxUploadSize int64
	// AllowIP, when not empty, are the only networks visitors may come
	// from.
	AllowIP []netip.Prefix
	Note    string
}

// Link is a link as its owner sees it.
type Link struct {
	ID            string    `json:"id"`
	Owner         string    `json:"owner"`
	EntryID       string    `json:"entryId"`
	Kind          string    `json:"kind"`
	Path          string    `json:"path,omitempty"` // where the entry is now ("" while trashed or gone)
	Name          string    `json:"name"`
	Mode          Mode      `json:"mode"`
	Created       time.Time `json:"created"`
	Expires       time.Time `json:"expires,omitzero"`
	Password      bool      `json:"password"`
	MaxDownloads  int64     `json:"maxDownloads,omitempty"`
	Downloads     int64     `json:"downloads"`
	MaxUploadSize int64     `json:"maxUploadSize,omitempty"`
	AllowIP       []string  `json:"allowIp,omitempty"`
	Note          string    `json:"note,omitempty"`
	// State is active, expired, exhausted, trashed or deleted.
	State string `json:"state"`
	// Revealable: the token is kept sealed, and Reveal shows it to the
	// owner again.
	Revealable bool `json:"revealable"`
}

// NewToken returns a link token: 192 bits from crypto/rand, base64url.
func NewToken() string {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("shares: crypto/rand: %v", err)) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidToken reports whether s has the shape of a token (which says
// nothing of whether it is one).
func ValidToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func (o Options) check(now time.Time) error {
	switch o.Mode {
	case ModeRead, ModeUpload, ModeReadUpload:
	default:
		return fmt.Errorf("%w: mode %q (read, upload or read-upload)", errs.ErrInvalid, o.Mode)
	}
	if !o.Expires.IsZero() && !o.Expires.After(now) {
		return fmt.Errorf("%w: the expiry %s is not in the future", errs.ErrInvalid, o.Expires.UTC().Format(time.RFC3339))
	}
	if o.MaxDownloads < 0 || o.MaxUploadSize < 0 {
		return fmt.Errorf("%w: negative limit", errs.ErrInvalid)
	}
	if o.Password != "" {
		if err := identity.ValidPassword(o.Password); err != nil {
			return err
		}
	}
	if len(o.AllowIP) > MaxAllowIP {
		return fmt.Errorf("%w: at most %d networks in allowIp", errs.ErrInvalid, MaxAllowIP)
	}
	if len(o.Note) > MaxNoteLen || !utf8.ValidString(o.Note) || strings.ContainsFunc(o.Note, func(r rune) bool { return r < 0x20 && r != '\n' }) {
		return fmt.Errorf("%w: a note is at most %d bytes of text", errs.ErrInvalid, MaxNoteLen)
	}
	return nil
}

// Create makes a link to the file or folder at p and returns it with its
// token, which is shown this once (only its hash is kept). pr needs
// CreateShare on p (and what the link's mode does: GetFile, or PutFile for
// an upload link, which the decision checks again at every use).
func (s *Service) Create(ctx context.Context, pr iam.Principal, p storepath.Path, o Options) (Link, string, error) {
	if o.Mode == "" {
		o.Mode = ModeRead
	}
	if err := iam.Authorize(ctx, s.dec, pr, iam.CreateShare, iam.PathOf(p)); err != nil {
		return Link{}, "", err
	}
	if err := o.check(s.now()); err != nil {
		return Link{}, "", err
	}
	e, err := s.files.Pin(ctx, pr, p)
	if err != nil {
		return Link{}, "", err
	}
	if o.Mode.uploads() && e.Kind != backend.KindDir {
		return Link{}, "", fmt.Errorf("%w: only a folder takes uploads", errs.ErrInvalid)
	}
	if o.Mode.uploads() {
		if err := iam.Authorize(ctx, s.dec, pr, iam.PutFile, iam.PathOf(p)); err != nil {
			return Link{}, "", err
		}
	}
	tok := NewToken()
	h := hashToken(tok)
	rec := linkRec{
		ID: record.NewID(), OwnerID: pr.UserID, Owner: pr.Name, EntryID: e.ID, Kind: string(e.Kind), Name: e.Name,
		Mode: o.Mode, Created: record.Nanos(s.now()), Expires: record.Nanos(o.Expires), MaxDL: o.MaxDownloads,
		MaxUpload: o.MaxUploadSize, Note: o.Note,
	}
	for _, n := range o.AllowIP {
		rec.AllowIP = append(rec.AllowIP, n.Masked().String())
	}
	if o.Password != "" {
		rec.Password = s.ids.HashSecret(o.Password)
	}
	sealed, err := s.files.Seal(ctx, tokenSealName(rec.ID), []byte(tok))
	if err != nil {
		return Link{}, "", fmt.Errorf("create link: keep its token: %w", err)
	}
	rec.Token = &sealed
	ref := refRec{Hash: h, OwnerID: pr.UserID, Owner: pr.Name}
	if err := s.meta.Transact(ctx, []meta.Op{
		meta.Put(record.Item(linkPK(h), skLink, rec), meta.MustNew),
		meta.Put(record.Item(linkIDPK(rec.ID), skLink, ref), meta.MustNew),
		meta.Put(record.Item(userPK(pr.UserID), userLinkSK(rec.ID), ref), meta.MustNew),
	}); err != nil {
		return Link{}, "", errs.FromStore("create link", err)
	}
	l := s.describe(ctx, rec, 0)
	return l, tok, nil
}

// describe is rec as its owner sees it, with where its entry is now.
func (s *Service) describe(ctx context.Context, rec linkRec, downloads int64) Link {
	l := Link{
		ID: rec.ID, Owner: rec.Owner, EntryID: rec.EntryID, Kind: rec.Kind, Name: rec.Name, Mode: rec.Mode,
		Created: record.FromNanos(rec.Created), Expires: record.FromNanos(rec.Expires), Password: rec.Password != "",
		MaxDownloads: rec.MaxDL, Downloads: downloads, MaxUploadSize: rec.MaxUpload, AllowIP: rec.AllowIP, Note: rec.Note,
		State: "active", Revealable: rec.Token != nil,
	}
	loc, err := s.files.Locate(ctx, rec.EntryID)
	switch {
	case err == nil:
		l.Path, l.Name = loc.Path.String(), loc.Entry.Name
	case errors.Is(err, backend.ErrGone):
		l.State = "trashed"
	default:
		l.State = "deleted"
	}
	switch {
	case rec.Expires != 0 && s.now().UnixNano() >= rec.Expires:
		l.State = "expired"
	case rec.MaxDL > 0 && downloads >= rec.MaxDL:
		l.State = "exhausted"
	}
	return l
}

// ValidID reports whether id has the shape of a link ID.
func validID(id string) error {
	if len(id) != 26 || strings.Trim(id, record.IDAlphabet) != "" {
		return fmt.Errorf("%w: malformed link ID", errs.ErrInvalid)
	}
	return nil
}

// ref finds the link id of the user owner ("" for pr's own), once pr is
// allowed to manage it: the decision comes before the link is looked up,
// so that a denial says nothing of whether it exists.
func (s *Service) ref(ctx context.Context, pr iam.Principal, owner, id string) (refRec, meta.Item, error) {
	if owner == "" {
		owner = pr.Name
	}
	if err := iam.Authorize(ctx, s.dec, pr, iam.ManageShares, iam.LinkOf(owner, id)); err != nil {
		return refRec{}, meta.Item{}, err
	}
	if err := validID(id); err != nil {
		return refRec{}, meta.Item{}, err
	}
	ref, it, err := record.Get[refRec](ctx, s.meta, linkIDPK(id), skLink)
	if record.IsNotFound(err) || (err == nil && ref.Owner != owner) {
		return refRec{}, meta.Item{}, fmt.Errorf("link %s of %s: %w", id, owner, errs.ErrNotFound)
	}
	return ref, it, err
}

// Get describes the link id of owner ("" for pr's own).
func (s *Service) Get(ctx context.Context, pr iam.Principal, owner, id string) (Link, error) {
	ref, _, err := s.ref(ctx, pr, owner, id)
	if err != nil {
		return Link{}, err
	}
	rec, it, err := record.Get[linkRec](ctx, s.meta, linkPK(ref.Hash), skLink)
	if err != nil {
		return Link{}, err
	}
	return s.describe(ctx, rec, it.N), nil
}

// tokenSealName is what a link's sealed token is bound to: a sealed token
// moved into another link's record does not open.
func tokenSealName(id string) string { return "link-token#" + id }

// ErrNotKept: the link was made before tokens were kept, and its URL
// cannot be shown again.
var ErrNotKept = fmt.Errorf("%w: this link was made before links' addresses were kept, so it cannot be shown again: make a new one", errs.ErrInvalid)

// Reveal describes pr's own link id with its token, for the owner to
// copy its URL again: only the owner may, whatever else they may manage
// (an administrator revokes others' links but does not get to use them).
func (s *Service) Reveal(ctx context.Context, pr iam.Principal, id string) (Link, string, error) {
	ref, _, err := s.ref(ctx, pr, "", id)
	if err != nil {
		return Link{}, "", err
	}
	rec, it, err := record.Get[linkRec](ctx, s.meta, linkPK(ref.Hash), skLink)
	if err != nil {
		return Link{}, "", err
	}
	if rec.OwnerID != pr.UserID {
		return Link{}, "", fmt.Errorf("link %s: %w", id, errs.ErrNotFound)
	}
	if rec.Token == nil {
		return Link{}, "", ErrNotKept
	}
	tok, err := s.files.Unseal(ctx, tokenSealName(rec.ID), *rec.Token)
	if err != nil {
		return Link{}, "", fmt.Errorf("link %s: %w", id, err)
	}
	// The token must still be this link's: a record whose sealed token
	// does not hash to its own key is not shown.
	if !sameToken(hashToken(string(tok)), ref.Hash) {
		return Link{}, "", fmt.Errorf("link %s: %w", id, errs.ErrIntegrity)
	}
	// Nothing changes, but a bearer secret is handed out: on the record.
	audit.Note(ctx, pr, iam.ManageShares, iam.LinkOf(pr.Name, rec.ID))
	return s.describe(ctx, rec, it.N), string(tok), nil
}

// Revoke ends the link id of owner ("" for pr's own) at once. Its
// visitors are told it was revoked.
func (s *Service) Revoke(ctx context.Context, pr iam.Principal, owner, id string) error {
	ref, refIt, err := s.ref(ctx, pr, owner, id)
	if err != nil {
		return err
	}
	_, err = record.Optimistic(ctx, "link "+id, func() (struct{}, error) {
		rec, it, err := record.Get[linkRec](ctx, s.meta, linkPK(ref.Hash), skLink)
		if err != nil {
			return struct{}{}, err
		}
		rec.Revoked = record.Nanos(s.now())
		up := record.Item(linkPK(ref.Hash), skLink, rec)
		up.N = it.N
		// The revoked record stays a while, so that visitors learn the link
		// was revoked rather than that it never was.
		up.ExpiresAt = s.now().Add(90 * 24 * time.Hour)
		return struct{}{}, s.meta.Transact(ctx, []meta.Op{
			meta.Put(up, meta.AtVersion(it.Version)),
			meta.Delete(linkIDPK(id), skLink, meta.AtVersion(refIt.Version)),
			meta.Delete(userPK(ref.OwnerID), userLinkSK(id), meta.NoCond),
		})
	})
	if err != nil {
		return errs.FromStore("revoke link", err)
	}
	return nil
}

// Page is one page of a listing of links.
type Page struct {
	Links  []Link `json:"links"`
	Cursor string `json:"cursor,omitempty"`
}

// List lists the links of the user owner ("" for pr's own), only those to
// the entry at p when p is not nil.
func (s *Service) List(ctx context.Context, pr iam.Principal, owner string, p *storepath.Path, cursor string, limit int) (Page, error) {
	if owner == "" {
		owner = pr.Name
	}
	if err := iam.Authorize(ctx, s.dec, pr, iam.ManageShares, iam.LinkOf(owner, "*")); err != nil {
		return Page{}, err
	}
	ownerID := pr.UserID
	if owner != pr.Name {
		id, err := s.ids.UserID(ctx, owner)
		if err != nil {
			return Page{}, err
		}
		ownerID = id
	}
	entryID := ""
	if p != nil {
		e, err := s.files.Stat(ctx, pr, *p)
		if err != nil {
			return Page{}, err
		}
		entryID = e.ID
	}
	if limit <= 0 || limit > maxListLimit {
		limit = maxListLimit
	}
	q := meta.QueryOpts{Prefix: linkPrefix, Limit: limit}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || validID(string(b)) != nil {
			return Page{}, fmt.Errorf("%w: malformed cursor", errs.ErrInvalid)
		}
		q.After = userLinkSK(string(b))
	}
	pg, err := s.meta.Query(ctx, userPK(ownerID), q)
	if err != nil {
		return Page{}, err
	}
	out := Page{Links: []Link{}}
	for _, it := range pg.Items {
		ref, err := record.Decode[refRec](it)
		if err != nil {
			return Page{}, err
		}
		rec, lit, err := record.Get[linkRec](ctx, s.meta, linkPK(ref.Hash), skLink)
		if record.IsNotFound(err) {
			continue
		}
		if err != nil {
			return Page{}, err
		}
		if entryID != "" && rec.EntryID != entryID {
			continue
		}
		out.Links = append(out.Links, s.describe(ctx, rec, lit.N))
	}
	if pg.Next != "" {
		out.Cursor = base64.RawURLEncoding.EncodeToString([]byte(strings.TrimPrefix(pg.Next, linkPrefix)))
	}
	return out, nil
}

// sameToken compares two token hashes in constant time.
func sameToken(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
