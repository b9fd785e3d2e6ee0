package iam

import (
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/storepath"
)

// ctxCase is a request context for condition tests: alice over http,
// from 203.0.113.7, over TLS, at noon on 2026-06-15, writing 1000 bytes.
func ctxCase() (Principal, Request) {
	pr := User("u-alice", "alice", false, "tok-1")
	req := Request{
		SourceIP: "203.0.113.7", SecureTransport: true,
		Time:          time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC),
		ContentLength: 1000, HasContentLength: true,
	}
	return pr, req
}

// holds reports whether the condition block holds for the request: an
// Allow of GetFile on * under it allows.
func holds(t *testing.T, condition string, pr Principal, req Request) bool {
	t.Helper()
	p, err := Parse("c", []byte(condDoc(condition)))
	if err != nil {
		t.Fatalf("%s: %v", condition, err)
	}
	set := &PolicySet{Identity: []*Policy{p}}
	return set.Evaluate(pr, GetFile, PathOf(storepath.MustParse("/x")), req).Allowed
}

// The operators, each with a value that matches, one that does not, and
// the key absent, as AWS documents them: an absent key fails a positive
// operator and satisfies a negated one; ...IfExists holds on an absent
// key; Null tests presence; ForAllValues holds and ForAnyValue fails on
// an absent key.
func TestConditionOperators(t *testing.T) {
	type mod func(*Principal, *Request)
	none := func(*Principal, *Request) {}
	noIP := func(_ *Principal, r *Request) { r.SourceIP = "" }
	noTime := func(_ *Principal, r *Request) { r.Time = time.Time{} }
	noLength := func(_ *Principal, r *Request) { r.HasContentLength = false }
	noToken := func(p *Principal, _ *Request) { p.TokenID = "" }
	noVia := func(p *Principal, _ *Request) { p.Via = "" }
	plain := func(_ *Principal, r *Request) { r.SecureTransport = false }
	for _, tc := range []struct {
		cond string
		mod  mod
		want bool
	}{
		// Strings: case-sensitive, any of the values; the negated ones hold
		// when none matches.
		{`{"StringEquals":{"strata:username":"alice"}}`, none, true},
		{`{"StringEquals":{"strata:username":"Alice"}}`, none, false},
		{`{"StringEquals":{"strata:username":["bob","alice"]}}`, none, true},
		{`{"StringEquals":{"strata:username":"a*"}}`, none, false}, // no wildcards in StringEquals
		{`{"StringEquals":{"strata:userid":"${strata:userid}"}}`, none, true},
		{`{"StringEquals":{"strata:TokenId":"tok-1"}}`, none, true},
		{`{"StringEquals":{"strata:TokenId":"tok-1"}}`, noToken, false},
		{`{"StringNotEquals":{"strata:TokenId":"tok-1"}}`, noToken, true},
		{`{"StringNotEquals":{"strata:username":"bob"}}`, none, true},
		{`{"StringNotEquals":{"strata:username":["bob","alice"]}}`, none, false},
		{`{"StringEqualsIgnoreCase":{"strata:username":"ALICE"}}`, none, true},
		{`{"StringEqualsIgnoreCase":{"strata:username":"ALICEB"}}`, none, false},
		{`{"StringEqualsIgnoreCase":{"strata:TokenId":"TOK-${strata:username}"}}`, func(p *Principal, _ *Request) { p.TokenID = "tok-ALICE" }, true},
		{`{"StringNotEqualsIgnoreCase":{"strata:username":"ALICE"}}`, none, false},
		{`{"StringNotEqualsIgnoreCase":{"strata:username":"BOB"}}`, none, true},
		{`{"StringLike":{"strata:TokenId":"tok-*"}}`, none, true},
		{`{"StringLike":{"strata:TokenId":"tok-?"}}`, none, true},
		{`{"StringLike":{"strata:TokenId":"tok-??"}}`, none, false},
		{`{"StringLike":{"strata:TokenId":"*"}}`, noToken, false},
		{`{"StringNotLike":{"strata:TokenId":"tok-*"}}`, none, false},
		{`{"StringNotLike":{"strata:TokenId":["x*","y*"]}}`, none, true},
		{`{"StringNotLike":{"strata:TokenId":"tok-*"}}`, noToken, true},
		{`{"StringLikeIfExists":{"strata:TokenId":"x*"}}`, noToken, true},
		{`{"StringLikeIfExists":{"strata:TokenId":"x*"}}`, none, false},
		{`{"StringEquals":{"strata:Via":"http"}}`, none, true},
		{`{"StringEquals":{"strata:Via":["ssh","sftp"]}}`, none, false},
		{`{"StringEquals":{"strata:Via":"http"}}`, noVia, false},
		// Numbers.
		{`{"NumericEquals":{"strata:ContentLength":1000}}`, none, true},
		{`{"NumericEquals":{"strata:ContentLength":"1000.0"}}`, none, true},
		{`{"NumericEquals":{"strata:ContentLength":"999.5"}}`, none, false},
		{`{"NumericNotEquals":{"strata:ContentLength":[1,2]}}`, none, true},
		{`{"NumericNotEquals":{"strata:ContentLength":[1,1000]}}`, none, false},
		{`{"NumericLessThan":{"strata:ContentLength":1000}}`, none, false},
		{`{"NumericLessThan":{"strata:ContentLength":1000.5}}`, none, true},
		{`{"NumericLessThanEquals":{"strata:ContentLength":1000}}`, none, true},
		{`{"NumericGreaterThan":{"strata:ContentLength":"999"}}`, none, true},
		{`{"NumericGreaterThan":{"strata:ContentLength":"1e3"}}`, none, false},
		{`{"NumericGreaterThanEquals":{"strata:ContentLength":"1e3"}}`, none, true},
		{`{"NumericGreaterThanEquals":{"strata:ContentLength":-5}}`, none, true},
		{`{"NumericLessThan":{"strata:ContentLength":1048576}}`, noLength, false},
		{`{"NumericLessThanIfExists":{"strata:ContentLength":1048576}}`, noLength, true},
		{`{"NumericNotEquals":{"strata:ContentLength":1}}`, noLength, true},
		{`{"NumericLessThan":{"strata:ContentLength":9223372036854775807}}`, func(_ *Principal, r *Request) { r.ContentLength = 9223372036854775806 }, true},
		// Dates.
		{`{"DateLessThan":{"strata:CurrentTime":"2026-07-01"}}`, none, true},
		{`{"DateLessThan":{"strata:CurrentTime":"2026-06-15T12:00:00Z"}}`, none, false},
		{`{"DateLessThanEquals":{"strata:CurrentTime":"2026-06-15T12:00:00Z"}}`, none, true},
		{`{"DateLessThan":{"strata:CurrentTime":"2026-06-15T13:00:00+02:00"}}`, none, false},
		{`{"DateGreaterThan":{"strata:CurrentTime":"2026-06"}}`, none, true},
		{`{"DateGreaterThanEquals":{"strata:CurrentTime":"1781524800"}}`, none, true}, // 2026-06-15T12:00:00Z
		{`{"DateGreaterThan":{"strata:CurrentTime":1781524800}}`, none, false},
		{`{"DateEquals":{"strata:CurrentTime":"2026-06-15T12:00:00Z"}}`, none, true},
		{`{"DateNotEquals":{"strata:CurrentTime":"2026-06-15T12:00:00Z"}}`, none, false},
		{`{"DateLessThan":{"strata:CurrentTime":"2030-01-01"}}`, noTime, false},
		{`{"DateNotEquals":{"strata:CurrentTime":"2030-01-01"}}`, noTime, true},
		{`{"DateLessThanIfExists":{"strata:CurrentTime":"2000-01-01"}}`, noTime, true},
		// Booleans.
		{`{"Bool":{"strata:SecureTransport":"true"}}`, none, true},
		{`{"Bool":{"strata:SecureTransport":true}}`, plain, false},
		{`{"Bool":{"strata:SecureTransport":"false"}}`, plain, true},
		{`{"BoolIfExists":{"strata:SecureTransport":"false"}}`, none, false},
		// Addresses.
		{`{"IpAddress":{"strata:SourceIp":"203.0.113.0/24"}}`, none, true},
		{`{"IpAddress":{"strata:SourceIp":"203.0.113.7"}}`, none, true},
		{`{"IpAddress":{"strata:SourceIp":"203.0.113.8"}}`, none, false},
		{`{"IpAddress":{"strata:SourceIp":["198.51.100.0/24","203.0.113.0/25"]}}`, none, true},
		{`{"IpAddress":{"strata:SourceIp":"203.0.113.0/24"}}`, func(_ *Principal, r *Request) { r.SourceIP = "::ffff:203.0.113.9" }, true},
		{`{"IpAddress":{"strata:SourceIp":"::ffff:203.0.113.0/120"}}`, none, true},
		{`{"IpAddress":{"strata:SourceIp":"2001:db8::/32"}}`, func(_ *Principal, r *Request) { r.SourceIP = "2001:db8::1" }, true},
		{`{"IpAddress":{"strata:SourceIp":"2001:db8::/32"}}`, none, false},
		{`{"IpAddress":{"strata:SourceIp":"0.0.0.0/0"}}`, noIP, false},
		{`{"IpAddress":{"strata:SourceIp":"0.0.0.0/0"}}`, func(_ *Principal, r *Request) { r.SourceIP = "not an address" }, false},
		{`{"NotIpAddress":{"strata:SourceIp":"203.0.113.0/24"}}`, none, false},
		{`{"NotIpAddress":{"strata:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, none, true},
		{`{"NotIpAddress":{"strata:SourceIp":"203.0.113.0/24"}}`, noIP, true},
		{`{"NotIpAddressIfExists":{"strata:SourceIp":"203.0.113.0/24"}}`, noIP, true},
		// Null: true means absent.
		{`{"Null":{"strata:TokenId":"true"}}`, none, false},
		{`{"Null":{"strata:TokenId":"true"}}`, noToken, true},
		{`{"Null":{"strata:TokenId":false}}`, none, true},
		{`{"Null":{"strata:TokenId":false}}`, noToken, false},
		{`{"Null":{"strata:SecureTransport":"true"}}`, none, false},
		// Set qualifiers on single-valued keys.
		{`{"ForAllValues:StringEquals":{"strata:TokenId":"x"}}`, noToken, true},
		{`{"ForAllValues:StringEquals":{"strata:TokenId":"x"}}`, none, false},
		{`{"ForAllValues:StringEquals":{"strata:TokenId":"tok-1"}}`, none, true},
		{`{"ForAnyValue:StringEquals":{"strata:TokenId":"tok-1"}}`, none, true},
		{`{"ForAnyValue:StringEquals":{"strata:TokenId":"tok-1"}}`, noToken, false},
		{`{"ForAnyValue:StringNotEquals":{"strata:TokenId":"x"}}`, noToken, false},
		{`{"ForAnyValue:StringNotEquals":{"strata:TokenId":"x"}}`, none, true},
		// Keys of one operator are ANDed, operators are ANDed.
		{`{"StringEquals":{"strata:username":"alice","strata:Via":"http"}}`, none, true},
		{`{"StringEquals":{"strata:username":"alice","strata:Via":"ssh"}}`, none, false},
		{`{"StringEquals":{"strata:username":"alice"},"Bool":{"strata:SecureTransport":"true"}}`, none, true},
		{`{"StringEquals":{"strata:username":"alice"},"Bool":{"strata:SecureTransport":"true"}}`, plain, false},
		// Key names are not case-sensitive.
		{`{"StringEquals":{"STRATA:USERNAME":"alice"}}`, none, true},
	} {
		pr, req := ctxCase()
		tc.mod(&pr, &req)
		if got := holds(t, tc.cond, pr, req); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.cond, got, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for s, ok := range map[string]bool{
		"0": true, "-1": true, "+1": true, "1.5": true, "1e3": true, "1E-3": true, "12345678901234567890": true,
		"": false, "1.": false, ".5": false, "0x10": false, "1_000": false, "Inf": false, "NaN": false, "1e": false, "--1": false, "1e400": false,
	} {
		if _, err := parseNumber(s); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}
