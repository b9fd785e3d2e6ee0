// Package identity is who is who in Strata: users, their API tokens,
// passwords and AWS identities, groups, and the policies attached to
// them (with the cache the decision reads them through). Authenticate
// turns a token into the principal every other operation is decided for;
// managing all of these asks the one authorization decision (iam) like
// every other operation. It keeps its records in the metadata store and knows
// nothing of files: what a user's coming and going means for the file tree
// (a home folder, a trash) is the Lifecycle's.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/lazyregexp"
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
			panic(fmt.Sprintf("identity: crypto/rand: %v", err))
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

var userNameRE = lazyregexp.New(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidUserName checks a user name: a lowercase letter, then up to 31 of
// [a-z0-9_-]. Names become home folder names, so they are kept plain.
func ValidUserName(name string) error {
	if !userNameRE().MatchString(name) {
		return fmt.Errorf("%w: user name %q must be a lowercase letter followed by up to 31 of a-z, 0-9, _ and -", errs.ErrInvalid, clip.Text(name))
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
	// Password says whether the user has a password to log in with.
	Password bool `json:"password"`
	// Groups the user is in, and Policies attached to the user directly
	// (ListUsers and Whoami fill them).
	Groups   []string `json:"groups,omitempty"`
	Policies []string `json:"policies,omitempty"`
	// AWSIdentities are the ARNs that log in as the user, as the admin
	// gave them (ListUsers and Whoami fill them).
	AWSIdentities []string `json:"awsIdentities,omitempty"`
	// Applies is, for Whoami, every policy that decides for the user (of
	// the user and of their groups) with its document, and the session
	// policy of the token in use.
	Applies []PolicyInfo `json:"applies,omitempty"`
	Session string       `json:"sessionPolicy,omitempty"`
}

// Token describes an API token. Secret is set only when it is created.
type Token struct {
	ID      string     `json:"id"`
	User    string     `json:"user"`
	Name    string     `json:"name,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Secret  string     `json:"token,omitempty"`
	// Session is the token's session policy, "" for none.
	Session string `json:"sessionPolicy,omitempty"`
}

// Records and keys of identity in the metadata store (docs/architecture.md
// has the whole table).
const (
	skProfile = "profile"
	skUser    = "user"
	skToken   = "token"
	pkUsers   = "users"

	tokenPrefix = "key#"
)

func userPK(id string) string        { return "user#" + id }
func usernamePK(name string) string  { return "username#" + name }
func tokenPK(hash string) string     { return "token#" + hash }
func tokenSK(tokenID string) string  { return tokenPrefix + tokenID }
func userIndexSK(name string) string { return "u#" + name }

// userRec is the item at (user#<id>, profile).
type userRec struct {
	Name    string `json:"name"`
	Admin   bool   `json:"admin,omitempty"`
	Created int64  `json:"c"`
	// Password is the argon2id hash of the user's password (PHC string
	// format), "" for none.
	Password string `json:"pw,omitempty"`
}

// usernameRec is the item at (username#<name>, user): the unique index,
// and at (users, u#<name>): the list.
type usernameRec struct {
	ID string `json:"id"`
}

// tokenRec is the item at (token#<sha256 hex>, token), found on every
// request.
type tokenRec struct {
	UserID  string `json:"u"`
	TokenID string `json:"id"`
	Hash    string `json:"h"`
	Name    string `json:"n,omitempty"`
	Created int64  `json:"c"`
	Expires int64  `json:"x,omitempty"`
	// Via, when set, is the only entry point the token works through
	// (iam.ViaSocket: the owner's token of a data directory).
	Via string `json:"via,omitempty"`
}

// tokenRefRec is the item at (user#<id>, key#<tokenID>), to list and
// revoke.
type tokenRefRec struct {
	Hash    string `json:"h"`
	Name    string `json:"n,omitempty"`
	Created int64  `json:"c"`
	Expires int64  `json:"x,omitempty"`
	// Session is the token's session policy (a document), which can only
	// narrow what its user may do; "" for none.
	Session string `json:"sp,omitempty"`
}

// Lifecycle is what the rest of the store does as users come and go: the
// file tree gives a new user a home folder and empties a deleted user's
// trash and upload sessions.
type Lifecycle interface {
	// UserCreating may refuse a new user before it exists (its home
	// folder is taken).
	UserCreating(ctx context.Context, name string) error
	// UserCreated prepares what a new user needs.
	UserCreated(ctx context.Context, id, name string) error
	// UserDeleting removes what only the user could reach, before the
	// user is gone.
	UserDeleting(ctx context.Context, id, name string) error
}

// Config assembles a Service.
type Config struct {
	Meta meta.Store
	// Decider is the one authorization decision; nil means iam.HomeRule.
	Decider iam.Decider
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PasswordCost is what hashing a new password costs (zero: RFC 9106's
	// second recommended option, 64 MiB and 3 passes).
	PasswordCost PasswordCost
}

// Service manages users and tokens.
type Service struct {
	meta    meta.Store
	decider iam.Decider
	life    Lifecycle
	now     func() time.Time
	hashSem chan struct{} // password hashes at once (64 MiB each)
	cache   policyCache
	cost    PasswordCost
	// dummy is checked against when a login names no user (or one with
	// no password), so that the answer takes as long as for a real one;
	// made at the first login.
	dummyOnce sync.Once
	dummy     string
}

// New returns the identity service over the metadata store.
func New(cfg Config) (*Service, error) {
	if cfg.Meta == nil {
		return nil, errors.New("identity: Meta is required")
	}
	s := &Service{meta: cfg.Meta, decider: cfg.Decider, now: cfg.Now, life: noLifecycle{},
		hashSem: make(chan struct{}, max(1, runtime.NumCPU()/2))}
	if s.decider == nil {
		s.decider = iam.HomeRule{}
	}
	s.cost = cfg.PasswordCost.orDefault()
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// SetLifecycle tells the service what users' coming and going means to
// the rest of the store. It is called once, while the store is wired,
// before any request: the file tree and identity each need the other.
func (s *Service) SetLifecycle(l Lifecycle) { s.life = l }

type noLifecycle struct{}

func (noLifecycle) UserCreating(context.Context, string) error         { return nil }
func (noLifecycle) UserCreated(context.Context, string, string) error  { return nil }
func (noLifecycle) UserDeleting(context.Context, string, string) error { return nil }

func (s *Service) allow(ctx context.Context, pr iam.Principal, act iam.Action, res iam.Resource) error {
	return iam.Authorize(ctx, s.decider, pr, act, res)
}

// Authenticate finds the principal behind a token, for a request that came
// through the entry point iam.RequestFrom(ctx).Via. Anything wrong with the
// token (format, unknown, revoked, expired, deleted user, an entry point
// it is not for) is ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (iam.Principal, error) {
	if !ValidTokenFormat(token) {
		return iam.Principal{}, errs.ErrUnauthorized
	}
	h := hashToken(token)
	gen, err := s.fresh(ctx)
	if err != nil {
		return iam.Principal{}, err
	}
	a, ok := s.cache.cachedAuth(h)
	if !ok {
		if a, err = s.findToken(ctx, h); err != nil {
			return iam.Principal{}, err
		}
		s.cache.keepAuth(gen, h, a)
	}
	// The item was found by the hash, so the hashes match; the explicit
	// constant-time comparison guards a store that would ever return
	// another item (a prefix match, a corrupted key).
	if subtle.ConstantTimeCompare([]byte(a.hash), []byte(h)) != 1 {
		return iam.Principal{}, errs.ErrUnauthorized
	}
	if a.expires != 0 && s.now().UnixNano() > a.expires {
		return iam.Principal{}, errs.ErrUnauthorized
	}
	via := iam.RequestFrom(ctx).Via
	if a.via != "" && a.via != via {
		return iam.Principal{}, errs.ErrUnauthorized
	}
	pr := iam.User(a.userID, a.name, a.admin, a.tokenID)
	if via != "" {
		pr.Via = via
	}
	return pr, nil
}

// findToken reads the token with hash h and its user's profile from the
// store: ErrUnauthorized if either is gone.
func (s *Service) findToken(ctx context.Context, h string) (authRec, error) {
	t, _, err := record.Get[tokenRec](ctx, s.meta, tokenPK(h), skToken)
	if record.IsNotFound(err) {
		return authRec{}, errs.ErrUnauthorized
	}
	if err != nil {
		return authRec{}, err
	}
	stored := t.Hash
	if stored == "" {
		// Written before token items carried their hash: the reference
		// under the user has it.
		ref, _, err := record.Get[tokenRefRec](ctx, s.meta, userPK(t.UserID), tokenSK(t.TokenID))
		if record.IsNotFound(err) {
			return authRec{}, errs.ErrUnauthorized
		}
		if err != nil {
			return authRec{}, err
		}
		stored = ref.Hash
	}
	u, _, err := record.Get[userRec](ctx, s.meta, userPK(t.UserID), skProfile)
	if record.IsNotFound(err) {
		return authRec{}, errs.ErrUnauthorized
	}
	if err != nil {
		return authRec{}, err
	}
	return authRec{hash: stored, userID: t.UserID, tokenID: t.TokenID, name: u.Name, admin: u.Admin, expires: t.Expires, via: t.Via}, nil
}

// Bootstrap creates the admin user on an empty store, with token as its
// first token (a fresh one when token is empty). It returns the token and
// true when it created the user, or "" and false when the store has users.
// A token given must look like one, and on an empty store, where it
// becomes the admin's, be as strong as a random one (CheckChosenSecret).
func (s *Service) Bootstrap(ctx context.Context, token string) (string, bool, error) {
	if err := s.ensureBuiltins(ctx); err != nil {
		return "", false, err
	}
	has, err := s.HasUsers(ctx)
	if err != nil || has {
		// Only an empty store is bootstrapped: once any user exists
		// (even if "admin" was since deleted), no superuser appears at a
		// restart, and a token given is not used (nor judged).
		return "", false, err
	}
	if token != "" {
		if !ValidTokenFormat(token) {
			return "", false, fmt.Errorf("%w: the admin token must be %q followed by 32 to 128 letters and digits", errs.ErrInvalid, TokenPrefix)
		}
		if err := CheckChosenSecret(strings.TrimPrefix(token, TokenPrefix)); err != nil {
			return "", false, fmt.Errorf("the admin token is too weak: %w (after %s it needs at least %d characters, about %d bits, no repeats or runs: %s$(openssl rand -hex 24) is one)",
				err, TokenPrefix, MinChosenSecretLen, MinChosenSecretBits, TokenPrefix)
		}
	}
	u, err := s.createUser(ctx, "admin", true)
	if errors.Is(err, errs.ErrExists) {
		return "", false, nil // another server bootstrapped first
	}
	if err != nil {
		return "", false, err
	}
	if token == "" {
		token = NewToken()
	}
	if _, err := s.addToken(ctx, u.ID, u.Name, "bootstrap", token, 0, "", ""); err != nil {
		return "", false, err
	}
	return token, true, nil
}

// HasUsers reports whether the store has any user.
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	pg, err := s.meta.Query(ctx, pkUsers, meta.QueryOpts{Limit: 1})
	if err != nil {
		return false, err
	}
	return len(pg.Items) > 0, nil
}

// CreateUser adds a user with a home folder /home/<name>.
func (s *Service) CreateUser(ctx context.Context, pr iam.Principal, name string, admin bool) (User, error) {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed(name)); err != nil {
		return User{}, err
	}
	return s.createUser(ctx, name, admin)
}

func (s *Service) createUser(ctx context.Context, name string, admin bool) (User, error) {
	if err := ValidUserName(name); err != nil {
		return User{}, err
	}
	if err := s.life.UserCreating(ctx, name); err != nil {
		return User{}, err
	}
	id := record.NewID()
	now := s.now()
	u := userRec{Name: name, Admin: admin, Created: record.Nanos(now)}
	err := s.meta.Transact(ctx, append([]meta.Op{
		meta.Put(record.Item(usernamePK(name), skUser, usernameRec{ID: id}), meta.MustNew),
		meta.Put(record.Item(userPK(id), skProfile, u), meta.MustNew),
		meta.Put(record.Item(pkUsers, userIndexSK(name), usernameRec{ID: id}), meta.MustNew),
	}, userAccessOps(id, name, admin)...))
	if record.IsConflict(err) {
		return User{}, fmt.Errorf("user %s: %w", name, errs.ErrExists)
	}
	if err != nil {
		return User{}, errs.FromStore("create user", err)
	}
	if err := s.life.UserCreated(ctx, id, name); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	return s.user(id, u), nil
}

func (s *Service) user(id string, u userRec) User {
	return User{ID: id, Name: u.Name, Admin: u.Admin, Home: iam.HomeOf(u.Name).String(), Created: record.FromNanos(u.Created),
		Password: u.Password != ""}
}

// lookupUser finds a user by name.
func (s *Service) lookupUser(ctx context.Context, name string) (User, error) {
	if err := ValidUserName(name); err != nil {
		return User{}, fmt.Errorf("user %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	ix, _, err := record.Get[usernameRec](ctx, s.meta, usernamePK(name), skUser)
	if record.IsNotFound(err) {
		return User{}, fmt.Errorf("user %s: %w", name, errs.ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	u, _, err := record.Get[userRec](ctx, s.meta, userPK(ix.ID), skProfile)
	if record.IsNotFound(err) {
		return User{}, fmt.Errorf("user %s: %w", name, errs.ErrNotFound)
	}
	if err != nil {
		return User{}, err
	}
	return s.user(ix.ID, u), nil
}

// UserID is the ID of the user name, for the parts of the core that act on
// a user's things once the decision allowed it.
func (s *Service) UserID(ctx context.Context, name string) (string, error) {
	u, err := s.lookupUser(ctx, name)
	return u.ID, err
}

// UserIDs calls fn with the ID of every user, for the parts of the core
// that count what all users hold (a recount of a home folder's usage).
func (s *Service) UserIDs(ctx context.Context, fn func(id string) error) error {
	return s.eachUser(ctx, func(id string, _ userRec) (bool, error) { return true, fn(id) })
}

// Whoami describes the principal's own user.
func (s *Service) Whoami(ctx context.Context, pr iam.Principal) (User, error) {
	if err := s.allow(ctx, pr, iam.GetUser, iam.UserNamed(pr.Name)); err != nil {
		return User{}, err
	}
	u, _, err := record.Get[userRec](ctx, s.meta, userPK(pr.UserID), skProfile)
	if record.IsNotFound(err) {
		return User{}, errs.ErrUnauthorized
	}
	if err != nil {
		return User{}, err
	}
	out, err := s.withAccess(ctx, s.user(pr.UserID, u))
	if err != nil {
		return User{}, err
	}
	// What decides for them: their policies and their groups', and their
	// token's session policy.
	names := map[string]bool{}
	for _, p := range out.Policies {
		names[p] = true
	}
	for _, g := range out.Groups {
		if err := s.eachItem(ctx, groupPK(g), polPrefix, func(it meta.Item) error {
			names[strings.TrimPrefix(it.SK, polPrefix)] = true
			return nil
		}); err != nil {
			return User{}, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		rec, _, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
		if record.IsNotFound(err) {
			continue
		}
		if err != nil {
			return User{}, err
		}
		out.Applies = append(out.Applies, PolicyInfo{Name: name, Document: rec.Doc, Created: record.FromNanos(rec.Created),
			Updated: record.FromNanos(rec.Updated), BuiltIn: builtIn(name)})
	}
	if pr.TokenID != "" {
		ref, _, err := record.Get[tokenRefRec](ctx, s.meta, userPK(pr.UserID), tokenSK(pr.TokenID))
		if err != nil && !record.IsNotFound(err) {
			return User{}, err
		}
		out.Session = ref.Session
	}
	return out, nil
}

// withAccess adds the user's groups, directly attached policies and AWS
// identities, all read in the one query of the user's items.
func (s *Service) withAccess(ctx context.Context, u User) (User, error) {
	u.Groups, u.Policies = []string{}, []string{}
	err := s.eachItem(ctx, userPK(u.ID), "", func(it meta.Item) error {
		switch {
		case strings.HasPrefix(it.SK, grpPrefix):
			u.Groups = append(u.Groups, strings.TrimPrefix(it.SK, grpPrefix))
		case strings.HasPrefix(it.SK, polPrefix):
			u.Policies = append(u.Policies, strings.TrimPrefix(it.SK, polPrefix))
		case strings.HasPrefix(it.SK, awsPrefix):
			ref, err := record.Decode[awsRefRec](it)
			if err != nil {
				return err
			}
			u.AWSIdentities = append(u.AWSIdentities, ref.ARN)
		}
		return nil
	})
	return u, err
}

// ListUsers lists all users by name.
func (s *Service) ListUsers(ctx context.Context, pr iam.Principal) ([]User, error) {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed("*")); err != nil {
		return nil, err
	}
	out := []User{}
	err := s.eachUser(ctx, func(id string, u userRec) (bool, error) {
		withAccess, err := s.withAccess(ctx, s.user(id, u))
		out = append(out, withAccess)
		return err == nil, err
	})
	return out, err
}

// eachUser calls fn for every user by name until it returns false.
func (s *Service) eachUser(ctx context.Context, fn func(id string, u userRec) (bool, error)) error {
	after := ""
	for {
		pg, err := s.meta.Query(ctx, pkUsers, meta.QueryOpts{After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			ix, err := record.Decode[usernameRec](it)
			if err != nil {
				return err
			}
			u, _, err := record.Get[userRec](ctx, s.meta, userPK(ix.ID), skProfile)
			if record.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if more, err := fn(ix.ID, u); err != nil || !more {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// DeleteUser removes a user, revokes all their tokens and empties their
// trash. Their files stay where they are (an admin can move or delete
// /home/<name>; a new user of that name needs it gone first). One cannot
// delete oneself.
func (s *Service) DeleteUser(ctx context.Context, pr iam.Principal, name string) error {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed(name)); err != nil {
		return err
	}
	u, err := s.lookupUser(ctx, name)
	if err != nil {
		return err
	}
	if u.ID == pr.UserID {
		return fmt.Errorf("%w: you cannot delete your own user", errs.ErrInvalid)
	}
	if u.Admin {
		if _, err := s.notLastAdmin(ctx, u.ID); err != nil {
			return err
		}
	}
	// What only they could reach would be out of everyone's reach once
	// they are gone.
	if err := s.life.UserDeleting(ctx, u.ID, u.Name); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	// Out of every group and attachment, a transaction at a time.
	gone, err := s.userGoneOps(ctx, u.ID)
	if err != nil {
		return err
	}
	for len(gone) > 0 {
		n := min(len(gone), 90)
		if err := s.meta.Transact(ctx, append(gone[:n:n], bumpPolicies())); err != nil {
			return errs.FromStore("delete user", err)
		}
		gone = gone[n:]
	}
	s.cache.invalidate()
	// Profile first: from then on no token of the user authenticates
	// (on every server within PolicyTTL: the counter moves with it).
	if err := s.meta.Transact(ctx, []meta.Op{
		meta.Delete(userPK(u.ID), skProfile, meta.MustLive),
		meta.Delete(userPK(u.ID), skLimits, meta.NoCond),
		meta.Delete(usernamePK(name), skUser, meta.NoCond),
		meta.Delete(pkUsers, userIndexSK(name), meta.NoCond),
		bumpPolicies(),
	}); err != nil {
		if record.IsConflict(err) {
			return fmt.Errorf("user %s: %w", name, errs.ErrNotFound)
		}
		return errs.FromStore("delete user", err)
	}
	s.cache.invalidate()
	if err := s.eachToken(ctx, u.ID, func(id string, ref tokenRefRec) error {
		return s.meta.Transact(ctx, []meta.Op{
			meta.Delete(tokenPK(ref.Hash), skToken, meta.NoCond),
			meta.Delete(userPK(u.ID), tokenSK(id), meta.NoCond),
		})
	}); err != nil {
		return err
	}
	// Their AWS identities and SSH keys are free to be someone else's.
	if err := s.eachOfUser(ctx, u.ID, sshPrefix, func(it meta.Item) error { return s.dropSSH(ctx, u.ID, it) }); err != nil {
		return err
	}
	return s.eachOfUser(ctx, u.ID, awsPrefix, func(it meta.Item) error { return s.dropAWS(ctx, u.ID, it) })
}

func (s *Service) eachToken(ctx context.Context, userID string, fn func(id string, ref tokenRefRec) error) error {
	return s.eachOfUser(ctx, userID, tokenPrefix, func(it meta.Item) error {
		ref, err := record.Decode[tokenRefRec](it)
		if err != nil {
			return err
		}
		return fn(strings.TrimPrefix(it.SK, tokenPrefix), ref)
	})
}

// eachOfUser calls fn for each of the user's items whose sort key starts
// with prefix, page by page, until it fails.
func (s *Service) eachOfUser(ctx context.Context, userID, prefix string, fn func(it meta.Item) error) error {
	return record.Each(ctx, s.meta, userPK(userID), prefix, fn)
}

// tokenOwner resolves whose tokens an operation is about (user "" is pr's
// own) once pr may manage them.
func (s *Service) tokenOwner(ctx context.Context, pr iam.Principal, user, id string) (User, error) {
	if user == "" {
		user = pr.Name
	}
	if err := s.allow(ctx, pr, iam.ManageTokens, iam.TokenOf(user, id)); err != nil {
		return User{}, err
	}
	if user == pr.Name {
		return s.Whoami(ctx, pr)
	}
	return s.lookupUser(ctx, user)
}

// CreateToken makes a new token for user ("" for pr itself). ttl 0 means
// no expiry. A token never outlives the token it was made with: its
// expiry is cut to its parent's. It is bound to no entry point, even when
// made with a token that is: that is how the owner of a data directory
// makes a token for the network, through the private socket. session, if
// not empty, is a session policy: the token may then do only what both its
// user's policies and it allow (a token made with a token that has one
// keeps it too). The secret is returned once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, pr iam.Principal, user, name string, ttl time.Duration, session []byte) (Token, error) {
	u, err := s.tokenOwner(ctx, pr, user, "")
	if err != nil {
		return Token{}, err
	}
	if len(name) > 64 || storepath.ValidName(name) != nil && name != "" {
		return Token{}, fmt.Errorf("%w: token name must be at most 64 printable characters", errs.ErrInvalid)
	}
	if ttl < 0 {
		return Token{}, fmt.Errorf("%w: negative expiry", errs.ErrInvalid)
	}
	if len(session) > 0 {
		if _, err := iam.Parse("session", session); err != nil {
			return Token{}, err
		}
	}
	sessionDoc := string(session)
	if pr.TokenID != "" {
		parent, _, err := record.Get[tokenRefRec](ctx, s.meta, userPK(pr.UserID), tokenSK(pr.TokenID))
		if record.IsNotFound(err) {
			return Token{}, errs.ErrUnauthorized // revoked meanwhile
		}
		if err != nil {
			return Token{}, err
		}
		if parent.Expires != 0 {
			left := time.Duration(parent.Expires - s.now().UnixNano())
			if left <= 0 {
				return Token{}, errs.ErrUnauthorized
			}
			if ttl == 0 || ttl > left {
				ttl = left
			}
		}
		// Nor does it do more than its parent: it keeps the parent's
		// session policy.
		switch {
		case parent.Session != "" && sessionDoc == "":
			sessionDoc = parent.Session
		case parent.Session != "" && sessionDoc != parent.Session:
			return Token{}, fmt.Errorf("%w: this token has a session policy; a token made with it keeps that one (make it with a token that has none)", errs.ErrForbidden)
		}
	}
	return s.addToken(ctx, u.ID, u.Name, name, NewToken(), ttl, sessionDoc, "")
}

// addToken stores a new token, in one transaction with also (if any).
func (s *Service) addToken(ctx context.Context, userID, userName, name, secret string, ttl time.Duration, session, via string, also ...meta.Op) (Token, error) {
	now := s.now()
	id := record.NewID()[:12]
	h := hashToken(secret)
	var exp int64
	var expT *time.Time
	if ttl > 0 {
		t := now.Add(ttl).UTC()
		exp, expT = t.UnixNano(), &t
	}
	tok := record.Item(tokenPK(h), skToken, tokenRec{UserID: userID, TokenID: id, Hash: h, Name: name, Created: record.Nanos(now), Expires: exp, Via: via})
	ref := record.Item(userPK(userID), tokenSK(id), tokenRefRec{Hash: h, Name: name, Created: record.Nanos(now), Expires: exp, Session: session})
	if expT != nil {
		tok.ExpiresAt, ref.ExpiresAt = *expT, *expT
	}
	if err := s.meta.Transact(ctx, append([]meta.Op{
		meta.Put(tok, meta.MustNew),
		meta.Put(ref, meta.MustNew),
		meta.Check(userPK(userID), skProfile, meta.MustLive),
	}, also...)); err != nil {
		return Token{}, errs.FromStore("create token", err)
	}
	return Token{ID: id, User: userName, Name: name, Created: now.UTC(), Expires: expT, Secret: secret, Session: session}, nil
}

// ListTokens lists the tokens of user ("" for pr itself), without secrets.
func (s *Service) ListTokens(ctx context.Context, pr iam.Principal, user string) ([]Token, error) {
	u, err := s.tokenOwner(ctx, pr, user, "*")
	if err != nil {
		return nil, err
	}
	out := []Token{}
	err = s.eachToken(ctx, u.ID, func(id string, ref tokenRefRec) error {
		t := Token{ID: id, User: u.Name, Name: ref.Name, Created: record.FromNanos(ref.Created), Session: ref.Session}
		if ref.Expires != 0 {
			e := record.FromNanos(ref.Expires)
			t.Expires = &e
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// RevokeToken deletes a token of user ("" for pr itself) by its ID.
func (s *Service) RevokeToken(ctx context.Context, pr iam.Principal, user, id string) error {
	u, err := s.tokenOwner(ctx, pr, user, id)
	if err != nil {
		return err
	}
	return s.revoke(ctx, u.ID, id, true)
}

// revoke removes a token. everywhere: it may be in the cache of any
// server, which must drop it within PolicyTTL (the counter moves, and
// every server drops every token it found); else it never left this one
// (an SSH session's), and only this server forgets it.
func (s *Service) revoke(ctx context.Context, userID, id string, everywhere bool) error {
	if id == "" || len(id) > 26 {
		return fmt.Errorf("token %q: %w", clip.Text(id), errs.ErrNotFound)
	}
	ref, it, err := record.Get[tokenRefRec](ctx, s.meta, userPK(userID), tokenSK(id))
	if record.IsNotFound(err) {
		return fmt.Errorf("token %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	ops := []meta.Op{
		meta.Delete(tokenPK(ref.Hash), skToken, meta.NoCond),
		meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
	}
	if everywhere {
		ops = append(ops, bumpPolicies())
	}
	if err := s.meta.Transact(ctx, ops); err != nil {
		return err
	}
	if everywhere {
		s.cache.invalidate()
	} else {
		s.cache.forget(ref.Hash)
	}
	return nil
}

// OwnerToken mints a token for the first admin user, for a process that
// owns the store (the embedded server of local mode, or `strata serve` on
// a data directory) to hand to local clients through a file only the
// owner's user can read. It is not reachable over the API, and the token
// works only on the data directory's private socket (iam.ViaSocket): a
// copy of the file is of no use over the network.
func (s *Service) OwnerToken(ctx context.Context, name string, ttl time.Duration) (Token, error) {
	var tok Token
	found := false
	err := s.eachUser(ctx, func(id string, u userRec) (bool, error) {
		if !u.Admin {
			return true, nil
		}
		var err error
		tok, err = s.addToken(ctx, id, u.Name, name, NewToken(), ttl, "", iam.ViaSocket)
		found = true
		return false, err
	})
	if err == nil && !found {
		err = fmt.Errorf("%w: no admin user", errs.ErrNotFound)
	}
	return tok, err
}

// RevokeOwnerToken revokes a token minted by OwnerToken.
func (s *Service) RevokeOwnerToken(ctx context.Context, t Token) error {
	u, err := s.lookupUser(ctx, t.User)
	if err != nil {
		return err
	}
	// Everywhere: the token works on any server's socket, for whoever
	// can read it.
	return s.revoke(ctx, u.ID, t.ID, true)
}
