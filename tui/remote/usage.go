package remote

// UsageWarn is the share of a quota, in percent, from which the file
// manager warns about a user's usage.
const UsageWarn = 90

// UsageUsed is what counts against u's bytes limit: what is stored and
// what open uploads reserved.
func UsageUsed(u Usage) int64 { return u.Bytes + u.Reserved }

// UsagePercent is the larger share of u's limits used, in percent; -1
// with no limit.
func UsagePercent(u Usage) int {
	pct := -1
	if u.QuotaBytes > 0 {
		pct = int(UsageUsed(u) * 100 / u.QuotaBytes)
	}
	if u.QuotaFiles > 0 {
		pct = max(pct, int(u.Files*100/u.QuotaFiles))
	}
	return pct
}
