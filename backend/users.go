package backend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/internal/storepath"
)

// TokenPrefix starts every API token, so that leaked tokens are easy to
// recognise (by people and by secret scanners).
const TokenPrefix = "strata_"

// tokenSecretLen is the number of base62 characters after the prefix:
// 43 characters carry over 256 bits.
const tokenSecretLen = 43

// ValidTokenFormat reports whether s looks like a token: the prefix and at
// least 32 characters of [A-Za-z0-9] (at most 128).
func ValidTokenFormat(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) < 32 || len(rest) > 128 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// NewToken returns a fresh random token.
func NewToken() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// rand.Text would be base32; base62 packs more entropy per character.
	// Rejection sampling keeps the characters uniform.
	out := make([]byte, 0, tokenSecretLen)
	var buf [64]byte
	for len(out) < tokenSecretLen {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(fmt.Sprintf("backend: crypto/rand: %v", err))
		}
		for _, c := range buf {
			if c < 248 && len(out) < tokenSecretLen { // 248 = 4*62
				out = append(out, alphabet[c%62])
			}
		}
	}
	return TokenPrefix + string(out)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

var userNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidUserName checks a user name: a lowercase letter, then up to 31 of
// [a-z0-9_-]. Names become home folder names, so they are kept plain.
func ValidUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("%w: user name %q must be a lowercase letter followed by up to 31 of a-z, 0-9, _ and -", ErrInvalid, clipID(name))
	}
	return nil
}

// User describes a user.
type User struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Admin   bool      `json:"admin"`
	Home    string    `json:"home"`
	Created time.Time `json:"created"`
}

