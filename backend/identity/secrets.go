package identity

import (
	"context"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/record"
)

// HashSecret hashes a secret other than a user's password (a share link's
// password) the way passwords are: argon2id in the PHC string format.
func (s *Service) HashSecret(secret string) string { return s.hash(secret) }

// CheckSecret reports whether secret matches what HashSecret made, in time
// that does not depend on where they differ. A secret longer than
// MaxPasswordLen never matches (and costs no hash).
func (s *Service) CheckSecret(phc, secret string) bool {
	if len(secret) > MaxPasswordLen {
		return false
	}
	return s.checkHashed(phc, secret)
}

// ActAs is the principal of the user id as it stands now (name and admin
// flag), acting through the entry point via with no token: what a share
// link acts as. A user that no longer exists is errs.ErrNotFound.
func (s *Service) ActAs(ctx context.Context, id, via string) (iam.Principal, error) {
	u, _, err := record.Get[userRec](ctx, s.meta, userPK(id), skProfile)
	if record.IsNotFound(err) {
		return iam.Principal{}, fmt.Errorf("user %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return iam.Principal{}, err
	}
	pr := iam.User(id, u.Name, u.Admin, "")
	pr.Via = via
	return pr, nil
}
