// Package archiveprice is the price table archive and restore estimates
// are made from: what keeping a GB a month costs in each archive class,
// and what a restore costs per GB and per request at each tier. The server
// serves it (GET /v1/archive-prices) with the restore times of its own
// engine; clients (the file manager) estimate from what it serves and
// never keep prices of their own.
//
// The default for S3 is AWS's published us-east-1 list prices (AWS()); an
// administrator replaces it with a file of the same shape (Load, strata
// serve --archive-prices). The embedded engine's cold tier is a directory
// on the server's own disks: it costs nothing per GB or per request, and
// Free says so.
package archiveprice

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// Table is a price table. Prices are in Currency per GB (2^30 bytes, as AWS
// bills) or per 1,000 requests.
type Table struct {
	// Engine is where archived content goes: "s3" (Glacier classes) or
	// "cold-tier" (the embedded engine's cold directory); the server sets
	// it.
	Engine   string `json:"engine,omitempty"`
	Currency string `json:"currency"`
	// Source says where the prices come from and as of when.
	Source string `json:"source"`
	// HotPerGBMonth is what keeping a GB in the hot tier costs a month (S3
	// Standard): what an archived file no longer costs, and what a
	// restored copy costs for its days.
	HotPerGBMonth float64 `json:"hotPerGBMonth"`
	Classes       []Class `json:"classes"`
}

// Class is one archive class's prices.
type Class struct {
	// Class is glacier, deep-archive or glacier-ir.
	Class             string  `json:"class"`
	StoragePerGBMonth float64 `json:"storagePerGBMonth"`
	// MinDays is the minimum storage duration billed: a file taken out
	// sooner is billed as if it stayed that long.
	MinDays int `json:"minDays,omitempty"`
	// ReadPerGB is what reading a GB costs in a class that needs no
	// restore (glacier-ir).
	ReadPerGB float64 `json:"readPerGB,omitempty"`
	// Tiers are the restore tiers the class offers (none for glacier-ir).
	Tiers []Tier `json:"tiers,omitempty"`
}

// Tier is one restore tier's prices and time.
type Tier struct {
	// Tier is expedited, standard or bulk.
	Tier                string  `json:"tier"`
	PerGB               float64 `json:"perGB"`
	PerThousandRequests float64 `json:"perThousandRequests"`
	// ExpectedSeconds is how long a restore at this tier takes at most
	// on the server's engine (the server sets it: AWS's times on S3, the
	// --restore-delay on the cold tier).
	ExpectedSeconds int64 `json:"expectedSeconds,omitempty"`
}

// Expected is ExpectedSeconds as a duration.
func (t Tier) Expected() time.Duration { return time.Duration(t.ExpectedSeconds) * time.Second }

// AWSSource names the default table's source.
const AWSSource = "AWS S3 list prices, us-east-1 (https://aws.amazon.com/s3/pricing/, as published in 2024)"

// AWS is the default table: AWS's published us-east-1 prices for S3
// Standard (first 50 TB), S3 Glacier Flexible Retrieval, S3 Glacier Deep
// Archive and S3 Glacier Instant Retrieval. Bulk restores from Glacier
// Flexible Retrieval are free. Times are left to the server.
func AWS() Table {
	return Table{
		Currency:      "USD",
		Source:        AWSSource,
		HotPerGBMonth: 0.023,
		Classes: []Class{
			{Class: "glacier", StoragePerGBMonth: 0.0036, MinDays: 90, Tiers: []Tier{
				{Tier: "expedited", PerGB: 0.03, PerThousandRequests: 10},
				{Tier: "standard", PerGB: 0.01, PerThousandRequests: 0.05},
				{Tier: "bulk", PerGB: 0, PerThousandRequests: 0},
			}},
			{Class: "deep-archive", StoragePerGBMonth: 0.00099, MinDays: 180, Tiers: []Tier{
				{Tier: "standard", PerGB: 0.02, PerThousandRequests: 0.10},
				{Tier: "bulk", PerGB: 0.0025, PerThousandRequests: 0.025},
			}},
			{Class: "glacier-ir", StoragePerGBMonth: 0.004, MinDays: 90, ReadPerGB: 0.03},
		},
	}
}

// FreeSource names the cold tier's table.
const FreeSource = "the embedded engine's cold tier: a directory on the server's disks, no charge per GB or per request"

