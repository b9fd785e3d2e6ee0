package shares

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Visit is one use of a link by a visitor: the link, who it acts as, and
// where its entry is now.
type Visit struct {
	s    *Service
	hash string
	rec  linkRec
	pr   iam.Principal
	// Root is the shared entry as it is now.
	Root backend.Location
}

// Name is the shared entry's name now.
func (v *Visit) Name() string { return v.Root.Entry.Name }

// IsDir reports a folder link.
func (v *Visit) IsDir() bool { return v.Root.Entry.Kind == backend.KindDir }

// Mode is what the link allows.
func (v *Visit) Mode() Mode { return v.rec.Mode }

// ID is the link's ID (not its token).
func (v *Visit) ID() string { return v.rec.ID }

// Owner is the name of the user who made the link.
func (v *Visit) Owner() string { return v.rec.Owner }

// Note is what the owner wrote for visitors.
func (v *Visit) Note() string { return v.rec.Note }

// NeedsPassword reports a password-protected link.
func (v *Visit) NeedsPassword() bool { return v.rec.Password != "" }

// Limited reports a link whose downloads are counted.
func (v *Visit) Limited() bool { return v.rec.MaxDL > 0 }

// Restricted reports a link that only some networks may use.
func (v *Visit) Restricted() bool { return len(v.rec.AllowIP) > 0 }

// Expires is when the link stops working (zero: never).
func (v *Visit) Expires() time.Time { return record.FromNanos(v.rec.Expires) }

// MaxUploadSize is the size cap of each dropped file (0: none).
func (v *Visit) MaxUploadSize() int64 { return v.rec.MaxUpload }

// Visit opens the link of token for a visitor at addr. Anything but a
// link that exists is ErrUnknown, after the same work; a link that exists
// but cannot be used says why (ErrExpired, ErrRevoked, ErrTrashed,
// ErrDeleted, ErrAddress).
func (s *Service) Visit(ctx context.Context, token string, addr netip.Addr) (*Visit, error) {
	// A malformed token is hashed and looked up like any other, so that
	// its answer takes the time of any unknown one.
	h := hashToken(token)
	rec, it, err := record.Get[linkRec](ctx, s.meta, linkPK(h), skLink)
	if record.IsNotFound(err) || (err == nil && (len(it.Value) == 0 || rec.ID == "")) || !ValidToken(token) {
		return nil, ErrUnknown
	}
	if err != nil {
		return nil, err
	}
	if !sameToken(hashToken(token), strings.TrimPrefix(it.PK, "link#")) {
		return nil, ErrUnknown
	}
	if rec.Revoked != 0 {
		return nil, ErrRevoked
	}
	if rec.Expires != 0 && s.now().UnixNano() >= rec.Expires {
		return nil, ErrExpired
	}
	if len(rec.AllowIP) > 0 {
		ok := false
		for _, n := range rec.AllowIP {
			if p, err := netip.ParsePrefix(n); err == nil && addr.IsValid() && p.Contains(addr.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return nil, ErrAddress
		}
	}
	pr, err := s.ids.ActAs(ctx, rec.OwnerID, iam.ViaShare)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, ErrDeleted
	}
	if err != nil {
		return nil, err
	}
	loc, err := s.files.Locate(ctx, rec.EntryID)
	switch {
	case errors.Is(err, backend.ErrGone):
		return nil, ErrTrashed
	case errors.Is(err, errs.ErrNotFound):
		return nil, ErrDeleted
	case err != nil:
		return nil, err
	}
	return &Visit{s: s, hash: h, rec: rec, pr: pr, Root: loc}, nil
}

// DownloadsLeft is how many downloads the link still allows, -1 when it
// counts none.
func (v *Visit) DownloadsLeft(ctx context.Context) (int64, error) {
	if v.rec.MaxDL == 0 {
		return -1, nil
	}
	it, err := v.s.meta.Get(ctx, linkPK(v.hash), skLink)
	if err != nil {
		return 0, err
	}
	return max(v.rec.MaxDL-it.N, 0), nil
}

