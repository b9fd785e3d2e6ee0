package human

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// ErrSize is a size ParseBytes cannot read.
var ErrSize = errors.New("not a size")

// ParseBytes reads a size as people write it: a number of bytes ("1500"),
// or a number (decimals allowed) with a unit: K, M, G, T, P and KiB...PiB
// are powers of 1024 (as Bytes writes them and df reads them), KB...PB
// powers of 1000; B is bytes. Case and a space before the unit do not
// matter. A fraction of a byte is rounded down.
func ParseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := byteUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("%w: %q: want a number of bytes or one with a unit, like 500M, 10GiB or 2TB", ErrSize, s)
	}
	f, ok := new(big.Float).SetString(num)
	if !ok {
		return 0, fmt.Errorf("%w: %q: %q is not a number", ErrSize, s, num)
	}
	f.Mul(f, new(big.Float).SetInt64(mult))
	n, _ := f.Int(nil)
	if !n.IsInt64() || n.Int64() > math.MaxInt64/2 {
		return 0, fmt.Errorf("%w: %q is too large", ErrSize, s)
	}
	return n.Int64(), nil
}

var byteUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
	"M": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
	"T": 1 << 40, "TIB": 1 << 40, "TB": 1e12,
	"P": 1 << 50, "PIB": 1 << 50, "PB": 1e15,
}
