package archiveprice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAWSTableChecks(t *testing.T) {
	if err := AWS().Check(); err != nil {
		t.Fatal(err)
	}
	free := Free(AWS())
	if err := free.Check(); err != nil {
		t.Fatal(err)
	}
	if !free.NoCharge() || AWS().NoCharge() {
		t.Error("NoCharge is wrong")
	}
	c, _ := free.Class("glacier")
	tr, _ := c.Tier("expedited")
	if free.RestoreCost(tr, 10, 5<<30, 7) != 0 || free.MonthlyChange(c, 5<<30) != 0 {
		t.Errorf("the cold tier costs something: %+v", free)
	}
}

func TestEstimates(t *testing.T) {
	tb := AWS()
	g, _ := tb.Class("glacier")
	// 100 GiB from Standard to Glacier: 100 x (0.0036 - 0.023) a month.
	if got := tb.MonthlyChange(g, 100<<30); got > -1.93 || got < -1.95 {
		t.Errorf("monthly change %v, want -1.94", got)
	}
	std, _ := g.Tier("standard")
	// 2 files, 10 GiB, standard, 30 days: 10 x 0.01 + 2 x 0.05/1000 + 10 x 0.023.
	if got, want := tb.RestoreCost(std, 2, 10<<30, 30), 0.1+0.0001+0.23; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("restore cost %v, want %v", got, want)
	}
	if _, ok := func() (Tier, bool) { d, _ := tb.Class("deep-archive"); return d.Tier("expedited") }(); ok {
		t.Error("deep-archive offers expedited")
	}
	for v, want := range map[float64]string{0: "$0", 0.004: "$0.0040", 1.234: "$1.23", -1.94: "-$1.94", 1e-9: "≈$0", -1e-9: "≈$0"} {
		if got := tb.Money(v); got != want {
			t.Errorf("Money(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "prices.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tb, err := Load(write(`{"currency":"EUR","source":"our contract","hotPerGBMonth":0.02,"classes":[{"class":"glacier","storagePerGBMonth":0.003,"tiers":[{"tier":"bulk","perGB":0.001,"perThousandRequests":0}]}]}`))
	if err != nil || tb.Currency != "EUR" || tb.Classes[0].Tiers[0].PerGB != 0.001 {
		t.Fatalf("Load: %+v, %v", tb, err)
	}
	for _, bad := range []string{
		`{"currency":"USD","classes":[{"class":"tape"}]}`,
		`{"currency":"USD","classes":[{"class":"glacier","tiers":[{"tier":"fast"}]}]}`,
		`{"currency":"USD","classes":[{"class":"glacier","storagePerGBMonth":-1}]}`,
		`{"currency":"USD","classes":[{"class":"glacier"},{"class":"glacier"}]}`,
		`{"classes":[]}`,
		`{"currency":`,
	} {
		if _, err := Load(write(bad)); err == nil {
			t.Errorf("Load(%s) took it", bad)
		} else if !strings.Contains(err.Error(), "prices.json") {
			t.Errorf("Load(%s): %v does not name the file", bad, err)
		}
	}
}