// Count counts a download, taking one of the link's allowance if it has
// one, or fails with ErrExhausted. However many visitors download at once,
// no more than the allowance get through: each takes one with a write
// conditioned on the counter's version it read (under the allowance), and
// a write that lost the race reads again.
func (v *Visit) Count(ctx context.Context) error {
	if v.rec.MaxDL == 0 {
		_, err := v.s.meta.Add(ctx, linkPK(v.hash), skLink, 1)
		return errs.FromStore("count download", err)
	}
	_, err := record.Optimistic(ctx, "link "+v.rec.ID, func() (struct{}, error) {
		it, err := v.s.meta.Get(ctx, linkPK(v.hash), skLink)
		if err != nil {
			return struct{}{}, err
		}
		if it.N >= v.rec.MaxDL {
			return struct{}{}, ErrExhausted
		}
		return struct{}{}, v.s.meta.Transact(ctx, []meta.Op{meta.Add(linkPK(v.hash), skLink, 1, meta.AtVersion(it.Version))})
	})
	if err != nil && !errors.Is(err, ErrExhausted) {
		return errs.FromStore("count download", err)
	}
	return err
}

// Path is the path of rel (slash-separated names, "" for the shared entry
// itself) within the shared entry. A rel that leaves it, or names
// anything under a file link, is errs.ErrNotFound.
func (v *Visit) Path(rel []string) (storepath.Path, error) {
	if len(rel) == 0 {
		return v.Root.Path, nil
	}
	if !v.IsDir() {
		return storepath.Path{}, errs.ErrNotFound
	}
	segs := append(v.Root.Path.Segments(), rel...)
	p, err := storepath.FromSegments(segs)
	if err != nil {
		return storepath.Path{}, err
	}
	if !p.Within(v.Root.Path) {
		return storepath.Path{}, errs.ErrNotFound
	}
	return p, nil
}

func (v *Visit) mayRead() error {
	if !v.rec.Mode.reads() {
		return ErrMode
	}
	return nil
}

// Stat describes the entry at rel.
func (v *Visit) Stat(ctx context.Context, rel []string) (backend.Entry, error) {
	if err := v.mayRead(); err != nil {
		return backend.Entry{}, err
	}
	p, err := v.Path(rel)
	if err != nil {
		return backend.Entry{}, err
	}
	return v.s.files.Stat(ctx, v.pr, p)
}

// List lists the folder at rel.
func (v *Visit) List(ctx context.Context, rel []string, cursor string, limit int) (backend.Page, error) {
	if err := v.mayRead(); err != nil {
		return backend.Page{}, err
	}
	p, err := v.Path(rel)
	if err != nil {
		return backend.Page{}, err
	}
	return v.s.files.List(ctx, v.pr, p, cursor, limit)
}

// Open reads the file at rel (a range of its version).
func (v *Visit) Open(ctx context.Context, rel []string, version, off, n int64) (*backend.Reader, error) {
	if err := v.mayRead(); err != nil {
		return nil, err
	}
	p, err := v.Path(rel)
	if err != nil {
		return nil, err
	}
	return v.s.files.Open(ctx, v.pr, p, backend.OpenOptions{Version: version, Offset: off, Length: n})
}

