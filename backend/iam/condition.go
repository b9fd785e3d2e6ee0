package iam

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/clip"
)

// condKey is a condition key: something known about a request.
type condKey uint8

const (
	keySourceIP condKey = iota
	keyCurrentTime
	keySecureTransport
	keyContentLength
	keyTokenID
	keyVia
	keyUsername
	keyUserID
)

// condType is what a key's value is, which decides the operators that
// apply to it.
type condType uint8

const (
	typeString condType = iota
	typeNumeric
	typeDate
	typeBool
	typeIP
)

func (t condType) String() string {
	return [...]string{"string", "numeric", "date", "boolean", "IP address"}[t]
}

// condKeys are the condition keys by their canonical names, in the
// order docs/access.md lists them.
var condKeys = []struct {
	name string
	key  condKey
	typ  condType
}{
	{"strata:SourceIp", keySourceIP, typeIP},
	{"strata:CurrentTime", keyCurrentTime, typeDate},
	{"strata:SecureTransport", keySecureTransport, typeBool},
	{"strata:ContentLength", keyContentLength, typeNumeric},
	{"strata:TokenId", keyTokenID, typeString},
	{"strata:Via", keyVia, typeString},
	{"strata:username", keyUsername, typeString},
	{"strata:userid", keyUserID, typeString},
}

// The entry points a request comes through: the values of strata:Via.
const (
	ViaHTTP   = "http"
	ViaSocket = "socket"
	ViaSSH    = "ssh"
	ViaSFTP   = "sftp"
	ViaShare  = "share"
)

var viaValues = []string{ViaHTTP, ViaSocket, ViaSSH, ViaSFTP, ViaShare}

// lookupKey finds a key by name; key names are not case-sensitive, as in
// AWS.
func lookupKey(name string) (condKey, condType, bool) {
	for _, k := range condKeys {
		if strings.EqualFold(k.name, name) {
			return k.key, k.typ, true
		}
	}
	return 0, 0, false
}

// condOp is a condition operator without its IfExists suffix or set
// qualifier.
type condOp uint8

const (
	opStringEquals condOp = iota
	opStringNotEquals
	opStringEqualsIgnoreCase
	opStringNotEqualsIgnoreCase
	opStringLike
	opStringNotLike
	opNumericEquals
	opNumericNotEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateNotEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opIPAddress
	opNotIPAddress
	opNull
)

// opInfo describes an operator: its name, the type of key it takes (Null
// takes any), whether it is a negated match (true when no value
// matches, and when the key is absent), and the comparison it makes.
type opInfo struct {
	name    string
	typ     condType
	negated bool
	cmp     compare
}

// compare is how a request's value is compared with a policy's.
type compare uint8

const (
	cmpEqual compare = iota
	cmpLess
	cmpLessEqual
	cmpGreater
	cmpGreaterEqual
)

var operators = [...]opInfo{
	opStringEquals:              {"StringEquals", typeString, false, cmpEqual},
	opStringNotEquals:           {"StringNotEquals", typeString, true, cmpEqual},
	opStringEqualsIgnoreCase:    {"StringEqualsIgnoreCase", typeString, false, cmpEqual},
	opStringNotEqualsIgnoreCase: {"StringNotEqualsIgnoreCase", typeString, true, cmpEqual},
	opStringLike:                {"StringLike", typeString, false, cmpEqual},
	opStringNotLike:             {"StringNotLike", typeString, true, cmpEqual},
	opNumericEquals:             {"NumericEquals", typeNumeric, false, cmpEqual},
	opNumericNotEquals:          {"NumericNotEquals", typeNumeric, true, cmpEqual},
	opNumericLessThan:           {"NumericLessThan", typeNumeric, false, cmpLess},
	opNumericLessThanEquals:     {"NumericLessThanEquals", typeNumeric, false, cmpLessEqual},
	opNumericGreaterThan:        {"NumericGreaterThan", typeNumeric, false, cmpGreater},
	opNumericGreaterThanEquals:  {"NumericGreaterThanEquals", typeNumeric, false, cmpGreaterEqual},
	opDateEquals:                {"DateEquals", typeDate, false, cmpEqual},
	opDateNotEquals:             {"DateNotEquals", typeDate, true, cmpEqual},
	opDateLessThan:              {"DateLessThan", typeDate, false, cmpLess},
	opDateLessThanEquals:        {"DateLessThanEquals", typeDate, false, cmpLessEqual},
	opDateGreaterThan:           {"DateGreaterThan", typeDate, false, cmpGreater},
	opDateGreaterThanEquals:     {"DateGreaterThanEquals", typeDate, false, cmpGreaterEqual},
	opBool:                      {"Bool", typeBool, false, cmpEqual},
	opIPAddress:                 {"IpAddress", typeIP, false, cmpEqual},
	opNotIPAddress:              {"NotIpAddress", typeIP, true, cmpEqual},
	opNull:                      {"Null", 0, false, cmpEqual},
}

