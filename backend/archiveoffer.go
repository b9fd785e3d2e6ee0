package backend

import (
	"context"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/iam"
)

// Archive engines, as ArchiveOffer names them.
const (
	EngineS3       = "s3"
	EngineColdTier = "cold-tier"
)

// ArchiveOffer is what the store's archive tier offers: its engine, and
// for each class the restore tiers and how long each takes at most.
type ArchiveOffer struct {
	// Engine is EngineS3 or EngineColdTier ("" when the blob engine has
	// no archive tier; Classes is then empty).
	Engine  string
	Classes []ClassOffer
}

// ClassOffer is one archive class and its tiers.
type ClassOffer struct {
	Class blob.ArchiveClass
	Tiers []TierOffer
}

// TierOffer is a restore tier and its time on this store.
type TierOffer struct {
	Tier     blob.RestoreTier
	Expected time.Duration
}

// ArchiveOffer says what pr may be offered when archiving and restoring:
// something every user may know of their own account (strata:GetUser on
// themselves, as whoami), since it is about the store, not a file.
func (b *Backend) ArchiveOffer(ctx context.Context, pr iam.Principal) (ArchiveOffer, error) {
	if err := b.allow(ctx, pr, iam.GetUser, iam.UserNamed(pr.Name)); err != nil {
		return ArchiveOffer{}, err
	}
	if _, ok := b.blobs.(blob.Archiver); !ok {
		return ArchiveOffer{}, nil
	}
	o := ArchiveOffer{Engine: EngineS3}
	if _, ok := b.blobs.(RestoreDelayer); ok {
		o.Engine = EngineColdTier
	}
	for _, c := range blob.ArchiveClasses {
		co := ClassOffer{Class: c}
		for _, t := range []blob.RestoreTier{blob.TierExpedited, blob.TierStandard, blob.TierBulk} {
			if c.Offers(t) {
				co.Tiers = append(co.Tiers, TierOffer{Tier: t, Expected: b.restoreTiming(c, t).expect})
			}
		}
		o.Classes = append(o.Classes, co)
	}
	return o, nil
}