// Upload drops a file named name (size bytes, -1 if unknown) into the
// shared folder, through the core's one write path (so the owner's quota
// and policies apply). It never replaces a file: a name in use gets a
// number, "report (2).pdf".
func (v *Visit) Upload(ctx context.Context, name string, r io.Reader, size int64) (backend.Entry, error) {
	if !v.rec.Mode.uploads() || !v.IsDir() {
		return backend.Entry{}, ErrMode
	}
	if err := storepath.ValidName(name); err != nil {
		return backend.Entry{}, err
	}
	if v.rec.MaxUpload > 0 {
		if size > v.rec.MaxUpload {
			return backend.Entry{}, ErrTooLarge
		}
		r = &capReader{r: r, left: v.rec.MaxUpload}
	}
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i:]
	}
	// The body can be read once: a name taken is found before it is.
	for n := 1; n <= 100; n++ {
		try := name
		if n > 1 {
			try = base + " (" + strconv.Itoa(n) + ")" + ext
		}
		p, err := v.Root.Path.Join(try)
		if err != nil {
			return backend.Entry{}, err
		}
		_, err = v.s.files.Stat(ctx, v.pr, p)
		if err == nil {
			continue
		}
		if !errors.Is(err, errs.ErrNotFound) && !errors.Is(err, errs.ErrForbidden) {
			return backend.Entry{}, err
		}
		e, err := v.s.files.Put(ctx, v.pr, p, r, backend.PutOptions{Size: size, IfNoneMatch: true})
		if errors.Is(err, errCap) {
			return backend.Entry{}, ErrTooLarge
		}
		return e, err
	}
	return backend.Entry{}, fmt.Errorf("%w: too many files named %s", errs.ErrExists, name)
}

var errCap = errors.New("over the link's size cap")

// capReader fails once more than left bytes pass.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errCap
	}
	return n, err
}

// Password-protected links: once the password is given, the visitor holds
// a cookie, valid for cookieTTL, that carries the link ID, its expiry and
// an HMAC under a key kept in the store (so that every server takes it)
// over both and the password's hash (so that a new password ends it).

// Unlock checks password and returns the cookie value that stands for it,
// and when it expires.
func (v *Visit) Unlock(ctx context.Context, password string) (string, time.Time, bool, error) {
	if !v.NeedsPassword() || !v.s.ids.CheckSecret(v.rec.Password, password) {
		return "", time.Time{}, false, nil
	}
	key, err := v.s.cookieKey(ctx)
	if err != nil {
		return "", time.Time{}, false, err
	}
	exp := v.s.now().Add(cookieTTL).Truncate(time.Second)
	msg := v.rec.ID + "." + strconv.FormatInt(exp.Unix(), 10)
	return msg + "." + v.mac(key, msg), exp, true, nil
}

// Unlocked reports whether cookie is a valid unlock of this link.
func (v *Visit) Unlocked(ctx context.Context, cookie string) bool {
	if !v.NeedsPassword() {
		return true
	}
	msg, sig, ok := strings.Cut(cookie, ".")
	if !ok || msg != v.rec.ID {
		return false
	}
	expS, sig, ok := strings.Cut(sig, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || v.s.now().Unix() >= exp {
		return false
	}
	key, err := v.s.cookieKey(ctx)
	if err != nil {
		return false
	}
	want := v.mac(key, msg+"."+expS)
	return hmac.Equal([]byte(want), []byte(sig))
}

func (v *Visit) mac(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	m.Write([]byte{0})
	m.Write([]byte(v.rec.Password))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckPassword checks a password given with a request (HTTP Basic).
func (v *Visit) CheckPassword(password string) bool {
	return !v.NeedsPassword() || v.s.ids.CheckSecret(v.rec.Password, password)
}

// cookieKey is the key unlock cookies are signed with, made at first use.
func (s *Service) cookieKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	it, err := s.meta.Get(ctx, pkConfig, skCookieKey)
	if record.IsNotFound(err) {
		k := make([]byte, 32)
		rand.Read(k)
		_, err = s.meta.Put(ctx, meta.Item{PK: pkConfig, SK: skCookieKey, Value: []byte(base64.RawStdEncoding.EncodeToString(k))}, meta.MustNew)
		if err != nil && !record.IsConflict(err) {
			return nil, err
		}
		it, err = s.meta.Get(ctx, pkConfig, skCookieKey)
	}
	if err != nil {
		return nil, err
	}
	k, err := base64.RawStdEncoding.DecodeString(string(it.Value))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("shares: corrupt cookie key")
	}
	s.key = k
	return k, nil
}
