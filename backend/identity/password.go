package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// Passwords are hashed with argon2id, RFC 9106's second recommended
// parameters (3 passes over 64 MiB, 4 lanes: the first option's 2 GiB is
// more than a small server has per login), a 16-byte salt and a 32-byte
// tag, stored in the PHC string format so that the parameters can change
// later without breaking old hashes.
const (
	argonTime    = 3
	argonMemory  = 64 << 10 // KiB
	argonThreads = 4
	argonKeyLen  = 32
	argonSaltLen = 16

	// MinPasswordLen and MaxPasswordLen bound a password, in characters
	// and bytes: long enough to resist guessing; short enough that a
	// huge one cannot be used to make the server work for nothing.
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// PasswordCost is the argon2id cost of hashing a new password; the zero
// value is RFC 9106's second recommended option. Old hashes keep the cost
// they were made with (it is in their PHC string).
type PasswordCost struct {
	MemoryKiB uint32
	Passes    uint32
}

func (c PasswordCost) orDefault() PasswordCost {
	if c.MemoryKiB == 0 {
		c.MemoryKiB = argonMemory
	}
	if c.Passes == 0 {
		c.Passes = argonTime
	}
	return c
}

// hashPassword returns the PHC string of password under a fresh salt.
func hashPassword(password string, cost PasswordCost) string {
	cost = cost.orDefault()
	salt := make([]byte, argonSaltLen)
	rand.Read(salt) // never fails
	tag := argon2.IDKey([]byte(password), salt, cost.Passes, cost.MemoryKiB, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, cost.MemoryKiB, cost.Passes, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(tag))
}

// checkPassword reports whether password matches the PHC string phc, in
// time that does not depend on where they differ.
func checkPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<22 || t == 0 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// ValidPassword checks a new password: at least MinPasswordLen
// characters, at most MaxPasswordLen bytes, valid UTF-8, no control
// characters.
func ValidPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw) || strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: a password is text without control characters", errs.ErrInvalid)
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("%w: a password needs at least %d characters", errs.ErrInvalid, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: a password is at most %d bytes", errs.ErrInvalid, MaxPasswordLen)
	}
	return nil
}

// SetPassword sets (or with "" removes) the password of user ("" for pr
// itself). A user changing their own password that is set must give the
// current one; an admin (ManageUsers on the user) need not.
func (s *Service) SetPassword(ctx context.Context, pr iam.Principal, user, current, password string) error {
	if user == "" {
		user = pr.Name
	}
	self := user == pr.Name
	act := iam.ManageUsers
	if self {
		act = iam.ManagePassword
	}
	if err := s.allow(ctx, pr, act, iam.UserNamed(user)); err != nil {
		return err
	}
	if password != "" {
		if err := ValidPassword(password); err != nil {
			return err
		}
	}
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return err
	}
	_, err = record.Optimistic(ctx, "password", func() (struct{}, error) {
		rec, it, err := record.Get[userRec](ctx, s.meta, userPK(u.ID), skProfile)
		if record.IsNotFound(err) {
			return struct{}{}, fmt.Errorf("user %s: %w", user, errs.ErrNotFound)
		}
		if err != nil {
			return struct{}{}, err
		}
		if self && rec.Password != "" && !s.checkHashed(rec.Password, current) {
			return struct{}{}, fmt.Errorf("%w: the current password is wrong", errs.ErrForbidden)
		}
		rec.Password = ""
		if password != "" {
			rec.Password = s.hash(password)
		}
		_, err = s.meta.Put(ctx, record.Item(userPK(u.ID), skProfile, rec), meta.AtVersion(it.Version))
		return struct{}{}, err
	})
	return err
}

// hash and checkHashed run one password hash at a time per pair of cores:
// each takes 64 MiB and a few hundred milliseconds of CPU.
func (s *Service) hash(password string) string {
	s.hashSem <- struct{}{}
	defer func() { <-s.hashSem }()
	return hashPassword(password, s.cost)
}

func (s *Service) checkHashed(phc, password string) bool {
	s.hashSem <- struct{}{}
	defer func() { <-s.hashSem }()
	return checkPassword(phc, password)
}

// Login exchanges a user's name and password for a new token named name,
// expiring after ttl (0: DefaultLoginTTL). A wrong name or password is
// ErrUnauthorized, the same answer in the same time.
func (s *Service) Login(ctx context.Context, user, password, name string, ttl time.Duration) (Token, error) {
	if ttl <= 0 {
		ttl = DefaultLoginTTL
	}
	id, err := s.checkLogin(ctx, user, password)
	if err != nil {
		return Token{}, err
	}
	if name == "" {
		name = "login"
	}
	if len(name) > 64 {
		return Token{}, fmt.Errorf("%w: token name must be at most 64 printable characters", errs.ErrInvalid)
	}
	return s.addToken(ctx, id, user, name, NewToken(), ttl, "", "")
}

// checkLogin is the user ID of user if password is theirs; a wrong name
// or password is ErrUnauthorized, the same answer in the same time.
func (s *Service) checkLogin(ctx context.Context, user, password string) (string, error) {
	s.dummyOnce.Do(func() { s.dummy = hashPassword(NewToken(), s.cost) })
	phc, id := s.dummy, ""
	if u, err := s.lookupUser(ctx, user); err == nil {
		rec, _, err := record.Get[userRec](ctx, s.meta, userPK(u.ID), skProfile)
		if err == nil && rec.Password != "" {
			phc, id = rec.Password, u.ID
		}
	} else if !errors.Is(err, errs.ErrNotFound) {
		return "", err
	}
	// On the record under the name given, if it can be one: a password
	// typed into the name field is not kept.
	who := iam.Principal{Kind: iam.KindUser, UserID: id}
	if ValidUserName(user) == nil {
		who.Name = user
	}
	audit.Note(ctx, who, audit.ActionLogin, iam.UserNamed(who.Name))
	if len(password) > MaxPasswordLen || !s.checkHashed(phc, password) || id == "" {
		return "", errs.ErrUnauthorized
	}
	return id, nil
}

// DefaultLoginTTL is how long a token from a password login lasts.
const DefaultLoginTTL = 30 * 24 * time.Hour