// Free is t with every price 0, for the embedded engine's cold tier.
func Free(t Table) Table {
	out := Table{Currency: t.Currency, Source: FreeSource}
	for _, c := range t.Classes {
		fc := Class{Class: c.Class}
		for _, tr := range c.Tiers {
			fc.Tiers = append(fc.Tiers, Tier{Tier: tr.Tier})
		}
		out.Classes = append(out.Classes, fc)
	}
	return out
}

// NoCharge reports a table whose every price is 0 (Free's).
func (t Table) NoCharge() bool {
	if t.HotPerGBMonth != 0 {
		return false
	}
	for _, c := range t.Classes {
		if c.StoragePerGBMonth != 0 || c.ReadPerGB != 0 {
			return false
		}
		for _, tr := range c.Tiers {
			if tr.PerGB != 0 || tr.PerThousandRequests != 0 {
				return false
			}
		}
	}
	return true
}

// Load reads a table from a JSON file of Table's shape (an
// administrator's prices) and checks it.
func Load(path string) (Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Table{}, err
	}
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return Table{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := t.Check(); err != nil {
		return Table{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

var (
	classes = map[string]bool{"glacier": true, "deep-archive": true, "glacier-ir": true}
	tiers   = map[string]bool{"expedited": true, "standard": true, "bulk": true}
)

// Check reports a table with an unknown class or tier, one named twice, or
// a price that is negative or not a number.
func (t Table) Check() error {
	if t.Currency == "" {
		return errors.New("currency: say which (e.g. USD)")
	}
	price := func(what string, v float64) error {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: %v is not a price", what, v)
		}
		return nil
	}
	if err := price("hotPerGBMonth", t.HotPerGBMonth); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range t.Classes {
		if !classes[c.Class] || seen[c.Class] {
			return fmt.Errorf("class %q: want each of glacier, deep-archive, glacier-ir at most once", c.Class)
		}
		seen[c.Class] = true
		for what, v := range map[string]float64{"storagePerGBMonth": c.StoragePerGBMonth, "readPerGB": c.ReadPerGB} {
			if err := price(c.Class+" "+what, v); err != nil {
				return err
			}
		}
		seenTier := map[string]bool{}
		for _, tr := range c.Tiers {
			if !tiers[tr.Tier] || seenTier[tr.Tier] {
				return fmt.Errorf("class %s: tier %q: want each of expedited, standard, bulk at most once", c.Class, tr.Tier)
			}
			seenTier[tr.Tier] = true
			for what, v := range map[string]float64{"perGB": tr.PerGB, "perThousandRequests": tr.PerThousandRequests} {
				if err := price(c.Class+" "+tr.Tier+" "+what, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Class returns the prices of the class named name.
func (t Table) Class(name string) (Class, bool) {
	for _, c := range t.Classes {
		if c.Class == name {
			return c, true
		}
	}
	return Class{}, false
}

// Tier returns the class's tier named name.
func (c Class) Tier(name string) (Tier, bool) {
	for _, tr := range c.Tiers {
		if tr.Tier == name {
			return tr, true
		}
	}
	return Tier{}, false
}

const gb = 1 << 30

// GB is n bytes in GB.
func GB(n int64) float64 { return float64(n) / gb }

// MonthlyChange is what archiving bytes from the hot tier into class
// changes the monthly storage bill by (negative: a saving).
func (t Table) MonthlyChange(c Class, bytes int64) float64 {
	return GB(bytes) * (c.StoragePerGBMonth - t.HotPerGBMonth)
}

// RestoreCost is what restoring files of bytes in all at tier costs:
// retrieval per GB and per request, and the restored copy's hot storage
// for days (archived content is billed on as well).
func (t Table) RestoreCost(tr Tier, files int, bytes int64, days int) float64 {
	return GB(bytes)*tr.PerGB + float64(files)*tr.PerThousandRequests/1000 +
		GB(bytes)*t.HotPerGBMonth*float64(days)/30
}

// Rate formats a price per unit exactly as the table has it ("$0.00099").
func (t Table) Rate(v float64) string {
	return t.symbol() + strconv.FormatFloat(v, 'f', -1, 64)
}

func (t Table) symbol() string {
	if t.Currency == "USD" {
		return "$"
	}
	return t.Currency + " "
}

// Money formats an amount of the table's currency: cents, or finer for
// amounts under a cent that are not zero ("≈$0" for less than
// $0.0001 either way).
func (t Table) Money(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	cur := t.symbol()
	switch {
	case v == 0:
		return cur + "0"
	case v < 0.0001:
		return "≈" + cur + "0"
	case v < 0.01:
		return sign + cur + fmt.Sprintf("%.4f", v)
	}
	return sign + cur + fmt.Sprintf("%.2f", v)
}
