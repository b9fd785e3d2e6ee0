package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/lazyregexp"
)

// An AWS identity maps to a Strata user by one of three kinds of ARN, the
// ones STS's GetCallerIdentity names:
//
//   - an IAM user, arn:aws:iam::123456789012:user/[path/]name: that user;
//   - an IAM role, arn:aws:iam::123456789012:role/[path/]name: every
//     session of the role (arn:aws:sts::123456789012:assumed-role/name/*);
//   - one role session, arn:aws:sts::123456789012:assumed-role/name/session:
//     that session name only (IAM Identity Center names sessions after the
//     person; elsewhere whoever assumes the role chooses it).
//
// Matching is exact, without wildcards, on the ARN as AWS spells it, but
// for the path of users and roles, which is left out: an assumed-role ARN
// does not carry it, and a name is unique in its account whatever its
// path. A role session is matched by its own ARN first, then by its
// role's. An ARN maps to one user; a user may have several.

// AWSIdentity is an AWS ARN a user logs in as.
type AWSIdentity struct {
	ARN     string    `json:"arn"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
}

// maxARNLen bounds an ARN (IAM's own limit is 2048; these are far shorter).
const maxARNLen = 512

var arnRE = lazyregexp.New(`^arn:(aws(?:-[a-z]+)*):(iam|sts)::([0-9]{12}):(user|role|assumed-role)/(.+)$`)

var (
	awsNameRE = lazyregexp.New(`^[A-Za-z0-9+=,.@_-]{1,128}$`)
	awsPathRE = lazyregexp.New(`^(?:[\x21-\x2E\x30-\x7E]+/)*$`)
)

// awsKeys are the mapping keys an ARN matches, most specific first; for
// a mapping, only the first is its key. It refuses what is no ARN of a
// user, a role or a role session. role says it is a role's.
func awsKeys(arn string) (keys []string, role bool, err error) {
	bad := fmt.Errorf("%w: %q is not the ARN of an IAM user (arn:aws:iam::123456789012:user/name), role (arn:aws:iam::123456789012:role/name) or role session (arn:aws:sts::123456789012:assumed-role/name/session)", errs.ErrInvalid, clip.Text(arn))
	if len(arn) > maxARNLen {
		return nil, false, bad
	}
	m := arnRE().FindStringSubmatch(arn)
	if m == nil {
		return nil, false, bad
	}
	partition, service, account, kind, rest := m[1], m[2], m[3], m[4], m[5]
	iamARN := func(kind, name string) string {
		return "arn:" + partition + ":iam::" + account + ":" + kind + "/" + name
	}
	switch {
	case kind == "assumed-role" && service == "sts":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || !awsNameRE().MatchString(role) || !awsNameRE().MatchString(session) {
			return nil, false, bad
		}
		return []string{arn, iamARN("role", role)}, false, nil
	case (kind == "user" || kind == "role") && service == "iam":
		i := strings.LastIndexByte(rest, '/')
		path, name := rest[:i+1], rest[i+1:]
		if !awsNameRE().MatchString(name) || !awsPathRE().MatchString(path) {
			return nil, false, bad
		}
		return []string{iamARN(kind, name)}, kind == "role", nil
	}
	return nil, false, bad
}

// Records of AWS identities: the index from ARN to user, one item per
// mapping under its user (to list and to delete with the user), and the
// signed login requests already used.
const (
	skAWSIndex = "awsid"
	skAWSOnce  = "once"
	awsPrefix  = "aws#"
)

func awsIndexPK(key string) string   { return "awsid#" + key }
func awsSK(key string) string        { return awsPrefix + key }
func awsOncePK(digest string) string { return "awsonce#" + digest }

// awsIndexRec is the item at (awsid#<key>, awsid).
type awsIndexRec struct {
	UserID string `json:"u"`
}

// awsRefRec is the item at (user#<id>, aws#<key>).
type awsRefRec struct {
	ARN     string `json:"arn"` // as the admin gave it
	Created int64  `json:"c"`
}

// AddAWSIdentity maps arn to user: logging in with that AWS identity logs
// in as them.
func (s *Service) AddAWSIdentity(ctx context.Context, pr iam.Principal, user, arn string) (AWSIdentity, error) {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed(user)); err != nil {
		return AWSIdentity{}, err
	}
	keys, _, err := awsKeys(arn)
	if err != nil {
		return AWSIdentity{}, err
	}
	key := keys[0]
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return AWSIdentity{}, err
	}
	now := s.now()
	if err := s.addMapping(ctx, mapping{what: "AWS identity", key: key, pk: awsIndexPK(key), sk: skAWSIndex,
		index: awsIndexRec{UserID: u.ID}, userID: u.ID, userName: user,
		ref: record.Item(userPK(u.ID), awsSK(key), awsRefRec{ARN: arn, Created: record.Nanos(now)})}); err != nil {
		return AWSIdentity{}, err
	}
	return AWSIdentity{ARN: arn, User: user, Created: now.UTC()}, nil
}

// RemoveAWSIdentity removes the mapping of arn (in any form that has the
// same key: with or without a path) to user.
func (s *Service) RemoveAWSIdentity(ctx context.Context, pr iam.Principal, user, arn string) error {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed(user)); err != nil {
		return err
	}
	keys, _, err := awsKeys(arn)
	if err != nil {
		return err
	}
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return err
	}
	_, ref, err := record.Get[awsRefRec](ctx, s.meta, userPK(u.ID), awsSK(keys[0]))
	if record.IsNotFound(err) {
		return fmt.Errorf("%s does not map to %s: %w", keys[0], user, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return s.dropAWS(ctx, u.ID, ref)
}

// dropAWS deletes a mapping: the reference under the user, and the index
// if it still points to them.
func (s *Service) dropAWS(ctx context.Context, userID string, ref meta.Item) error {
	return s.dropMapping(ctx, "AWS identity", userID, ref, awsIndexPK(strings.TrimPrefix(ref.SK, awsPrefix)), skAWSIndex)
}

// AWSIdentities lists the ARNs that map to user.
func (s *Service) AWSIdentities(ctx context.Context, pr iam.Principal, user string) ([]AWSIdentity, error) {
	if err := s.allow(ctx, pr, iam.ManageUsers, iam.UserNamed(user)); err != nil {
		return nil, err
	}
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out := []AWSIdentity{}
	err = s.eachOfUser(ctx, u.ID, awsPrefix, func(it meta.Item) error {
		ref, err := record.Decode[awsRefRec](it)
		if err != nil {
			return err
		}
		out = append(out, AWSIdentity{ARN: ref.ARN, User: user, Created: record.FromNanos(ref.Created)})
		return nil
	})
	return out, err
}

// AWSLogin is a verified AWS login to exchange for a token.
type AWSLogin struct {
	// ARN is who signed, as STS said.
	ARN string
	// Request identifies the signed request, which logs in only once,
	// until Expires (after which it is too old to verify anyway).
	Request string
	Expires time.Time
	// Name and TTL are the new token's (TTL 0: DefaultLoginTTL).
	Name string
	TTL  time.Duration
}

// LoginAWS exchanges a verified AWS identity for a new token of the user
// its ARN maps to. An ARN that maps to nobody, or a request used before,
// is ErrUnauthorized.
func (s *Service) LoginAWS(ctx context.Context, l AWSLogin) (Token, string, error) {
	if l.TTL <= 0 {
		l.TTL = DefaultLoginTTL
	}
	if l.Name == "" {
		l.Name = "aws login"
	}
	if len(l.Name) > 64 {
		return Token{}, "", fmt.Errorf("%w: token name must be at most 64 printable characters", errs.ErrInvalid)
	}
	// On the record under the ARN until a user is found.
	audit.Note(ctx, iam.Principal{}, audit.ActionLogin, iam.Resource{Kind: iam.KindUserR, Owner: "", ID: l.ARN})
	keys, role, err := awsKeys(l.ARN)
	if err != nil || role {
		// STS names users and role sessions, never a role itself.
		return Token{}, "", errs.ErrUnauthorized
	}
	for _, key := range keys {
		ix, _, err := record.Get[awsIndexRec](ctx, s.meta, awsIndexPK(key), skAWSIndex)
		if record.IsNotFound(err) {
			continue
		}
		if err != nil {
			return Token{}, "", err
		}
		u, _, err := record.Get[userRec](ctx, s.meta, userPK(ix.UserID), skProfile)
		if record.IsNotFound(err) {
			return Token{}, "", errs.ErrUnauthorized
		}
		if err != nil {
			return Token{}, "", err
		}
		audit.Note(ctx, iam.Principal{Kind: iam.KindUser, UserID: ix.UserID, Name: u.Name}, audit.ActionLogin, iam.Resource{Kind: iam.KindUserR, Owner: u.Name, ID: l.ARN})
		once := record.Item(awsOncePK(l.Request), skAWSOnce, struct{}{})
		once.ExpiresAt = l.Expires
		t, err := s.addToken(ctx, ix.UserID, u.Name, l.Name, NewToken(), l.TTL, "", "", meta.Put(once, meta.MustNew))
		if record.IsConflict(err) {
			return Token{}, "", errs.ErrUnauthorized // used before, or the user went meanwhile
		}
		return t, key, err
	}
	return Token{}, "", errs.ErrUnauthorized
}