// setQualifier is ForAllValues: or ForAnyValue:. Strata's keys have one
// value each, so a qualifier changes only what an absent key means: for
// all of no values is true, for any of them false.
type setQualifier uint8

const (
	qualNone setQualifier = iota
	qualForAll
	qualForAny
)

// parseOperator reads an operator name: an optional ForAllValues: or
// ForAnyValue: qualifier, the operator, and an optional IfExists suffix.
// Operator names are case-sensitive, as in AWS; a wrong case gets a hint.
func parseOperator(name string) (op condOp, qual setQualifier, ifExists bool, err error) {
	base := name
	if q, rest, ok := strings.Cut(base, ":"); ok {
		switch q {
		case "ForAllValues":
			qual = qualForAll
		case "ForAnyValue":
			qual = qualForAny
		default:
			return 0, 0, false, fmt.Errorf("unknown condition operator %q: the qualifiers are ForAllValues: and ForAnyValue:", clip.Text(name))
		}
		base = rest
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok {
		base, ifExists = b, true
	}
	for i, o := range operators {
		if o.name == base {
			if condOp(i) == opNull && (ifExists || qual != qualNone) {
				return 0, 0, false, fmt.Errorf("condition operator %q: Null takes no IfExists and no qualifier (it tests whether the key is present)", clip.Text(name))
			}
			return condOp(i), qual, ifExists, nil
		}
	}
	for _, o := range operators {
		if strings.EqualFold(o.name, base) {
			return 0, 0, false, fmt.Errorf("unknown condition operator %q (operator names are case-sensitive: did you mean %q?)", clip.Text(name), o.name)
		}
	}
	return 0, 0, false, fmt.Errorf("unknown condition operator %q", clip.Text(name))
}

// cond is one key of one operator of a Condition block, compiled.
type cond struct {
	op       condOp
	key      condKey
	qual     setQualifier
	ifExists bool
	negated  bool
	cmp      compare

	strs  []pattern      // string operators
	nums  []number       // numeric operators
	times []time.Time    // date operators
	nets  []netip.Prefix // IpAddress, NotIpAddress
	bools []bool         // Bool; Null: true means "the key is absent"
}

// number is a policy's numeric value: exact when it is an integer.
type number struct {
	isInt bool
	i     int64
	f     float64
}

// request is what a condition reads: the principal, the request, and
// the source address parsed once per decision.
type request struct {
	pr      *Principal
	req     *Request
	ip      netip.Addr
	ipState uint8 // 0 not parsed yet, 1 valid, 2 absent or invalid
}

func (r *request) sourceIP() (netip.Addr, bool) {
	if r.ipState == 0 {
		r.ipState = 2
		if r.req.SourceIP != "" {
			if a, err := netip.ParseAddr(r.req.SourceIP); err == nil {
				r.ip, r.ipState = a.WithZone("").Unmap(), 1
			}
		}
	}
	return r.ip, r.ipState == 1
}

// present reports whether the request has a value for k.
func (r *request) present(k condKey) bool {
	switch k {
	case keySourceIP:
		_, ok := r.sourceIP()
		return ok
	case keyCurrentTime:
		return !r.req.Time.IsZero()
	case keySecureTransport:
		return true
	case keyContentLength:
		return r.req.HasContentLength
	case keyTokenID:
		return r.pr.TokenID != ""
	case keyVia:
		return r.pr.Via != ""
	case keyUsername:
		return r.pr.Name != ""
	case keyUserID:
		return r.pr.UserID != ""
	}
	return false
}

func (r *request) str(k condKey) string {
	switch k {
	case keyTokenID:
		return r.pr.TokenID
	case keyVia:
		return r.pr.Via
	case keyUsername:
		return r.pr.Name
	case keyUserID:
		return r.pr.UserID
	}
	return ""
}

// eval decides the condition, as AWS documents: a positive operator holds
// when the request's value matches any of the policy's values, a negated
// one when it matches none; an absent key fails a positive operator and
// satisfies a negated one, unless IfExists (absent: true), a qualifier
// (ForAllValues: true, ForAnyValue: false) or Null (which tests
// presence) says otherwise.
func (c *cond) eval(r *request, v *vars) bool {
	present := r.present(c.key)
	if c.op == opNull {
		for _, absent := range c.bools {
			if absent != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.qual == qualForAll:
			return true
		case c.qual == qualForAny:
			return false
		}
		return c.negated
	}
	return c.matchAny(r, v) != c.negated
}

// matchAny reports whether the request's value matches any of the
// policy's values under the operator's comparison.
func (c *cond) matchAny(r *request, v *vars) bool {
	switch operators[c.op].typ {
	case typeString:
		s := r.str(c.key)
		fold := c.op == opStringEqualsIgnoreCase || c.op == opStringNotEqualsIgnoreCase
		for i := range c.strs {
			if c.strs[i].match(s, v, fold) {
				return true
			}
		}
	case typeNumeric:
		x := r.req.ContentLength
		for _, n := range c.nums {
			if n.compare(x, c.cmp) {
				return true
			}
		}
	case typeDate:
		t := r.req.Time
		for _, u := range c.times {
			if c.cmp.holds(t.Compare(u)) {
				return true
			}
		}
	case typeBool:
		b := r.req.SecureTransport
		for _, want := range c.bools {
			if b == want {
				return true
			}
		}
	case typeIP:
		a, _ := r.sourceIP()
		for _, n := range c.nets {
			if n.Contains(a) {
				return true
			}
		}
	}
	return false
}

// compare reports whether x <c> n.
func (n number) compare(x int64, c compare) bool {
	if n.isInt {
		return c.holds(cmp.Compare(x, n.i))
	}
	return c.holds(cmp.Compare(float64(x), n.f))
}

// holds reports whether an ordering (-1, 0 or 1: the request's value
// against the policy's) satisfies the comparison.
func (c compare) holds(order int) bool {
	switch c {
	case cmpLess:
		return order < 0
	case cmpLessEqual:
		return order <= 0
	case cmpGreater:
		return order > 0
	case cmpGreaterEqual:
		return order >= 0
	}
	return order == 0
}

// parseNumber reads a decimal number: an integer or a decimal fraction,
// optionally with an exponent, as JSON writes numbers (no hex, no Inf,
// no NaN).
func parseNumber(s string) (number, error) {
	if !isDecimal(s) {
		return number{}, fmt.Errorf("%q is not a number", clip.Text(s))
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return number{isInt: true, i: i}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return number{}, fmt.Errorf("%q is out of range", clip.Text(s))
	}
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return number{isInt: true, i: int64(f)}, nil
	}
	return number{f: f}, nil
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// dateLayouts are the W3C profile of ISO 8601 that AWS takes for dates:
// a month, a day, or a day and a time (minutes, seconds, or fractions of
// a second) with a zone. A year alone is left out: a lone number is
// seconds since 1970.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
	"2006-01",
}

// parseDate reads a date: ISO 8601 as above, or seconds since the Unix
// epoch (as AWS also takes), of at least five digits so that a year
// alone is not quietly taken for a moment of 1970.
func parseDate(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		if len(s) <= 4 {
			return time.Time{}, fmt.Errorf("%q is ambiguous: a lone number is seconds since 1970; write a year as 2026-01-01", s)
		}
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil || secs > 253402300799 { // year 9999
			return time.Time{}, fmt.Errorf("%q is out of range", clip.Text(s))
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date: write 2026-12-31, 2026-12-31T17:00:00Z or 2026-12-31T17:00:00+01:00 (ISO 8601), or seconds since 1970", clip.Text(s))
}

// parseNet reads an IPv4 or IPv6 address or CIDR block; an address alone
// is the block of just it.
func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block such as 203.0.113.0/24 or 2001:db8::/32", clip.Text(s))
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped block needs a prefix of at least 96 bits", clip.Text(s))
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a CIDR block such as 203.0.113.0/24", clip.Text(s))
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseBool reads true or false (as AWS, either case).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", clip.Text(s))
}
