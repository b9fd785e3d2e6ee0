package identity

import (
	"context"
	"fmt"
	"math"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// Limits are a user's own rate limits, which replace the server's
// defaults (strata serve --limit-requests, --limit-bandwidth); a nil
// field keeps the default, and 0 lifts that limit for the user.
type Limits struct {
	// Requests is the sustained requests per second (the burst is twice
	// as many).
	Requests *float64 `json:"rps,omitempty"`
	// Bandwidth is the bytes per second of request and response bodies.
	Bandwidth *int64 `json:"bw,omitempty"`
}

// The bounds of a user's limits: a rate beyond MaxRequests is no limit in
// practice, and a bandwidth below MinBandwidth would trip the server's
// guard against bodies that trickle (a body must keep up 1 KiB/s) on top
// of being unusable.
const (
	MaxRequests  = 1e6
	MinBandwidth = 64 << 10
)

// skLimits is the item of a user's own limits, at (user#<id>, limits).
const skLimits = "limits"

func (l Limits) check() error {
	if r := l.Requests; r != nil && (math.IsNaN(*r) || *r < 0 || *r > MaxRequests) {
		return fmt.Errorf("%w: requests per second must be 0 (no limit) to %g", errs.ErrInvalid, float64(MaxRequests))
	}
	if b := l.Bandwidth; b != nil && (*b < 0 || *b > 0 && *b < MinBandwidth) {
		return fmt.Errorf("%w: bandwidth must be 0 (no limit) or at least %d bytes per second", errs.ErrInvalid, MinBandwidth)
	}
	return nil
}

// UserLimits returns the user's own limits, for the entry points that
// enforce them (no decision: the user is the one authenticated).
func (s *Service) UserLimits(ctx context.Context, userID string) (Limits, error) {
	l, _, err := record.Get[Limits](ctx, s.meta, userPK(userID), skLimits)
	if record.IsNotFound(err) {
		return Limits{}, nil
	}
	return l, err
}

// GetLimits returns the user's own limits and ID; a user may read their
// own (GetUser), an admin anyone's.
func (s *Service) GetLimits(ctx context.Context, pr iam.Principal, name string) (Limits, string, error) {
	if err := s.allow(ctx, pr, iam.GetUser, iam.UserNamed(name)); err != nil {
		return Limits{}, "", err
	}
	u, err := s.lookupUser(ctx, name)
	if err != nil {
		return Limits{}, "", err
	}
	l, err := s.UserLimits(ctx, u.ID)
	return l, u.ID, err
}

// SetLimits replaces the user's own limits (ManageLimits); all nil clears
// them. It returns the user's ID.
func (s *Service) SetLimits(ctx context.Context, pr iam.Principal, name string, l Limits) (string, error) {
	if err := s.allow(ctx, pr, iam.ManageLimits, iam.UserNamed(name)); err != nil {
		return "", err
	}
	if err := l.check(); err != nil {
		return "", err
	}
	u, err := s.lookupUser(ctx, name)
	if err != nil {
		return "", err
	}
	op := meta.Put(record.Item(userPK(u.ID), skLimits, l), meta.NoCond)
	if l == (Limits{}) {
		op = meta.Delete(userPK(u.ID), skLimits, meta.NoCond)
	}
	// Only for a user that is still there: a deleted user's limits would
	// be left behind.
	err = s.meta.Transact(ctx, []meta.Op{meta.Check(userPK(u.ID), skProfile, meta.MustLive), op})
	if record.IsConflict(err) {
		return "", fmt.Errorf("user %s: %w", name, errs.ErrNotFound)
	}
	if err != nil {
		return "", errs.FromStore("set limits", err)
	}
	return u.ID, nil
}
