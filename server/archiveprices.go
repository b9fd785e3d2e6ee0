package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/server/api"
)

// archivePrices answers the price table estimates are made from: the
// classes and tiers this store's engine offers, with their restore times,
// priced by the administrator's table (Config.ArchivePrices), or else by
// AWS's list prices on S3 and nothing on the embedded cold tier. What an
// administrator's table leaves out keeps the default's price.
func (s *Server) archivePrices(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	offer, err := s.b.ArchiveOffer(r.Context(), pr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, priceTable(offer, s.cfg.ArchivePrices))
}

func priceTable(offer backend.ArchiveOffer, admin *archiveprice.Table) api.ArchivePrices {
	def := archiveprice.AWS()
	if offer.Engine == backend.EngineColdTier {
		def = archiveprice.Free(def)
	}
	base := def
	if admin != nil {
		base = *admin
	}
	out := api.ArchivePrices{Engine: offer.Engine, Currency: base.Currency, Source: base.Source, HotPerGBMonth: base.HotPerGBMonth, Classes: []archiveprice.Class{}}
	if admin != nil && out.Source == "" {
		out.Source = "the administrator's price table"
	}
	for _, co := range offer.Classes {
		name := co.Class.Name()
		c, ok := base.Class(name)
		if !ok {
			c, _ = def.Class(name)
		}
		dc, _ := def.Class(name)
		oc := archiveprice.Class{Class: name, StoragePerGBMonth: c.StoragePerGBMonth, MinDays: c.MinDays, ReadPerGB: c.ReadPerGB}
		for _, to := range co.Tiers {
			t, ok := c.Tier(to.Tier.Name())
			if !ok {
				t, _ = dc.Tier(to.Tier.Name())
			}
			t.Tier, t.ExpectedSeconds = to.Tier.Name(), int64(to.Expected.Seconds())
			oc.Tiers = append(oc.Tiers, t)
		}
		out.Classes = append(out.Classes, oc)
	}
	return out
}
