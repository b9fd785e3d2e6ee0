package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

func TestArchivePricesHTTP(t *testing.T) {
	get := func(f *fixture) api.ArchivePrices {
		t.Helper()
		var p api.ArchivePrices
		if err := json.Unmarshal(ok(t, f.do("GET", "/v1/archive-prices", f.admin, nil), http.StatusOK), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The embedded engine's cold tier costs nothing, and says so.
	p := get(newFixture(t, server.Config{}))
	if p.Engine != "cold-tier" || p.Source != archiveprice.FreeSource || len(p.Classes) != 3 || p.HotPerGBMonth != 0 {
		t.Fatalf("cold tier: %+v", p)
	}
	for _, c := range p.Classes {
		if c.StoragePerGBMonth != 0 || (c.Class == "glacier" && len(c.Tiers) != 3) || (c.Class == "deep-archive" && len(c.Tiers) != 2) || (c.Class == "glacier-ir" && len(c.Tiers) != 0) {
			t.Errorf("cold tier class %+v", c)
		}
		for _, tr := range c.Tiers {
			if tr.PerGB != 0 || tr.PerThousandRequests != 0 {
				t.Errorf("cold tier %s %+v costs something", c.Class, tr)
			}
		}
	}

	// An administrator's table replaces it; what it leaves out keeps the
	// default.
	admin := archiveprice.Table{Currency: "EUR", HotPerGBMonth: 0.02, Classes: []archiveprice.Class{
		{Class: "glacier", StoragePerGBMonth: 0.003, Tiers: []archiveprice.Tier{{Tier: "bulk", PerGB: 0.001}}}}}
	p = get(newFixture(t, server.Config{ArchivePrices: &admin}))
	g, _ := p.Class("glacier")
	bulk, _ := g.Tier("bulk")
	std, has := g.Tier("standard")
	if p.Currency != "EUR" || p.Source == "" || g.StoragePerGBMonth != 0.003 || bulk.PerGB != 0.001 || !has || std.PerGB != 0 {
		t.Errorf("admin's table: %+v", p)
	}
	if _, has := p.Class("deep-archive"); !has {
		t.Errorf("a class the admin's table leaves out is gone: %+v", p)
	}

	// Without a token: no table.
	ok(t, newFixture(t, server.Config{}).do("GET", "/v1/archive-prices", "", nil), http.StatusUnauthorized)
}