// Token describes an API token. Secret is set only when it is created.
type Token struct {
	ID      string     `json:"id"`
	User    string     `json:"user"`
	Name    string     `json:"name,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Secret  string     `json:"token,omitempty"`
}

// Authenticate finds the principal behind a token. Anything wrong with the
// token (format, unknown, revoked, expired, deleted user) is ErrUnauthorized.
func (b *Backend) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !ValidTokenFormat(token) {
		return Principal{}, ErrUnauthorized
	}
	h := hashToken(token)
	t, _, err := getRec[tokenRec](ctx, b.meta, tokenPK(h), skToken)
	if isNotFound(err) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	// The item was found by the hash, so the hashes match; the explicit
	// constant-time comparison guards a store that would ever return
	// another item (a prefix match, a corrupted key).
	stored := t.Hash
	if stored == "" {
		// Written before token items carried their hash: the reference
		// under the user has it.
		ref, _, err := getRec[tokenRefRec](ctx, b.meta, userPK(t.UserID), tokenSK(t.TokenID))
		if isNotFound(err) {
			return Principal{}, ErrUnauthorized
		}
		if err != nil {
			return Principal{}, err
		}
		stored = ref.Hash
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(h)) != 1 {
		return Principal{}, ErrUnauthorized
	}
	if t.Expires != 0 && b.now().UnixNano() > t.Expires {
		return Principal{}, ErrUnauthorized
	}
	u, _, err := getRec[userRec](ctx, b.meta, userPK(t.UserID), skProfile)
	if isNotFound(err) {
		return Principal{}, ErrUnauthorized
	}
	if err != nil {
		return Principal{}, err
	}
	return Principal{UserID: t.UserID, Name: u.Name, Admin: u.Admin}, nil
}

// Bootstrap creates the admin user on an empty store, with token as its
// first token (a fresh one when token is empty). It returns the token and
// true when it created the user, or "" and false when an admin exists.
func (b *Backend) Bootstrap(ctx context.Context, token string) (string, bool, error) {
	if token != "" && !ValidTokenFormat(token) {
		return "", false, fmt.Errorf("%w: the admin token must be %q followed by 32 to 128 letters and digits", ErrInvalid, TokenPrefix)
	}
	// Only an empty store is bootstrapped: once any user exists (even if
	// "admin" was since deleted), no superuser appears at a restart.
	pg, err := b.meta.Query(ctx, pkUsers, meta.QueryOpts{Limit: 1})
	if err != nil {
		return "", false, err
	}
	if len(pg.Items) > 0 {
		return "", false, nil
	}
	u, err := b.createUser(ctx, "admin", true)
	if errors.Is(err, ErrExists) {
		return "", false, nil // another server bootstrapped first
	}
	if err != nil {
		return "", false, err
	}
	if token == "" {
		token = NewToken()
	}
	if _, err := b.addToken(ctx, u.ID, u.Name, "bootstrap", token, 0); err != nil {
		return "", false, err
	}
	return token, true, nil
}

// CreateUser adds a user with a home folder /home/<name>. Admins only.
func (b *Backend) CreateUser(ctx context.Context, pr Principal, name string, admin bool) (User, error) {
	if !pr.Admin {
		return User{}, ErrForbidden
	}
	return b.createUser(ctx, name, admin)
}

func (b *Backend) createUser(ctx context.Context, name string, admin bool) (User, error) {
	if err := ValidUserName(name); err != nil {
		return User{}, err
	}
	home := Principal{Name: name}.Home()
	if l, err := b.lookup(ctx, home); err == nil && l.exists {
		return User{}, fmt.Errorf("%w: %s exists (left by a deleted user?): move or delete it before creating %s", ErrExists, home, name)
	}
	id := newID()
	now := b.now()
	u := userRec{Name: name, Admin: admin, Created: nanos(now)}
	err := b.meta.Transact(ctx, []meta.Op{
		meta.Put(item(usernamePK(name), skUser, usernameRec{ID: id}), meta.MustNew),
		meta.Put(item(userPK(id), skProfile, u), meta.MustNew),
		meta.Put(item(pkUsers, userIndexSK(name), usernameRec{ID: id}), meta.MustNew),
	})
	if isConflict(err) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrExists)
	}
	if err != nil {
		return User{}, storeErr("create user", err)
	}
	pr := Principal{UserID: id, Name: name, Admin: admin}
	if _, err := b.ensureDir(ctx, pr.Home()); err != nil {
		return User{}, fmt.Errorf("create home of %s: %w", name, err)
	}
	return b.user(id, u), nil
}

func (b *Backend) user(id string, u userRec) User {
	return User{ID: id, Name: u.Name, Admin: u.Admin, Home: Principal{Name: u.Name}.Home().String(), Created: fromNanos(u.Created)}
}

// lookupUser finds a user by name.
func (b *Backend) lookupUser(ctx context.Context, name string) (User, error) {
	if err := ValidUserName(name); err != nil {
		return User{}, fmt.Errorf("user %s: %w", clipID(name), ErrNotFound)
	}
	ix, _, err := getRec[usernameRec](ctx, b.meta, usernamePK(name), skUser)
	if isNotFound(err) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	u, _, err := getRec[userRec](ctx, b.meta, userPK(ix.ID), skProfile)
	if isNotFound(err) {
		return User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	return b.user(ix.ID, u), nil
}

// Whoami describes the principal's own user.
func (b *Backend) Whoami(ctx context.Context, pr Principal) (User, error) {
	if pr.UserID == "" {
		return User{}, ErrUnauthorized
	}
	u, _, err := getRec[userRec](ctx, b.meta, userPK(pr.UserID), skProfile)
	if isNotFound(err) {
		return User{}, ErrUnauthorized
	}
	if err != nil {
		return User{}, err
	}
	return b.user(pr.UserID, u), nil
}

// ListUsers lists all users by name. Admins only.
func (b *Backend) ListUsers(ctx context.Context, pr Principal) ([]User, error) {
	if !pr.Admin {
		return nil, ErrForbidden
	}
	out := []User{}
	after := ""
	for {
		pg, err := b.meta.Query(ctx, pkUsers, meta.QueryOpts{After: after})
		if err != nil {
			return nil, err
		}
		for _, it := range pg.Items {
			ix, err := decode[usernameRec](it)
			if err != nil {
				return nil, err
			}
			u, _, err := getRec[userRec](ctx, b.meta, userPK(ix.ID), skProfile)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, b.user(ix.ID, u))
		}
		if pg.Next == "" {
			return out, nil
		}
		after = pg.Next
	}
}

// DeleteUser removes a user, revokes all their tokens and empties their
// trash. Their files stay where they are (an admin can move or delete
// /home/<name>; a new user of that name needs it gone first). Admins only;
// an admin cannot delete themselves.
func (b *Backend) DeleteUser(ctx context.Context, pr Principal, name string) error {
	if !pr.Admin {
		return ErrForbidden
	}
	u, err := b.lookupUser(ctx, name)
	if err != nil {
		return err
	}
	if u.ID == pr.UserID {
		return fmt.Errorf("%w: you cannot delete your own user", ErrInvalid)
	}
	// Their trash would be out of everyone's reach once they are gone.
	if _, err := b.EmptyTrash(ctx, Principal{UserID: u.ID, Name: u.Name}); err != nil {
		return fmt.Errorf("empty the trash of %s: %w", name, err)
	}
	// Profile first: from then on no token of the user authenticates.
	if err := b.meta.Transact(ctx, []meta.Op{
		meta.Delete(userPK(u.ID), skProfile, meta.MustLive),
		meta.Delete(usernamePK(name), skUser, meta.NoCond),
		meta.Delete(pkUsers, userIndexSK(name), meta.NoCond),
	}); err != nil {
		if isConflict(err) {
			return fmt.Errorf("user %s: %w", name, ErrNotFound)
		}
		return storeErr("delete user", err)
	}
	return b.eachToken(ctx, u.ID, func(id string, ref tokenRefRec) error {
		return b.meta.Transact(ctx, []meta.Op{
			meta.Delete(tokenPK(ref.Hash), skToken, meta.NoCond),
			meta.Delete(userPK(u.ID), tokenSK(id), meta.NoCond),
		})
	})
}

func (b *Backend) eachToken(ctx context.Context, userID string, fn func(id string, ref tokenRefRec) error) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, userPK(userID), meta.QueryOpts{Prefix: tokenPrefix, After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			ref, err := decode[tokenRefRec](it)
			if err != nil {
				return err
			}
			if err := fn(strings.TrimPrefix(it.SK, tokenPrefix), ref); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// tokenOwner resolves whose tokens an operation is about: pr's own when user
// is empty or pr's name, anyone's for an admin.
func (b *Backend) tokenOwner(ctx context.Context, pr Principal, user string) (User, error) {
	if pr.UserID == "" {
		return User{}, ErrUnauthorized
	}
	if user == "" || user == pr.Name {
		return b.Whoami(ctx, pr)
	}
	if !pr.Admin {
		return User{}, ErrForbidden
	}
	return b.lookupUser(ctx, user)
}

// CreateToken makes a new token for user ("" for pr itself). ttl 0 means no
// expiry. The secret is returned once and stored only as a hash.
func (b *Backend) CreateToken(ctx context.Context, pr Principal, user, name string, ttl time.Duration) (Token, error) {
	if len(name) > 64 || storepath.ValidName(name) != nil && name != "" {
		return Token{}, fmt.Errorf("%w: token name must be at most 64 printable characters", ErrInvalid)
	}
	if ttl < 0 {
		return Token{}, fmt.Errorf("%w: negative expiry", ErrInvalid)
	}
	u, err := b.tokenOwner(ctx, pr, user)
	if err != nil {
		return Token{}, err
	}
	return b.addToken(ctx, u.ID, u.Name, name, NewToken(), ttl)
}

func (b *Backend) addToken(ctx context.Context, userID, userName, name, secret string, ttl time.Duration) (Token, error) {
	now := b.now()
	id := newID()[:12]
	h := hashToken(secret)
	var exp int64
	var expT *time.Time
	if ttl > 0 {
		t := now.Add(ttl).UTC()
		exp, expT = t.UnixNano(), &t
	}
	tok := item(tokenPK(h), skToken, tokenRec{UserID: userID, TokenID: id, Hash: h, Name: name, Created: nanos(now), Expires: exp})
	ref := item(userPK(userID), tokenSK(id), tokenRefRec{Hash: h, Name: name, Created: nanos(now), Expires: exp})
	if expT != nil {
		tok.ExpiresAt, ref.ExpiresAt = *expT, *expT
	}
	if err := b.meta.Transact(ctx, []meta.Op{
		meta.Put(tok, meta.MustNew),
		meta.Put(ref, meta.MustNew),
		meta.Check(userPK(userID), skProfile, meta.MustLive),
	}); err != nil {
		return Token{}, storeErr("create token", err)
	}
	return Token{ID: id, User: userName, Name: name, Created: now.UTC(), Expires: expT, Secret: secret}, nil
}

// ListTokens lists the tokens of user ("" for pr itself), without secrets.
func (b *Backend) ListTokens(ctx context.Context, pr Principal, user string) ([]Token, error) {
	u, err := b.tokenOwner(ctx, pr, user)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	err = b.eachToken(ctx, u.ID, func(id string, ref tokenRefRec) error {
		t := Token{ID: id, User: u.Name, Name: ref.Name, Created: fromNanos(ref.Created)}
		if ref.Expires != 0 {
			e := fromNanos(ref.Expires)
			t.Expires = &e
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// RevokeToken deletes a token of user ("" for pr itself) by its ID.
func (b *Backend) RevokeToken(ctx context.Context, pr Principal, user, id string) error {
	u, err := b.tokenOwner(ctx, pr, user)
	if err != nil {
		return err
	}
	if id == "" || len(id) > 26 {
		return fmt.Errorf("token %q: %w", clipID(id), ErrNotFound)
	}
	ref, it, err := getRec[tokenRefRec](ctx, b.meta, userPK(u.ID), tokenSK(id))
	if isNotFound(err) {
		return fmt.Errorf("token %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	return b.meta.Transact(ctx, []meta.Op{
		meta.Delete(tokenPK(ref.Hash), skToken, meta.NoCond),
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
	})
}

// OwnerToken mints a token for the first admin user, for a process that
// owns the store (the embedded server of local mode, or `strata serve` on a
// data directory) to hand to local clients through a file only the owner's
// user can read. It is not reachable over the API.
func (b *Backend) OwnerToken(ctx context.Context, name string, ttl time.Duration) (Token, error) {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, pkUsers, meta.QueryOpts{After: after})
		if err != nil {
			return Token{}, err
		}
		for _, it := range pg.Items {
			ix, err := decode[usernameRec](it)
			if err != nil {
				return Token{}, err
			}
			u, _, err := getRec[userRec](ctx, b.meta, userPK(ix.ID), skProfile)
			if err == nil && u.Admin {
				return b.addToken(ctx, ix.ID, u.Name, name, NewToken(), ttl)
			}
		}
		if pg.Next == "" {
			return Token{}, fmt.Errorf("%w: no admin user", ErrNotFound)
		}
		after = pg.Next
	}
}

// RevokeOwnerToken revokes a token minted by OwnerToken.
func (b *Backend) RevokeOwnerToken(ctx context.Context, t Token) error {
	u, err := b.lookupUser(ctx, t.User)
	if err != nil {
		return err
	}
	return b.RevokeToken(ctx, Principal{UserID: u.ID, Name: u.Name, Admin: true}, "", t.ID)
}
