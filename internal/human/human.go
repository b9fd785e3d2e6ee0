// Package human writes sizes and counts for people to read, the same way in
// the CLI and the file manager.
package human

import (
	"fmt"
	"strconv"
	"strings"
)

// Bytes writes a size with one decimal in binary units: "512 B", "3.2 GiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Short writes a size in at most 8 cells, for columns: "512 B", "1.2 GiB",
// "85 MiB" (one decimal only below 10).
func Short(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	const units = "KMGTPE"
	f := float64(n) / 1024
	u := 0
	for f >= 1023.5 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if f < 9.95 {
		return fmt.Sprintf("%.1f %ciB", f, units[u])
	}
	return fmt.Sprintf("%.0f %ciB", f, units[u])
}

// Count writes an integer with thousands separators: "1,204".
func Count[T ~int | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Plural writes a count with its noun: "1 file", "1,204 files".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}
