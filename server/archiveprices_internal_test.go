package server

import (
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/internal/archiveprice"
)

// On S3 the table is AWS's list prices, with the engine's restore times.
func TestPriceTableS3(t *testing.T) {
	offer := backend.ArchiveOffer{Engine: backend.EngineS3, Classes: []backend.ClassOffer{
		{Class: blob.ClassGlacier, Tiers: []backend.TierOffer{{Tier: blob.TierExpedited, Expected: 5 * time.Minute}, {Tier: blob.TierBulk, Expected: 12 * time.Hour}}},
		{Class: blob.ClassGlacierIR},
	}}
	p := priceTable(offer, nil)
	if p.Engine != "s3" || p.Source != archiveprice.AWSSource || p.HotPerGBMonth != 0.023 || len(p.Classes) != 2 {
		t.Fatalf("%+v", p)
	}
	g := p.Classes[0]
	if g.Class != "glacier" || g.StoragePerGBMonth != 0.0036 || len(g.Tiers) != 2 ||
		g.Tiers[0] != (archiveprice.Tier{Tier: "expedited", PerGB: 0.03, PerThousandRequests: 10, ExpectedSeconds: 300}) ||
		g.Tiers[1].Expected() != 12*time.Hour {
		t.Errorf("glacier %+v", g)
	}
	if ir := p.Classes[1]; ir.ReadPerGB != 0.03 || len(ir.Tiers) != 0 {
		t.Errorf("glacier-ir %+v", ir)
	}
	// No archive tier: no classes.
	if p := priceTable(backend.ArchiveOffer{}, nil); len(p.Classes) != 0 || p.Engine != "" {
		t.Errorf("no archive tier: %+v", p)
	}
}
